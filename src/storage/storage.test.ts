// One repository suite run against SQLite (temp file), PostgreSQL and
// MariaDB on this machine. The external servers are required: if one is
// unreachable the suite fails, unless PALISADE_SKIP_EXTERNAL_DB=1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StorageConfig } from '../config/config-types.js';
import { openDatabase, type Database } from './database.js';
import type { StoredBinding } from './location-types.js';
import type { CdrInput } from './cdr-repo.js';
import type { ExtensionRecord } from './extension-repo.js';
import { MIGRATIONS } from './schema.js';
import { ReputationRepo } from './reputation-repo.js';
import { CallingProfileRepo } from './calling-profile-repo.js';
import type { Kysely } from 'kysely';
import { storageBackends } from '../../test/support/storage-backends.js';

function prefix(): string {
  return `t${process.pid}_${Math.random().toString(36).slice(2, 7)}_`;
}

const BACKENDS = storageBackends('t');

function binding(aor: string, n: number, over: Partial<StoredBinding> = {}): StoredBinding {
  return {
    aor,
    contactUri: `sip:${aor}@127.0.0.1:${5060 + n};transport=udp`,
    contactHeader: `"Alice" <sip:${aor}@127.0.0.1:${5060 + n};transport=udp>;expires=3600;+sip.instance="<urn:uuid:0001>"`,
    expiresAt: Date.now() + 3_600_000,
    received: `udp:127.0.0.1:${5060 + n}`,
    callId: `call-${aor}-${n}@host`,
    cseq: 1,
    userAgent: 'baresip v3',
    q: 0.5,
    instanceId: '<urn:uuid:0001>',
    regId: 1,
    ...over,
  };
}

function cdr(i: number, over: Partial<CdrInput> = {}): CdrInput & { start: number } {
  const start = Date.UTC(2024, 0, 1, 12, 0, 0) + i * 1000;
  return {
    src: '1001',
    dst: '1002',
    clid: '"Alice" <1001>',
    dcontext: 'internal',
    channel: `SIP/1001-${i}`,
    dstchannel: `SIP/1002-${i}`,
    lastapp: 'Dial',
    lastdata: 'SIP/1002,30',
    start,
    answer: start + 2000,
    end: start + 62_000,
    disposition: 'ANSWERED',
    uniqueid: `u-${i}`,
    sourceIp: '127.0.0.1',
    securityVerdict: 'clean',
    ...over,
  } as CdrInput & { start: number };
}

function ext(number: string, over: Partial<ExtensionRecord> = {}): ExtensionRecord {
  return {
    number,
    name: `User ${number}`,
    ha1Md5: 'a'.repeat(32),
    ha1Sha256: 'b'.repeat(64),
    realm: 'pbx.example.org',
    context: 'internal',
    email: `${number}@example.org`,
    voicemail: true,
    voicemailPin: null,
    directMedia: false,
    maxContacts: 3,
    ...over,
  };
}

/** Runs `code` in a child process that imports the storage module, then kill -9s it once it prints READY. */
async function runAndKill(cfg: StorageConfig, code: string): Promise<void> {
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  const dbModule = join(here, '..', `database${ext}`);
  const script = `
    const { openDatabase } = await import(${JSON.stringify(dbModule)});
    const db = await openDatabase(${JSON.stringify(cfg)});
    ${code}
    process.stdout.write('READY\\n');
    setInterval(() => {}, 1000);
  `;
  const args = ext === '.ts' ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...args, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], cwd: process.cwd() });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not get ready: ${err}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (!out.includes('READY')) reject(new Error(`child exited early: ${err}`));
    });
  });
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
}

for (const backend of BACKENDS) {
  describe(`storage on ${backend.name}`, { skip: backend.skip }, () => {
    let cfg: StorageConfig;
    let db: Database;

    before(async () => {
      cfg = await backend.config();
      db = await openDatabase(cfg);
      await db.migrate();
    });

    after(async () => {
      if (!db) return;
      await db.dropTables();
      await db.close();
    });

    test('migrate() is idempotent and records the schema version', async () => {
      const latest = MIGRATIONS.at(-1)!.version;
      assert.equal(await db.migrate(), latest);
      assert.equal(await db.migrate(), latest);
      const rows = await db.kysely.selectFrom('schema_version').selectAll().execute();
      assert.equal(rows.length, MIGRATIONS.length);
    });

    test('migrate() upgrades a version 2 database: its extensions stay, without a voicemail PIN', async () => {
      const old = await openDatabase({ ...cfg, ...(cfg.driver === 'sqlite' ? { path: cfg.path.replace(/\.db$/, '-v2.db') } : { tablePrefix: prefix() }) });
      try {
        const ctx = { driver: old.driver, prefix: old.prefix };
        await old.kysely.schema
          .createTable('schema_version')
          .addColumn('version', 'integer', (c) => c.primaryKey())
          .addColumn('applied_at', 'bigint', (c) => c.notNull())
          .execute();
        for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
          await m.up(old.kysely, ctx);
          await old.kysely.insertInto('schema_version').values({ version: m.version, applied_at: Date.now() }).execute();
        }
        await old.kysely
          .insertInto('extensions')
          .values({
            number: '1001',
            name: 'Alice',
            ha1_md5: null,
            ha1_sha256: null,
            realm: 'r',
            context: 'internal',
            email: null,
            voicemail: 1,
            direct_media: 0,
            max_contacts: 3,
            created_at: 1,
            updated_at: 1,
          })
          .execute();
        assert.equal(await old.migrate(), MIGRATIONS.at(-1)!.version);
        const e = await old.extensions.get('1001');
        assert.equal(e!.name, 'Alice');
        assert.equal(e!.voicemailPin, null);
        await old.extensions.upsertMany([{ ...e!, voicemailPin: '482913' }]);
        assert.equal((await old.extensions.get('1001'))!.voicemailPin, '482913');
      } finally {
        await old.dropTables();
        await old.close();
      }
    });

    test('migrateModule(): each module keeps its own version series; steps run once, in order', async () => {
      const ran: string[] = [];
      const steps = (name: string) => [
        {
          version: 2,
          description: 'add a column',
          // biome-ignore lint/suspicious/noExplicitAny: module tables are not in Tables
          up: async (k: Kysely<any>) => {
            ran.push(`${name}2`);
            await k.schema.alterTable(`${name}_items`).addColumn('note', 'varchar(40)').execute();
          },
        },
        {
          version: 1,
          description: 'items',
          tables: [`${name}_items`],
          // biome-ignore lint/suspicious/noExplicitAny: module tables are not in Tables
          up: async (k: Kysely<any>) => {
            ran.push(`${name}1`);
            await k.schema
              .createTable(`${name}_items`)
              .addColumn('id', 'integer', (c) => c.primaryKey())
              .execute();
          },
        },
      ];
      assert.equal(await db.migrateModule('moda', steps('moda')), 2);
      assert.equal(await db.migrateModule('modb', steps('modb').slice(1)), 1);
      assert.equal(await db.migrateModule('moda', steps('moda')), 2);
      assert.equal(await db.migrateModule('modb', steps('modb')), 2);
      assert.deepEqual(ran, ['moda1', 'moda2', 'modb1', 'modb2']);
      // biome-ignore lint/suspicious/noExplicitAny: module tables are not in Tables
      const k = db.kysely as unknown as Kysely<any>;
      await k.insertInto('moda_items').values({ id: 1, note: 'x' }).execute();
      assert.deepEqual(await k.selectFrom('moda_items').selectAll().execute(), [{ id: 1, note: 'x' }]);
    });

    test('extensions: upsertMany, get, list, update keeps created_at, delete', async () => {
      await db.extensions.upsertMany([ext('1001', { voicemailPin: '482913' }), ext('1002', { email: null, voicemail: false }), ext('1003')]);
      assert.equal((await db.extensions.get('1001'))!.voicemailPin, '482913');
      const got = await db.extensions.get('1002');
      assert.ok(got);
      assert.equal(got.email, null);
      assert.equal(got.voicemail, false);
      assert.equal(got.voicemailPin, null);
      assert.equal(got.maxContacts, 3);
      assert.equal(typeof got.createdAt, 'number');
      assert.deepEqual(
        (await db.extensions.list()).map((e) => e.number),
        ['1001', '1002', '1003'],
      );
      await new Promise((r) => setTimeout(r, 5));
      await db.extensions.upsertMany([ext('1002', { name: 'Bob', directMedia: true })]);
      const upd = await db.extensions.get('1002');
      assert.equal(upd!.name, 'Bob');
      assert.equal(upd!.directMedia, true);
      assert.equal(upd!.createdAt, got.createdAt);
      assert.ok(upd!.updatedAt > got.updatedAt);
      assert.equal(await db.extensions.delete('1003'), true);
      assert.equal(await db.extensions.delete('1003'), false);
      assert.equal(await db.extensions.get('1003'), undefined);
      // written back as it was (set aside, then enabled): its created_at comes with it; an update still keeps the row's
      await db.extensions.upsertMany([{ ...ext('1003'), createdAt: 1_000_000 }]);
      assert.equal((await db.extensions.get('1003'))!.createdAt, 1_000_000);
      await db.extensions.upsertMany([{ ...ext('1003', { name: 'Cy' }), createdAt: 2_000_000 }]);
      assert.deepEqual([(await db.extensions.get('1003'))!.name, (await db.extensions.get('1003'))!.createdAt], ['Cy', 1_000_000]);
      // the numbers set aside, in the core's table
      await db.extensions.setDisabled('1004', { number: '1004', name: 'x' });
      await db.extensions.setDisabled('1004', { number: '1004', name: 'y', createdAt: 5 });
      assert.deepEqual(
        (await db.extensions.disabled()).map((d) => [d.number, d.record.name, d.record.createdAt]),
        [['1004', 'y', 5]],
      );
      assert.deepEqual(await db.extensions.disabledNumbers(), ['1004']);
      assert.deepEqual([(await db.extensions.disabledOne('1004'))?.record.name, await db.extensions.disabledOne('1005')], ['y', undefined]);
      assert.equal(await db.extensions.clearDisabled('1004'), true);
      assert.equal(await db.extensions.clearDisabled('1004'), false);
      assert.deepEqual(await db.extensions.disabledNumbers(), []);
    });

    test('extensions: upsertMany is all or nothing', async () => {
      const bad = ext('2002', { name: null as unknown as string });
      await assert.rejects(db.extensions.upsertMany([ext('2001'), bad]));
      assert.equal(await db.extensions.get('2001'), undefined);
    });

    test('extensions: 1,000 rows upsert in one transaction', async () => {
      const rows = Array.from({ length: 1000 }, (_, i) => ext(String(30000 + i)));
      const t0 = performance.now();
      await db.extensions.upsertMany(rows);
      const ms = performance.now() - t0;
      assert.equal((await db.extensions.list()).filter((e) => e.number.startsWith('3')).length, 1000);
      assert.ok(ms < 3000, `took ${ms} ms`);
    });

    test('location: save, update, remove, loadAll round-trip the StoredBinding shape', async () => {
      const a = binding('1001', 1);
      const b = binding('1001', 2, { instanceId: null, regId: null, q: 1 });
      await Promise.all([db.location.save(a), db.location.save(b)]);
      assert.deepEqual(await db.location.loadAll(), [a, b]);
      const a2 = { ...a, cseq: 2, expiresAt: a.expiresAt + 1000 };
      await db.location.save(a2);
      await db.location.remove(b.aor, b.contactUri);
      assert.deepEqual(await db.location.loadAll(), [a2]);
      await db.location.remove(a.aor, a.contactUri);
      assert.deepEqual(await db.location.loadAll(), []);
    });

    test('location: rapid saves of one binding coalesce, latest state wins; save resolves after commit', async () => {
      const saves = [];
      for (let i = 1; i <= 200; i++) saves.push(db.location.save(binding('1005', 1, { cseq: i })));
      await Promise.all(saves);
      const rows = await db.kysely.selectFrom('location').select(['cseq']).where('aor', '=', '1005').execute();
      assert.deepEqual(
        rows.map((r) => Number(r.cseq)),
        [200],
      );
      const save = db.location.save(binding('1005', 1, { cseq: 201 }));
      await save;
      const row = await db.kysely.selectFrom('location').select(['cseq']).where('aor', '=', '1005').executeTakeFirst();
      assert.equal(Number(row!.cseq), 201);
      await db.location.remove('1005', binding('1005', 1).contactUri);
    });

    test('location: two nodes write the same bindings at once, in opposite orders, and every write commits (no deadlock reaches a caller)', async () => {
      // a second node on the same tables (its own connection pool and write queue)
      const other = await openDatabase(cfg);
      const keys = Array.from({ length: 300 }, (_, i) => binding(`77${String(i).padStart(3, '0')}`, 1));
      try {
        for (let round = 1; round <= 8; round++) {
          await Promise.all([...keys.map((k) => db.location.save({ ...k, cseq: round })), ...[...keys].reverse().map((k) => other.location.save({ ...k, cseq: round + 100 }))]);
        }
        // one node's removes against the other's saves of the same bindings
        const half = keys.slice(0, 150);
        await Promise.all([...half.map((k) => db.location.remove(k.aor, k.contactUri)), ...[...half].reverse().map((k) => other.location.save({ ...k, cseq: 999 }))]);
        const rows = await db.kysely.selectFrom('location').select(['aor', 'cseq']).where('aor', 'like', '77%').execute();
        assert.ok(rows.length >= 150 && rows.length <= 300, `${rows.length} rows`);
        // the untouched half holds one node's last round, whole
        const rest = rows.filter((r) => Number(r.aor) >= 77150).map((r) => Number(r.cseq));
        assert.equal(rest.length, 150);
        assert.ok(
          rest.every((c) => c === 8 || c === 108),
          `cseqs ${[...new Set(rest)].join(',')}`,
        );
      } finally {
        await db.kysely.deleteFrom('location').where('aor', 'like', '77%').execute();
        await other.close();
      }
    });

    test('extensions: two nodes importing the same extensions at once, in opposite orders, both commit', async () => {
      const other = await openDatabase(cfg);
      const rows = Array.from({ length: 400 }, (_, i) => ext(String(46000 + i)));
      try {
        for (let round = 1; round <= 6; round++) {
          const named = rows.map((r) => ({ ...r, name: `round ${round}` }));
          await Promise.all([db.extensions.upsertMany(named), other.extensions.upsertMany([...named].reverse())]);
        }
        const got = (await db.extensions.list()).filter((e) => e.number.startsWith('46'));
        assert.equal(got.length, 400);
        assert.ok(
          got.every((e) => e.name === 'round 6'),
          'the last round',
        );
      } finally {
        await db.kysely.deleteFrom('extensions').where('number', 'like', '46%').execute();
        await other.close();
      }
    });

    test('reputation and calling profiles: two nodes saving the same rows at once, in opposite orders, both commit', async () => {
      const other = await openDatabase(cfg);
      const now = Date.now();
      const subjects = Array.from({ length: 400 }, (_, i) => `ip:198.51.${i >> 8}.${i & 255}`);
      const principals = Array.from({ length: 250 }, (_, i) => `lockorder-${String(i).padStart(3, '0')}`);
      const profile = (principal: string, calls: number) => ({
        principal,
        calls,
        firstAt: now,
        hours: new Array(24).fill(0),
        dests: ['+4420'],
        recent: [],
        lenN: 0,
        lenMean: 0,
        lenM2: 0,
        updatedAt: now,
      });
      try {
        for (let round = 1; round <= 8; round++) {
          const rep = subjects.map((subject) => ({ subject, good: round, bad: 0, updatedAt: now }));
          const prof = principals.map((p) => profile(p, round));
          await Promise.all([
            new ReputationRepo(db).saveMany(rep),
            new ReputationRepo(other).saveMany([...rep].reverse().map((r) => ({ ...r, bad: 1 }))),
            new CallingProfileRepo(db).saveMany(prof),
            new CallingProfileRepo(other).saveMany([...prof].reverse()),
          ]);
        }
        const rep = (await new ReputationRepo(db).loadAll()).filter((r) => r.subject.startsWith('ip:198.51.'));
        assert.equal(rep.length, 400);
        assert.ok(
          rep.every((r) => r.good === 8),
          'the last round of one node or the other',
        );
        const prof = (await new CallingProfileRepo(db).loadAll()).filter((r) => r.principal.startsWith('lockorder-'));
        assert.equal(prof.length, 250);
        assert.ok(prof.every((r) => r.calls === 8));
      } finally {
        await db.kysely.deleteFrom('reputation').where('subject', 'like', 'ip:198.51.%').execute();
        await db.kysely.deleteFrom('calling_profiles').where('principal', 'like', 'lockorder-%').execute();
        await other.close();
      }
    });

    test('location: removeExpired deletes only expired bindings and counts them', async () => {
      const now = Date.now();
      await db.location.save(binding('1006', 1, { expiresAt: now - 1 }));
      await db.location.save(binding('1006', 2, { expiresAt: now }));
      await db.location.save(binding('1006', 3, { expiresAt: now + 60_000 }));
      assert.equal(await db.location.removeExpired(now), 2);
      assert.deepEqual(
        (await db.location.loadAll()).map((b) => b.contactUri),
        [binding('1006', 3).contactUri],
      );
      await db.location.remove('1006', binding('1006', 3).contactUri);
    });

    test('cdr: insert stores every field and computes duration/billsec; duplicate uniqueid rejects', async () => {
      await db.cdr.insert(cdr(1, { accountcode: 'acct', userfield: 'uf', amaflags: 'BILLING' }));
      const [row] = await db.cdr.query({ src: '1001', limit: 1 });
      const c = cdr(1);
      assert.deepEqual(row, {
        accountcode: 'acct',
        src: '1001',
        dst: '1002',
        dcontext: 'internal',
        clid: '"Alice" <1001>',
        channel: 'SIP/1001-1',
        dstchannel: 'SIP/1002-1',
        lastapp: 'Dial',
        lastdata: 'SIP/1002,30',
        start: c.start,
        answer: c.start + 2000,
        end: c.start + 62_000,
        duration: 62,
        billsec: 60,
        disposition: 'ANSWERED',
        amaflags: 'BILLING',
        uniqueid: 'u-1',
        userfield: 'uf',
        sourceIp: '127.0.0.1',
        securityVerdict: 'clean',
      });
      await assert.rejects(db.cdr.insert(cdr(1)));
      await assert.rejects(db.cdr.insert(cdr(2, { disposition: 'LOST' as never })), RangeError);
      await assert.rejects(db.cdr.insert(cdr(2, { amaflags: 'SOMETIMES' })), RangeError);
      // the B2BUA hands Dates; they are stored as the same epoch ms
      const start = new Date(c.start + 5000);
      await db.cdr.insert({ ...cdr(3), start, answer: null, end: new Date(c.start + 9400), amaflags: '' });
      const [dated] = await db.cdr.query({ from: start, to: c.start + 5001 });
      assert.equal(dated!.start, c.start + 5000);
      assert.equal(dated!.duration, 4);
      assert.equal(dated!.billsec, 0);
      assert.equal(dated!.amaflags, 'DOCUMENTATION');
    });

    test('cdr: query filters by time, src, dst, newest first, with limit', async () => {
      await db.cdr.insertMany([
        cdr(10, { disposition: 'NO ANSWER', answer: null }),
        cdr(11, { src: '1003' }),
        cdr(12, { dst: '1009', disposition: 'BUSY', answer: null }),
        cdr(13),
      ]);
      const base = cdr(0).start;
      const win = await db.cdr.query({ from: base + 10_000, to: new Date(base + 13_000) });
      assert.deepEqual(
        win.map((r) => r.uniqueid),
        ['u-12', 'u-11', 'u-10'],
      );
      assert.equal(win[2]!.answer, null);
      assert.equal(win[2]!.billsec, 0);
      assert.equal(win[2]!.disposition, 'NO ANSWER');
      assert.deepEqual(
        (await db.cdr.query({ src: '1003' })).map((r) => r.uniqueid),
        ['u-11'],
      );
      assert.deepEqual(
        (await db.cdr.query({ dst: '1009' })).map((r) => r.uniqueid),
        ['u-12'],
      );
      assert.deepEqual(
        (await db.cdr.query({ from: base + 10_000, limit: 2 })).map((r) => r.uniqueid),
        ['u-13', 'u-12'],
      );
    });

    test('cdr: 3,000 concurrent inserts all land (batched while a write is in flight), one bad row rejects alone', async (t) => {
      const n = 3000;
      const t0 = performance.now();
      const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => db.cdr.insert(cdr(100_000 + i, { uniqueid: i === 1500 ? 'u-1' : `c-${i}` }))));
      const ms = performance.now() - t0;
      const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      assert.deepEqual(rejected, [1500]);
      const rows = await db.cdr.query({ from: cdr(100_000).start, limit: 10_000 });
      assert.equal(rows.length, n - 1);
      t.diagnostic(`${backend.name}: ${n} concurrent CDR inserts in ${ms.toFixed(0)} ms (${Math.round((n / ms) * 1000)}/s)`);
    });

    test('close() flushes queued writes', async () => {
      const cfg2 = cfg;
      const db2 = await openDatabase(cfg2);
      void db2.location.save(binding('1007', 1)).catch(() => {});
      void db2.cdr.insert(cdr(200_000, { uniqueid: 'close-1' })).catch(() => {});
      await db2.close();
      const rows = await db.location.loadAll();
      assert.ok(rows.some((b) => b.aor === '1007'));
      assert.equal((await db.cdr.query({ src: '1001', from: cdr(200_000).start, to: cdr(200_001).start })).length, 1);
      await db.location.remove('1007', binding('1007', 1).contactUri);
    });

    test('kill -9: resolved CDR inserts and bindings saved over a second ago survive', async () => {
      await runAndKill(
        cfg,
        `
        const base = ${JSON.stringify(cdr(300_000))};
        for (let i = 0; i < 50; i++) await db.cdr.insert({ ...base, uniqueid: 'k9-' + i });
        db.location.save(${JSON.stringify(binding('1008', 1))});
        await new Promise((r) => setTimeout(r, 1100));
        `,
      );
      const rows = await db.cdr.query({ from: cdr(300_000).start, to: cdr(300_001).start, limit: 1000 });
      assert.equal(rows.filter((r) => r.uniqueid.startsWith('k9-')).length, 50);
      assert.ok((await db.location.loadAll()).some((b) => b.aor === '1008'));
    });
  });
}
