// Reputation scores survive a restart: written behind to the database
// (SQLite, PostgreSQL and MariaDB running on this machine) and restored.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageConfig } from '../../config/config-types.js';
import { openStorage } from '../../storage/database.js';
import { ReputationRepo } from '../../storage/reputation-repo.js';
import { ReputationService, DEFAULT_REPUTATION } from './reputation-service.js';

const skipExternal = process.env.PALISADE_SKIP_EXTERNAL_DB === '1';
const tmp = mkdtempSync(join(tmpdir(), 'palrep-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const prefix = () => `r${process.pid}_${Math.random().toString(36).slice(2, 7)}_`;

const BACKENDS: Array<{ name: string; external: boolean; cfg: () => StorageConfig }> = [
  { name: 'sqlite', external: false, cfg: () => ({ driver: 'sqlite', path: join(tmp, `${prefix()}.db`), tablePrefix: '' }) },
  {
    name: 'postgres',
    external: true,
    cfg: () => ({ driver: 'postgres', url: process.env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', tablePrefix: prefix() }),
  },
  { name: 'mariadb', external: true, cfg: () => ({ driver: 'mysql', url: process.env.PALISADE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test', tablePrefix: prefix() }) },
];

for (const b of BACKENDS) {
  describe(`reputation persistence on ${b.name}`, { skip: b.external && skipExternal ? 'PALISADE_SKIP_EXTERNAL_DB=1' : false }, () => {
    test('scores written behind are restored by a new process; updates overwrite; fraud numbers are kept once', async () => {
      const cfg = b.cfg();
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
