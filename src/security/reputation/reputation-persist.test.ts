// Reputation scores survive a restart: written behind to the database
// (SQLite, PostgreSQL and MariaDB running on this machine) and restored.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../storage/database.js';
import { ReputationRepo } from '../../storage/reputation-repo.js';
import { ReputationService, DEFAULT_REPUTATION } from './reputation-service.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const BACKENDS = storageBackends('r');

for (const b of BACKENDS) {
  describe(`reputation persistence on ${b.name}`, { skip: b.skip }, () => {
    test('scores written behind are restored by a new process; updates overwrite; fraud numbers are kept once', async () => {
      const cfg = await b.config();
      let db = await openStorage(cfg);
      try {
        const a = new ReputationService(DEFAULT_REPUTATION);
        a.authSucceeded('1001', '192.0.2.10');
        a.bad('ip:198.51.100.7');
        await a.stop(new ReputationRepo(db)); // the final flush
        a.bad('ip:198.51.100.7');
        await a.flush(new ReputationRepo(db)); // an update of an existing row
        assert.equal(await new ReputationRepo(db).addFraudNumbers(['88213', '37167', '88213'], 'test'), 2);
        assert.equal(await new ReputationRepo(db).addFraudNumbers(['88213'], 'test'), 0);
        await db.close();

        db = await openStorage(cfg);
        const fresh = new ReputationService(DEFAULT_REPUTATION);
        assert.equal(await fresh.restore(new ReputationRepo(db)), 3);
        assert.equal(fresh.score('user:1001'), 6);
        assert.equal(fresh.score('ip:192.0.2.10'), 6);
        assert.equal(fresh.score('ip:198.51.100.7'), 3.3);
        assert.deepEqual((await new ReputationRepo(db).loadFraudNumbers()).sort(), ['37167', '88213']);
        // rows older than 10 half-lives are pruned at restore
        await new ReputationRepo(db).saveMany([{ subject: 'ip:203.0.113.99', good: 0, bad: 1, updatedAt: Date.now() - 11 * DEFAULT_REPUTATION.halfLife * 1000 }]);
        assert.equal(await new ReputationService(DEFAULT_REPUTATION).restore(new ReputationRepo(db)), 3);
      } finally {
        await db.dropTables();
        await db.close();
      }
    });
  });
}
