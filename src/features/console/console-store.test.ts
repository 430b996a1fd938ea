// The console module's tables on the three drivers (as the storage tests
// run: PostgreSQL and MariaDB of this machine, PALISADE_SKIP_EXTERNAL_DB=1 to
// skip them): accounts, tokens, the change log with its filters and paging,
// disabled extensions, settings; and a backup's database part round-tripped
// (SQLite's online copy, or every table as JSON in one transaction).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageConfig } from '../../config/config-types.js';
import type { LoadedConfig } from '../../security/config/load-config.js';
import { openStorage, type Database } from '../../storage/database.js';
import { CONSOLE_MIGRATIONS, ConsoleStore } from './console-store.js';
import { makeBackup, restoreBackup } from './backup.js';
import { hashPassword, newToken, verifyPassword } from './credentials.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const tmp = mkdtempSync(join(tmpdir(), 'palconsole-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const prefix = () => `c${process.pid}_${Math.random().toString(36).slice(2, 7)}_`;

const BACKENDS = storageBackends('k');

for (const backend of BACKENDS) {
  describe(`console tables on ${backend.name}`, { skip: backend.skip }, () => {
    let cfg: StorageConfig;
    let db: Database;
    let store: ConsoleStore;

    before(async () => {
      cfg = await backend.config();
      db = await openStorage(cfg);
      store = new ConsoleStore(db);
      assert.equal(await store.migrate(), 2);
      assert.equal(await store.migrate(), 2, 'idempotent');
    });

    after(async () => {
      if (!db) return;
      await db.dropTables();
      await db.close();
    });

    test('accounts: scrypt hashes, role, TOTP secret; update keeps created_at', async () => {
      const hash = await hashPassword('Correct-Horse-7QpZ');
      await store.putAccount({ name: 'alice', role: 'admin', passwordHash: hash, totpSecret: null });
      await store.putAccount({ name: 'bob', role: 'auditor', passwordHash: hash, totpSecret: null });
      const first = (await store.accounts()).find((a) => a.name === 'alice')!;
      await store.putAccount({ ...first, role: 'operator', totpSecret: 'JBSWY3DPEHPK3PXP' });
      const a = (await store.accounts()).find((x) => x.name === 'alice')!;
      assert.equal(a.role, 'operator');
      assert.equal(a.totpSecret, 'JBSWY3DPEHPK3PXP');
      assert.equal(a.createdAt, first.createdAt);
      assert.equal(await verifyPassword('Correct-Horse-7QpZ', a.passwordHash), true);
      assert.equal(await verifyPassword('Correct-Horse-7QpX', a.passwordHash), false);
    });

    test('tokens: only the hash is kept; removing an account removes its tokens', async () => {
      const t = newToken();
      await store.addToken({ id: t.id, account: 'bob', label: 'grafana', role: 'auditor', hash: t.hash, createdAt: 1, expiresAt: 2_000_000_000_000 });
      const rows = await store.tokens();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.expiresAt, 2_000_000_000_000);
      assert.ok(!JSON.stringify(rows).includes(t.secret));
      assert.equal(await store.deleteAccount('bob'), true);
      assert.equal((await store.tokens()).length, 0);
    });

    test('change log: insert, filter, page, newest first; before/after as JSON', async () => {
      for (let i = 0; i < 5; i++) {
        await store.logChange({
          actor: i % 2 ? 'alice' : 'carol',
          role: 'admin',
          via: 'session',
          remote: '127.0.0.1',
          action: 'extension.update',
          target: `10${i}`,
          before: { n: i },
          after: { n: i + 1 },
        });
      }
      const all = await store.changes({ limit: 10, offset: 0 });
      assert.equal(all.total, 5);
      assert.deepEqual(
        all.rows.map((r) => r.target),
        ['104', '103', '102', '101', '100'],
      );
      assert.deepEqual(all.rows[0]!.after, { n: 5 });
      const alice = await store.changes({ limit: 1, offset: 1, actor: 'alice' });
      assert.equal(alice.total, 2);
      assert.deepEqual(
        alice.rows.map((r) => r.target),
        ['101'],
      );
    });

    test('disabled extensions and settings', async () => {
      await store.setDisabled('2001', { number: '2001', name: 'x' });
      await store.setDisabled('2001', { number: '2001', name: 'y' });
      assert.deepEqual(
        (await store.disabledExtensions()).map((d) => d.record.name),
        ['y'],
      );
      assert.equal(await store.clearDisabled('2001'), true);
      assert.equal(await store.clearDisabled('2001'), false);
      await store.setSetting('last_backup', '1');
      await store.setSetting('last_backup', '2');
      assert.equal(await store.setting('last_backup'), '2');
      assert.equal(await store.setting('nothing'), null);
    });

    test("an older console's disabled extensions (an upgrade, or a backup of before it restored) move to the core's table, once", async () => {
      const oldCfg = { ...cfg, tablePrefix: prefix() };
      const old = await openStorage(oldCfg);
      try {
        assert.equal(await old.migrateModule('console', CONSOLE_MIGRATIONS.slice(0, 1)), 1);
        // biome-ignore lint/suspicious/noExplicitAny: the console's own table of version 1
        const k = old.kysely as any;
        await k
          .insertInto('console_disabled_extensions')
          .values([
            { number: '3001', record_json: JSON.stringify({ number: '3001', name: 'Ada' }), disabled_at: 1000 },
            { number: '3002', record_json: JSON.stringify({ number: '3002', name: 'Bo' }), disabled_at: 2000 },
          ])
          .execute();
        // a row of the database a backup is restored over: the backup's rows replace it
        await old.extensions.setDisabled('3009', { number: '3009', name: 'stale' });
        const upgraded = new ConsoleStore(old);
        assert.equal(await upgraded.migrate(), 2);
        assert.deepEqual(
          (await upgraded.disabledExtensions()).map((d) => [d.number, d.record.name, d.disabledAt]),
          [
            ['3001', 'Ada', 1000],
            ['3002', 'Bo', 2000],
          ],
        );
        assert.deepEqual((await old.extensions.disabledNumbers()).sort(), ['3001', '3002']);
        assert.deepEqual(await k.selectFrom('console_disabled_extensions').selectAll().execute(), [], 'the old table is left empty');
        assert.equal(await upgraded.migrate(), 2, 'idempotent');
      } finally {
        await old.dropTables();
        await old.close();
      }
    });

    test("a backup's database part restores every table's rows", async () => {
      const conf = join(tmp, `${prefix()}.yaml`);
      writeFileSync(conf, 'sip: {}\n');
      const fake = {
        configFile: conf,
        storage: cfg,
        dialplan: { file: null },
        voicemail: { file: null, spoolDir: join(tmp, 'no-spool') },
        tls: null,
        prompts: { customDir: null },
        security: { ids: { stateFile: '' } },
      } as unknown as LoadedConfig;
      const archive = join(tmp, `${prefix()}.tar.gz`);
      await makeBackup(fake, db, archive);
      await store.logChange({ actor: 'late', role: 'admin', via: 'cli', remote: 'local', action: 'after.backup', target: 'x' });
      await store.setSetting('last_backup', 'changed');
      if (cfg.driver === 'sqlite') {
        await db.close();
        await restoreBackup(archive, fake, () => openStorage(cfg));
        db = await openStorage(cfg);
        store = new ConsoleStore(db);
      } else {
        await restoreBackup(archive, fake, () => openStorage(cfg));
      }
      const after = await store.changes({ limit: 100, offset: 0 });
      assert.equal(after.total, 5, 'the change made after the backup is gone');
      assert.equal(await store.setting('last_backup'), '2');
      assert.deepEqual(
        (await store.accounts()).map((a) => a.name),
        ['alice'],
      );
    });
  });
}
