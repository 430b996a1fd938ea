// The office module's table on the three database drivers: created by
// migrateModule, written through, read back by a fresh store (a restart).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../storage/database.js';
import type { StorageConfig } from '../../config/config-types.js';
import { DiversionStore, OFFICE_MIGRATIONS } from './diversion-store.js';

const tmp = mkdtempSync(join(tmpdir(), 'paloffice-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const prefix = (): string => `o${process.pid}_${Math.random().toString(36).slice(2, 7)}_`;
const skipExternal = process.env.PALISADE_SKIP_EXTERNAL_DB === '1';

async function pgConfig(): Promise<StorageConfig> {
  const urls = process.env.PALISADE_TEST_PG_URL ? [process.env.PALISADE_TEST_PG_URL] : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];
  let last: unknown;
  for (const url of urls) {
    const cfg: StorageConfig = { driver: 'postgres', url, tablePrefix: prefix() };
    try {
      const db = await openDatabase(cfg);
      await db.close();
      return cfg;
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

const BACKENDS: Array<{ name: string; external: boolean; config: () => Promise<StorageConfig> }> = [
  { name: 'sqlite', external: false, config: async () => ({ driver: 'sqlite', path: join(tmp, `${prefix()}.db`), tablePrefix: '' }) },
  { name: 'postgres', external: true, config: pgConfig },
  {
    name: 'mariadb',
    external: true,
    config: async () => ({ driver: 'mysql', url: process.env.PALISADE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test', tablePrefix: prefix() }),
  },
];

for (const backend of BACKENDS) {
  describe(`office_diversion on ${backend.name}`, { skip: backend.external && skipExternal ? 'PALISADE_SKIP_EXTERNAL_DB=1' : false }, () => {
    test('DND and forwards are stored, replaced, and read back after a restart', async () => {
      const cfg = await backend.config();
      const db: Database = await openDatabase(cfg);
      try {
        await db.migrate();
        assert.equal(await db.migrateModule('office', OFFICE_MIGRATIONS), 1);
        assert.equal(await db.migrateModule('office', OFFICE_MIGRATIONS), 1, 'idempotent');
        const store = new DiversionStore(db.kysely as never);
        assert.equal(await store.load(), 0);
        await store.setDnd('1001', true);
        await store.setForward('1001', 'busy', '1002');
        await store.setForward('1003', 'noanswer', '1002', 15);
        await store.setForward('1003', 'always', '1004');
        await store.setForward('1003', 'always', '');
        const again = new DiversionStore(db.kysely as never);
        assert.equal(await again.load(), 2);
        assert.deepEqual(again.of('1001'), { dnd: true, always: '', busy: '1002', noAnswer: '', noAnswerSecs: 20 });
        assert.deepEqual(again.of('1003'), { dnd: false, always: '', busy: '', noAnswer: '1002', noAnswerSecs: 15 });
        assert.equal(again.of('1002'), undefined);
      } finally {
        await db.dropTables();
        await db.close();
      }
    });
  });
}
