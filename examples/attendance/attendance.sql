-- The university attendance database the example IVR reads (SQLite).
--   sqlite3 attendance.db < attendance.sql
-- PINs are not stored: pin_sha256 is the hex SHA-256 of "student_id:pin",
-- which the dialplan computes with ${SHA256(${ID}:${PIN})} and passes to the
-- query as a bound parameter. The student ID salts the hash, so two students
-- with the same PIN have different hashes. (A 4-digit PIN has only 10,000
-- values: the hash keeps PINs out of sight of whoever reads the table, it
-- does not make them strong. Keep this file readable by Palisade only.)
--
-- Sample students (ID / PIN / figure):
--   240001 / 7294 / 80 %    240002 / 5820 / 75 %
--   240003 / 3916 / 100 %   240004 / 8042 / 50 %

CREATE TABLE students (
  student_id TEXT PRIMARY KEY CHECK (student_id GLOB '[0-9]*'),
  name       TEXT NOT NULL,
  pin_sha256 TEXT NOT NULL CHECK (length(pin_sha256) = 64)
);

CREATE TABLE sessions (
  student_id   TEXT NOT NULL REFERENCES students(student_id),
  session_date TEXT NOT NULL,
  present      INTEGER NOT NULL CHECK (present IN (0, 1)),
  PRIMARY KEY (student_id, session_date)
);

INSERT INTO students (student_id, name, pin_sha256) VALUES
  ('240001', 'Ada Lovelace',    '816a5704492db9e4127aaaf7208db83ca3764f968f96c9ac711018084eeaa9a2'),
  ('240002', 'Brian Kernighan', '102aa701021a549f376981929f4fb6f9a3be9783a9365c0f5098cd789cd9f9e7'),
  ('240003', 'Grace Hopper',    'b962eb2dec69cb29e91897d6f362aba9102d00690575234fbfa83c588980aaf8'),
  ('240004', 'Alan Turing',     '9024cb67363c766d80d157b4b02c7565fd82a09d7a90e4f7e92007c165bb47e7');

-- 20 teaching days from 1 September 2026; each student misses a pattern of them
WITH RECURSIVE day(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM day WHERE i < 20)
INSERT INTO sessions (student_id, session_date, present)
SELECT '240001', date('2026-09-01', '+' || i || ' days'), CASE WHEN i % 5 = 0 THEN 0 ELSE 1 END FROM day
UNION ALL
SELECT '240002', date('2026-09-01', '+' || i || ' days'), CASE WHEN i % 4 = 0 THEN 0 ELSE 1 END FROM day
UNION ALL
SELECT '240003', date('2026-09-01', '+' || i || ' days'), 1 FROM day
UNION ALL
SELECT '240004', date('2026-09-01', '+' || i || ' days'), i % 2 FROM day;
