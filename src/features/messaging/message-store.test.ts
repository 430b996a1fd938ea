// The store-and-forward table on SQLite, PostgreSQL and MariaDB (the
// machine's servers, as src/storage/storage.test.ts): created by the
// module's migration, messages kept and read back oldest first with their
// bytes intact, the per-recipient cap, delivery removes, expiry drops.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { openDatabase } from '../../storage/database.js';
import { MessageStore, MESSAGING_MIGRATIONS } from './message-store.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const BACKENDS = storageBackends('m');

for (const b of BACKENDS) {
  describe(`messaging store on ${b.name}`, { skip: b.skip }, () => {
    test('migrate, put, read oldest first, cap per recipient, remove, expire', async () => {
      const db = await openDatabase(await b.config());
      try {
        assert.equal(await db.migrateModule('messaging', MESSAGING_MIGRATIONS), 1);
        // biome-ignore lint/suspicious/noExplicitAny: the module's table is not in the core's Tables
        const k = db.kysely as unknown as Kysely<any>;
        const store = new MessageStore(k);
        assert.equal(await store.load(), 0);
        const t0 = 1_700_000_000_000;
        const body = Buffer.from([0xe2, 0x82, 0xac, 0x00, 0xff, 0x0a]);
        const m = (n: number, to = '1002') => ({
          recipient: to,
          sender: '1001',
          senderName: 'Alice "A"',
          contentType: 'text/plain;charset=UTF-8',
          body,
          createdAt: t0 + n,
          expiresAt: t0 + 1000 + n,
        });
        const second = await store.put(m(2), 3);
        const first = await store.put(m(1), 3);
        await store.put(m(3), 3);
        assert.equal(await store.put(m(4), 3), null, 'the fourth for the same recipient is refused');
        assert.ok(await store.put(m(5, '1003'), 3));
        assert.equal(store.pending('1002'), 3);
        const got = await store.forRecipient('1002');
        assert.deepEqual(
          got.map((x) => x.id),
          [first!.id, second!.id, got[2]!.id],
        );
        assert.deepEqual(got[0]!.body, body);
        assert.equal(got[0]!.senderName, 'Alice "A"');
        assert.equal(got[0]!.createdAt, t0 + 1);
        await store.remove(got[0]!);
        assert.equal(store.pending('1002'), 2);
        // a restart counts what is in the table
        const again = new MessageStore(k);
        assert.equal(await again.load(), 3);
        assert.equal(again.pending('1002'), 2);
        const gone = await again.expire(t0 + 1002);
        assert.deepEqual(gone.map((x) => x.createdAt).sort(), [t0 + 2]);
        assert.equal(again.pending('1002'), 1);
        assert.equal(again.total, 2);
      } finally {
        await db.dropTables();
        await db.close();
      }
    });
  });
}
