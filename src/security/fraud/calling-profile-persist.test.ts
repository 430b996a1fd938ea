// Learned calling profiles survive a restart: written behind to the database
// (SQLite, PostgreSQL and MariaDB running on this machine), restored by a
// new process, and judged as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../storage/database.js';
import { CallingProfileRepo } from '../../storage/calling-profile-repo.js';
import { CallingProfiles, DEFAULT_ANOMALY } from './calling-profile.js';
import { CallingProfileStore } from './calling-profile-store.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const BACKENDS = storageBackends('p');

const CFG = { ...DEFAULT_ANOMALY, minCalls: 20 };
const HOUR = 3_600_000;
const noError = (err: Error) => assert.fail(`profile write failed: ${err.message}`);

for (const b of BACKENDS) {
  describe(`calling profiles on ${b.name}`, { skip: b.skip }, () => {
    test('a learned profile is written behind, survives close and reopen, and judges calls as before', async () => {
      const cfg = await b.config();
      let db = await openStorage(cfg);
      try {
        const now = Date.now();
        const a = new CallingProfiles(CFG);
        const store = new CallingProfileStore(a, new CallingProfileRepo(db), noError, 60_000);
        store.start();
        // an office phone: 24 calls over two days to London, with their lengths
        for (let i = 0; i < 24; i++) {
          const t = now - 2 * 86_400_000 + i * HOUR;
          a.learn('ext:1001', '+4420', t);
          a.learnLength('ext:1001', 60 + i);
        }
        a.learn('ext:1001', '+4420', now - 60_000); // within the last hour
        a.learn('trunk:carrier', '+4416', now);
        assert.deepEqual(await new CallingProfileRepo(db).loadAll(), [], 'nothing written on the call path');
        await store.stop(); // the final flush
        a.learn('ext:1001', '+4420', now); // after stop: not written
        await db.close();

        db = await openStorage(cfg);
        const fresh = new CallingProfiles(CFG);
        assert.equal(await new CallingProfileStore(fresh, new CallingProfileRepo(db), noError).restore(), 2);
        const want = a.state('trunk:carrier', now)!;
        assert.deepEqual(fresh.state('trunk:carrier', now), want);
        const got = fresh.state('ext:1001', now)!;
        assert.equal(got.calls, 25, 'the state when the store stopped');
        assert.deepEqual(got.dests, ['+4420']);
        assert.deepEqual(got.recent, [now - 60_000]);
        assert.equal(got.lenN, 24);
        assert.ok(Math.abs(got.lenMean - 71.5) < 1e-9);
        assert.equal(
          got.hours.reduce((x, y) => x + y, 0),
          25,
        );
        // judged as before the restart
        assert.deepEqual(
          fresh.check('ext:1001', '+2341', now).filter((f) => f === 'new-destination'),
          ['new-destination'],
        );
        assert.ok(!fresh.check('ext:1001', '+4420', now).includes('new-destination'));
      } finally {
        await db.dropTables();
        await db.close();
      }
    });

    test('updates overwrite the stored profile; 5,000 long destinations fit', async () => {
      const cfg = await b.config();
      const db = await openStorage(cfg);
      try {
        const now = Date.now();
        const p = new CallingProfiles(CFG);
        const store = new CallingProfileStore(p, new CallingProfileRepo(db), noError, 10);
        store.start();
        // dialled strings that are not E.164 are their own destinations: 5,000 of 20 digits
        for (let i = 0; i < 5000; i++) p.learn('ext:2002', '9' + String(i).padStart(19, '0'), now);
        await store.stop();
        store.start();
        p.learn('ext:2002', '+4420', now + 1);
        await store.stop();
        const rows = await new CallingProfileRepo(db).loadAll();
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.calls, 5001);
        assert.equal(rows[0]!.dests.length, 5000, 'capped at 5,000 destinations, as in memory');
      } finally {
        await db.dropTables();
        await db.close();
      }
    });

    test('a dropped profile is deleted from the table, after a write of it already queued; the next holder of the number starts from nothing', async () => {
      const db = await openStorage(await b.config());
      try {
        const now = Date.now();
        const repo = new CallingProfileRepo(db);
        const p = new CallingProfiles(CFG);
        const store = new CallingProfileStore(p, repo, noError, 60_000);
        store.start();
        for (let i = 0; i < 21; i++) {
          p.learn('ext:1001', '+4420', now - i * HOUR);
          p.learn('ext:1002', '+4416', now - i * HOUR);
        }
        p.learn('trunk:carrier', '+4420', now);
        await store.stop();
        const principals = async () => (await repo.loadAll()).map((r) => r.principal).sort();
        assert.deepEqual(await principals(), ['ext:1001', 'ext:1002', 'trunk:carrier']);

        store.start();
        p.learn('ext:1001', '+4420', now); // its write is queued for a minute
        assert.deepEqual(
          p.drop((id) => id === 'ext:1001'),
          ['ext:1001'],
        );
        await store.forget(['ext:1001']);
        assert.deepEqual(await principals(), ['ext:1002', 'trunk:carrier'], 'deleted, and the queued write did not put it back');

        p.learn('ext:1001', '+2341', now + 1);
        await store.stop();
        const fresh = new CallingProfiles(CFG);
        await new CallingProfileStore(fresh, repo, noError).restore();
        assert.equal(fresh.state('ext:1001', now)!.calls, 1, "the new holder's one call, none of the old");
        assert.deepEqual(fresh.check('ext:1001', '+2341', now + 2), [], 'learning again');
        assert.equal(fresh.state('ext:1002', now)!.calls, 21);
      } finally {
        await db.dropTables();
        await db.close();
      }
    });

    test('deleteMany deletes the principals named (in chunks), counts them, and takes unknown ones as done', async () => {
      const db = await openStorage(await b.config());
      try {
        const repo = new CallingProfileRepo(db);
        const now = Date.now();
        const row = (principal: string) => ({
          principal,
          calls: 1,
          firstAt: now,
          hours: new Array(24).fill(0),
          dests: [],
          recent: [],
          lenN: 0,
          lenMean: 0,
          lenM2: 0,
          updatedAt: now,
        });
        const names = Array.from({ length: 260 }, (_, i) => `ext:${5000 + i}`);
        await repo.saveMany(names.map(row));
        const gone = names.filter((_, i) => i % 2 === 0);
        assert.equal(await repo.deleteMany([...gone, 'ext:nosuch', 'trunk:nosuch']), 130);
        assert.equal(await repo.deleteMany(gone), 0, 'again: nothing left to delete');
        assert.equal(await repo.deleteMany([]), 0);
        const left = (await repo.loadAll()).map((r) => r.principal).sort();
        assert.deepEqual(
          left,
          names.filter((_, i) => i % 2 === 1),
        );
      } finally {
        await db.dropTables();
        await db.close();
      }
    });
  });
}
