// DBLookup() against the real databases of this machine: SQLite (a file),
// PostgreSQL and MariaDB. Caller input is only ever a bound parameter: an
// injection attempt finds nothing and changes nothing; the connection is
// read-only even if a writing statement were configured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { ConfigError } from '../../src/config/config-error.js';
import type { DialplanDatasourceConfig } from '../../src/config/config-types.js';
import { countSqlPlaceholders } from '../../src/config/read-dialplan.js';
import { DataSources } from '../../src/dialplan/datasources.js';
import { DialplanEngine } from '../../src/dialplan/engine.js';
import { parseExtensionsConfText } from '../../src/dialplan/parse-extensions-conf.js';
import { MemoryChannel } from '../support/memory-channel.js';

const PG_URL = process.env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MY_URL = process.env.PALISADE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const at = { file: 'palisade.yaml', line: 1, col: 1 };

interface Backend {
  name: string;
  source: DialplanDatasourceConfig;
  exec(sql: string): Promise<void>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'pal-dblookup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function sqlite(): Promise<Backend> {
  const path = join(dir, 'school.db');
  const db = new BetterSqlite3(path);
  return {
    name: 'SQLite',
    source: { driver: 'sqlite', path, at },
    exec: async (sql) => void db.exec(sql),
    count: async (t) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n,
    close: async () => void db.close(),
  };
}

async function postgres(): Promise<Backend> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  return {
    name: 'PostgreSQL',
    source: { driver: 'postgres', url: PG_URL, at },
    exec: async (sql) => void (await c.query(sql)),
    count: async (t) => Number((await c.query(`SELECT COUNT(*) AS n FROM ${t}`)).rows[0].n),
    close: () => c.end(),
  };
}

async function mariadb(): Promise<Backend> {
  const c = await mysql.createConnection(MY_URL);
  return {
    name: 'MariaDB',
    source: { driver: 'mysql', url: MY_URL, at },
    exec: async (sql) => void (await c.query(sql)),
    count: async (t) => Number(((await c.query(`SELECT COUNT(*) AS n FROM ${t}`))[0] as Array<{ n: number }>)[0]!.n),
    close: () => c.end(),
  };
}

const INJECTIONS = ["1001' OR '1'='1", '1001 OR 1=1', "1001'; DROP TABLE {T}; --", '1001) OR (1=1', '*1#', '1001*', '0 OR 1'];

for (const open of [sqlite, postgres, mariadb]) {
  describe(`DBLookup on ${open.name}`, () => {
    let b: Backend;
    let ds: DataSources;
    const T = `dp${randomBytes(4).toString('hex')}_students`;
    const query = (sql: string) => ({ datasource: 'school', sql: sql.replaceAll('{T}', T), params: countSqlPlaceholders(sql), at });

    before(async () => {
      b = await open();
      await b.exec(`CREATE TABLE ${T} (student_id VARCHAR(16) NOT NULL, pin VARCHAR(16) NOT NULL, name VARCHAR(40), percent INTEGER)`);
      await b.exec(`INSERT INTO ${T} VALUES ('1001', '4321', 'Ada', 87), ('1002', '9876', 'Brian', 64), ('1003', '5555', NULL, 100)`);
      ds = DataSources.open({
        datasources: { school: b.source },
        queries: {
          figure: query('SELECT percent FROM {T} WHERE student_id = ? AND pin = ?'),
          person: query('SELECT name, percent FROM {T} WHERE student_id = ?'),
          ...(b.source.driver !== 'sqlite' ? { sneaky: query("INSERT INTO {T} VALUES (?, '0', 'x', 0)") } : {}),
        },
        timeoutMs: 5000,
      });
    });
    after(async () => {
      await ds?.close();
      await b?.exec(`DROP TABLE ${T}`).catch(() => {});
      await b?.close();
    });

    test('a matching row is FOUND; a wrong PIN is NOTFOUND; columns come back by name', async () => {
      assert.deepEqual(await ds.lookup('figure', ['1001', '4321']), { status: 'FOUND', columns: ['percent'], values: ['87'] });
      assert.deepEqual(await ds.lookup('figure', ['1001', '1234']), { status: 'NOTFOUND' });
      assert.deepEqual(await ds.lookup('person', ['1003']), { status: 'FOUND', columns: ['name', 'percent'], values: ['', '100'] });
      const wrongArgs = await ds.lookup('figure', ['1001']);
      assert.equal(wrongArgs.status, 'ERROR');
      assert.equal((await ds.lookup('nope', [])).status, 'ERROR');
    });

    test('injection attempts are bound as values: nothing is found and nothing changes', async () => {
      for (const raw of INJECTIONS) {
        const attempt = raw.replaceAll('{T}', T);
        const r1 = await ds.lookup('figure', [attempt, '4321']);
        const r2 = await ds.lookup('figure', ['1001', attempt]);
        const r3 = await ds.lookup('person', [attempt]);
        for (const r of [r1, r2, r3]) assert.notEqual(r.status, 'FOUND', `${attempt} must not match: ${JSON.stringify(r)}`);
      }
      assert.equal(await b.count(T), 3);
    });

    test('the connection is read-only', async () => {
      if (b.source.driver === 'sqlite') {
        // a statement that writes is refused when the data source opens, and the file is opened read-only
        assert.throws(
          () =>
            DataSources.open({
              datasources: { school: b.source },
              queries: { w: query("INSERT INTO {T} VALUES (?, '0', 'x', 0) RETURNING student_id") },
              timeoutMs: 1000,
            }),
          (e: ConfigError) => e instanceof ConfigError && /read-only|readonly/i.test(e.message),
        );
      } else {
        const r = await ds.lookup('sneaky', ['6666']);
        assert.equal(r.status, 'ERROR');
        assert.match((r as { error: string }).error, /read.only/i);
      }
      assert.equal(await b.count(T), 3);
    });

    test('through the dialplan: digits read from the caller reach the query only as parameters', async () => {
      const engine = new DialplanEngine(
        parseExtensionsConfText(
          [
            '[ivr]',
            'exten => s,1,Read(ID,enter-id,8)',
            ' same => n,Read(PIN,enter-pin,8)',
            ' same => n,DBLookup(FIG=figure,${ID},${PIN})',
            ' same => n,GotoIf($["${DBLOOKUPSTATUS}" = "FOUND"]?ok)',
            ' same => n,Playback(invalid)',
            ' same => n,Hangup()',
            ' same => n(ok),SayNumber(${FIG})',
          ].join('\n'),
          'ivr.conf',
        ),
        { datasources: ds },
      );
      const good = new MemoryChannel({ context: 'ivr', script: '1001#4321#' });
      await engine.run(good, good.media);
      assert.ok(good.events.includes('sayNumber:87'), good.events.join(' '));
      // '*' and '#' are the only non-digits a phone can send; "1*1" must not widen the match
      const odd = new MemoryChannel({ context: 'ivr', script: '1*1#4321#' });
      await engine.run(odd, odd.media);
      assert.ok(odd.played.includes('invalid'));
      assert.equal(odd.vars.get('DBLOOKUPSTATUS'), 'NOTFOUND');
    });
  });
}
