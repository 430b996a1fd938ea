// The office module's table on the three database drivers: created by
// migrateModule, written through, read back by a fresh store (a restart).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../../storage/database.js';
import { DiversionStore, OFFICE_MIGRATIONS } from './diversion-store.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const BACKENDS = storageBackends('o');

for (const backend of BACKENDS) {
  describe(`office_diversion on ${backend.name}`, { skip: backend.skip }, () => {
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
