import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1 } from '../sip/auth/ha1.js';
import { checkPin, checkSecret, generateSecret } from '../security/passwords/index.js';
import { openDatabase } from '../storage/database.js';
import { parseUsersCsv, runUsersImport, splitCsvLine } from './cmd-users-import.js';
import { runCheck } from './cmd-check.js';

const dir = mkdtempSync(join(tmpdir(), 'palimport-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A site directory with a config whose SQLite path is relative to it. */
function site(name: string): { cfg: string; dbPath: string; dir: string } {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const cfg = join(d, 'palisade.yaml');
  writeFileSync(cfg, `sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\n  realm: office\nstorage:\n  path: var/pbx.db\n`);
  return { cfg, dbPath: join(d, 'var/pbx.db'), dir: d };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

test('splitCsvLine handles quotes, doubled quotes and spaces', () => {
  assert.deepEqual(splitCsvLine('1001, s3cret ,"Smith, Alice","a@b.org"'), ['1001', 's3cret', 'Smith, Alice', 'a@b.org']);
  assert.deepEqual(splitCsvLine('1001,"say ""hi""",'), ['1001', 'say "hi"', '']);
  assert.equal(splitCsvLine('1001,"open'), null);
});

test('parseUsersCsv reports every bad line with its number and reason', () => {
  const text = [
    'number,secret,name,email',
    '# staff',
    '',
    '1001,xk4Lm9Qz2Wp8,Alice,alice@example.org',
    '10x2,xk4Lm9Qz2Wp9',
    '1003,short',
    '1001,Zq8vLwRt5mKp,Again',
    '1005,Qw7mZt1005kP',
    '1006,Zq8vLwRt5mKp,Eve,not-an-email',
    '1007',
  ].join('\n');
  const { lines, errors } = parseUsersCsv(text, 'users.csv');
  assert.deepEqual(
    lines.map((l) => l.number),
    ['1001', '1006'],
  );
  assert.equal(errors.length, 6);
  assert.match(errors[0]!, /^users\.csv:5: extension number "10x2" is not valid/);
  assert.match(errors[1]!, /^users\.csv:6: secret for 1003 is too weak \(is shorter than 12 characters\); use a generated one such as [A-Za-z2-9]{20}$/);
  assert.match(errors[2]!, /^users\.csv:7: extension 1001 is already on line 4/);
  assert.match(errors[3]!, /^users\.csv:8: secret for 1005 is too weak \(contains the extension number\); use a generated one such as /);
  assert.match(errors[4]!, /^users\.csv:9: email for 1006 "not-an-email" is not an address/);
  assert.match(errors[5]!, /^users\.csv:10: has 1 field; expected number,secret\[,name\[,email\[,voicemail\]\]\]/);
});

test('parseUsersCsv: the voicemail field gives a PIN, asks for a generated one (empty, yes, absent) or says no', () => {
  const s = () => generateSecret();
  const text = [
    'number,secret,name,email,voicemail',
    `1001,${s()},Alice,alice@example.org,729164`,
    `1002,${s()},Bob,,no`,
    `1003,${s()},Carol,carol@example.org,`,
    `1004,${s()},Dave,,YES`,
    `1005,${s()},Erin,erin@example.org`,
    `1006,${s()}`,
  ].join('\n');
  const { lines, errors } = parseUsersCsv(text, 'users.csv');
  assert.deepEqual(errors, []);
  assert.deepEqual(
    lines.map((l) => [l.number, l.email, l.voicemail, l.pin]),
    [
      ['1001', 'alice@example.org', true, '729164'],
      ['1002', null, false, null],
      ['1003', 'carol@example.org', true, null],
      ['1004', null, true, null],
      ['1005', 'erin@example.org', true, null],
      ['1006', null, true, null],
    ],
  );
});

test('parseUsersCsv: a weak or malformed voicemail PIN is refused with its line, never echoed', () => {
  const s = () => generateSecret();
  const text = [`1001,${s()},Alice,,123456`, `1002,${s()},Bob,,831002`, `1003,${s()},Carol,,12ab9x`, `1004,${s()},Dave,,8264`, `1005,${s()},Erin,,582947,extra`].join('\n');
  const { lines, errors } = parseUsersCsv(text, 'users.csv', { pinMinLength: 6 });
  assert.deepEqual(lines, []);
  assert.equal(errors.length, 5);
  assert.match(errors[0]!, /^users\.csv:1: voicemail PIN for 1001 is weak \(.+\); leave the field empty and a PIN is generated$/);
  assert.match(errors[1]!, /^users\.csv:2: voicemail PIN for 1002 is weak \(.*mailbox number.*\)/);
  assert.match(errors[2]!, /^users\.csv:3: voicemail for 1003 is neither a PIN nor yes or no; expected digits/);
  assert.match(errors[3]!, /^users\.csv:4: voicemail PIN for 1004 is weak \(must be at least 6 digits\)/);
  assert.match(errors[4]!, /^users\.csv:5: has 6 fields; expected number,secret\[,name\[,email\[,voicemail\]\]\]/);
  for (const [i, pin] of ['123456', '12ab9x', '8264'].entries()) assert.ok(!errors[[0, 2, 3][i]!]!.includes(pin), 'the PIN is not repeated');
  // the default minimum is 4 digits (voicemail.pin_min_length)
  assert.deepEqual(parseUsersCsv(`1004,${s()},Dave,,8264`, 'u.csv').errors, []);
});

test('users import: 1,000 lines land as HA1s for the configured realm, quickly, in one go', async () => {
  const s = site('thousand');
  const secrets = new Map<string, string>();
  const rows = ['number,secret,name,email'];
  for (let i = 0; i < 1000; i++) {
    const n = String(20000 + i);
    // a random secret can contain the owner's name or number by chance (the
    // name here has digits); a provisioning script regenerates until accepted
    let secret = generateSecret();
    while (!checkSecret(secret, { kind: 'sip', extension: n, name: `User, ${i}` }).ok) secret = generateSecret();
    secrets.set(n, secret);
    rows.push(`${n},${secret},"User, ${i}",u${i}@example.org`);
  }
  const csv = join(s.dir, 'users.csv');
  writeFileSync(csv, rows.join('\n') + '\n');
  const c = capture();
  const t0 = performance.now();
  assert.equal(await runUsersImport([csv, '--config', s.cfg], c.io), 0, c.err.join(''));
  const ms = performance.now() - t0;
  assert.deepEqual(c.out, ['imported 1000 extensions\n']);
  assert.equal(c.err.join('').match(/voicemail PIN: [0-9]{6}$/gm)?.length, 1000, 'every new mailbox has its PIN shown');
  assert.ok(ms < 3000, `import took ${ms} ms`);

  const db = await openDatabase({ driver: 'sqlite', path: s.dbPath, tablePrefix: '' });
  try {
    const all = await db.extensions.list();
    assert.equal(all.length, 1000);
    const e = await db.extensions.get('20007');
    assert.equal(e!.name, 'User, 7');
    assert.equal(e!.email, 'u7@example.org');
    assert.equal(e!.realm, 'office');
    assert.equal(e!.context, 'default');
    assert.equal(e!.ha1Md5, computeHa1('MD5', '20007', 'office', secrets.get('20007')!));
    assert.equal(e!.ha1Sha256, computeHa1('SHA-256', '20007', 'office', secrets.get('20007')!));
    const dump = JSON.stringify(all);
    assert.ok(![...secrets.values()].slice(0, 50).some((sec) => dump.includes(sec)), 'no clear secret is stored');
  } finally {
    await db.close();
  }
});

test('users import: one bad line imports nothing and exits 1', async () => {
  const s = site('bad');
  const csv = join(s.dir, 'users.csv');
  writeFileSync(csv, `1001,${generateSecret()}\n1002,${generateSecret()}\n\n# next one is weak\n1006,Qw7mZt1006kP\n`);
  const c = capture();
  assert.equal(await runUsersImport([csv, '--config', s.cfg], c.io), 1);
  assert.match(c.err[0]!, new RegExp(`^${csv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: secret for 1006 is too weak \\(contains the extension number\\)`));
  assert.match(c.err.at(-1)!, /nothing imported: 1 line to fix/);
  const db = await openDatabase({ driver: 'sqlite', path: s.dbPath, tablePrefix: '' });
  try {
    await db.migrate();
    assert.deepEqual(await db.extensions.list(), []);
  } finally {
    await db.close();
  }
});

test('users import: re-import updates the secret and keeps settings; usage errors exit 2', async () => {
  const s = site('again');
  const csv = join(s.dir, 'users.csv');
  writeFileSync(csv, `1001,${generateSecret()},Alice\n`);
  assert.equal(await runUsersImport(['--config', s.cfg, csv, '--context', 'office'], capture().io), 0);
  const second = generateSecret();
  writeFileSync(csv, `1001,${second}\n`);
  assert.equal(await runUsersImport([csv, '--config', s.cfg], capture().io), 0);
  const db = await openDatabase({ driver: 'sqlite', path: s.dbPath, tablePrefix: '' });
  try {
    const e = await db.extensions.get('1001');
    assert.equal(e!.name, 'Alice');
    assert.equal(e!.context, 'office');
    assert.equal(e!.ha1Md5, computeHa1('MD5', '1001', 'office', second));
  } finally {
    await db.close();
  }
  assert.equal(await runUsersImport([csv], capture().io), 2);
});

test('check: prints OK with the extension count, or every error one per line', async () => {
  const s = site('check');
  const ok = capture();
  assert.equal(await runCheck(['--config', s.cfg], ok.io), 0);
  assert.deepEqual(ok.out, ['OK: 0 extensions, listen udp:127.0.0.1:5060, storage sqlite\n']);
  const bad = join(s.dir, 'bad.yaml');
  writeFileSync(bad, `sip:\n  listen: [udp:127.0.0.1]\n  domain: pbx.example.org\n  wrokers: 2\n`);
  const c = capture();
  assert.equal(await runCheck(['--config', bad], c.io), 1);
  assert.equal(c.err.length, 3);
  assert.match(c.err[0]!, /bad\.yaml:2:12: sip\.listen\[0\] "udp:127\.0\.0\.1" lacks a port/);
  assert.match(c.err[1]!, /bad\.yaml:4:3: unknown key sip\.wrokers; did you mean workers\?/);
  assert.equal(c.err[2], `2 errors in ${bad}\n`);
  assert.equal(await runCheck([], capture().io), 2);
});

/** "extension N (Name)  voicemail PIN: P" lines of the import's terminal output */
function shownPins(err: string[]): Map<string, string> {
  return new Map([...err.join('').matchAll(/^ {2}extension ([0-9]+) \(.*\) {2}voicemail PIN: ([0-9]+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

test('users import: every imported user gets a mailbox with its e-mail; a generated PIN is shown once on the terminal, a given one stored, no means none', async () => {
  const s = site('mailboxes');
  const csv = join(s.dir, 'users.csv');
  writeFileSync(
    csv,
    [
      `2001,${generateSecret()},Alice,alice@example.org`,
      `2002,${generateSecret()},Bob,bob@example.org,no`,
      `2003,${generateSecret()},Carol,,739162`,
      `2004,${generateSecret()}`,
    ].join('\n') + '\n',
  );
  const c = capture();
  assert.equal(await runUsersImport([csv, '--config', s.cfg], c.io), 0, c.err.join(''));
  const pins = shownPins(c.err);
  assert.deepEqual([...pins.keys()], ['2001', '2004'], 'generated PINs only: a given PIN is known already');
  for (const [n, pin] of pins) assert.equal(checkPin(pin, { mailbox: n, minLength: 6 }).ok, true);
  assert.ok(!c.out.join('').match(/[0-9]{6}/), 'no PIN on stdout');

  const db = await openDatabase({ driver: 'sqlite', path: s.dbPath, tablePrefix: '' });
  try {
    const got = Object.fromEntries((await db.extensions.list()).map((e) => [e.number, [e.voicemail, e.voicemailPin, e.email]]));
    assert.deepEqual(got, {
      '2001': [true, pins.get('2001'), 'alice@example.org'],
      '2002': [false, null, 'bob@example.org'],
      '2003': [true, '739162', null],
      '2004': [true, pins.get('2004'), null],
    });
  } finally {
    await db.close();
  }

  // a re-import keeps each mailbox's PIN and shows nothing; a given PIN replaces it; no removes the mailbox
  writeFileSync(csv, [`2001,${generateSecret()}`, `2003,${generateSecret()},,,no`, `2004,${generateSecret()},,,582947`].join('\n') + '\n');
  const again = capture();
  assert.equal(await runUsersImport([csv, '--config', s.cfg], again.io), 0, again.err.join(''));
  assert.equal(shownPins(again.err).size, 0);
  const db2 = await openDatabase({ driver: 'sqlite', path: s.dbPath, tablePrefix: '' });
  try {
    assert.equal((await db2.extensions.get('2001'))!.voicemailPin, pins.get('2001'));
    assert.deepEqual([(await db2.extensions.get('2003'))!.voicemail, (await db2.extensions.get('2003'))!.voicemailPin], [false, null]);
    assert.equal((await db2.extensions.get('2004'))!.voicemailPin, '582947');
  } finally {
    await db2.close();
  }
});

test('users import: a mailbox voicemail.conf defines keeps its PIN there; giving one in the file is refused with both places', async () => {
  const s = site('vmconf');
  writeFileSync(join(s.dir, 'voicemail.conf'), '[default]\n3001 => 583920,Alice\n');
  writeFileSync(s.cfg, `sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\nstorage:\n  path: var/pbx.db\nvoicemail:\n  file: voicemail.conf\n`);
  const csv = join(s.dir, 'users.csv');
  writeFileSync(csv, `3001,${generateSecret()},Alice,,748261\n`);
  const bad = capture();
  assert.equal(await runUsersImport([csv, '--config', s.cfg], bad.io), 1);
  assert.equal(
    bad.err[0],
    `${csv}:1: mailbox 3001@default is defined in ${join(s.dir, 'voicemail.conf')}:2, whose PIN applies; change it there or leave the voicemail field empty\n`,
  );
  writeFileSync(csv, `3001,${generateSecret()},Alice\n`);
  const ok = capture();
  assert.equal(await runUsersImport([csv, '--config', s.cfg], ok.io), 0, ok.err.join(''));
  assert.equal(shownPins(ok.err).size, 0, 'no PIN that would never apply is shown');
  const db = await openDatabase({ driver: 'sqlite', path: s.dbPath, tablePrefix: '' });
  try {
    const e = await db.extensions.get('3001');
    assert.deepEqual([e!.voicemail, e!.voicemailPin], [true, null]);
  } finally {
    await db.close();
  }
});
