// A real call through Palisade leaves its CDR in PostgreSQL and in MariaDB
// (the servers running on this machine), just as it does in SQLite.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { freeEvenPorts, freeLocalPorts, repoRoot, runSipp, startSipp } from '../helpers/sipp.js';
import { TABLE_NAMES } from '../../src/storage/schema.js';
import { makeUsers, palisadeCsv, sippCsv } from '../helpers/users.js';
import { reapOnExit } from '../helpers/reap.js';

const bin = join(repoRoot(), 'bin', 'palisade.js');
const PG_URL = process.env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MY_URL = process.env.PALISADE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

interface Backend {
  name: string;
  driver: 'postgres' | 'mysql';
  url: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function postgres(): Promise<Backend> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  return { name: 'PostgreSQL', driver: 'postgres', url: PG_URL, query: async (sql) => (await client.query(sql)).rows, close: () => client.end() };
}

async function mariadb(): Promise<Backend> {
  const conn = await mysql.createConnection(MY_URL);
  return {
    name: 'MariaDB',
    driver: 'mysql',
    url: MY_URL,
    query: async (sql) => (await conn.query(sql))[0] as Record<string, unknown>[],
    close: () => conn.end(),
  };
}

describe('CDR in an external SQL database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cdrsql-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const open of [postgres, mariadb]) {
    test(`a call's CDR lands in ${open === postgres ? 'PostgreSQL' : 'MariaDB'}`, { timeout: 60_000 }, async () => {
      const db = await open();
      const prefix = `t${randomBytes(4).toString('hex')}_`;
      const [sipPort, uasPort] = await freeLocalPorts(2);
      const rtp = await freeEvenPorts(38);
      const cfg = join(dir, `${db.driver}.yaml`);
      writeFileSync(
        cfg,
        [
          'sip:',
          `  listen: [udp:127.0.0.1:${sipPort}]`,
          '  domain: 127.0.0.1',
          'rtp:',
          `  ports: ${rtp}-${rtp + 37}`,
          '  address: 127.0.0.1',
          'storage:',
          `  driver: ${db.driver}`,
          `  url: ${db.url}`,
          `  table_prefix: ${prefix}`,
          'control:',
          `  socket: ${join(dir, db.driver + '.sock')}`,
          'registrar:',
          '  qualify_interval: 0',
          '',
        ].join('\n'),
      );
      const users = makeUsers(2, { first: 3100 });
      const csv = join(dir, `${db.driver}-users.csv`);
      writeFileSync(csv, palisadeCsv(users));
      const imp = spawnSync(process.execPath, [bin, 'users', 'import', csv, '--config', cfg], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(imp.status, 0, imp.stderr);
      const child = reapOnExit(spawn(process.execPath, [bin, 'start', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
      const exited = new Promise((res) => child.on('exit', res));
      try {
        await new Promise<void>((resolve, reject) => {
          let out = '';
          const t = setTimeout(() => reject(new Error('not ready: ' + out)), 20_000);
          child.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('"event":"ready"')) {
              clearTimeout(t);
              resolve();
            }
          });
        });
        const target = `127.0.0.1:${sipPort}`;
        const reg = join(dir, `${db.driver}-reg.csv`);
        writeFileSync(reg, sippCsv(users.slice(1)));
        const rr = await runSipp({
          scenario: 'register-auth',
          target,
          transport: 'u1',
          inf: [reg],
          set: { contact: `127.0.0.1:${uasPort}`, expires: '300' },
          calls: 1,
          rate: 10,
          timeoutS: 20,
          dir,
        });
        assert.equal(rr.stats?.successful, 1, rr.errors);
        const callee = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', transport: 'u1', port: uasPort, timeoutS: 30, dir });
        const calls = join(dir, `${db.driver}-calls.csv`);
        writeFileSync(calls, sippCsv(users.slice(0, 1), { peers: [users[1]!.number] }));
        try {
          const c = await runSipp({ scenario: 'call-auth-uac', target, transport: 'u1', inf: [calls], calls: 1, rate: 10, pauseMs: 1100, timeoutS: 20, dir });
          assert.equal(c.stats?.successful, 1, c.errors);
        } finally {
          await callee.stop();
        }
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      try {
        const rows = await db.query(`SELECT src, dst, disposition, billsec, source_ip FROM ${prefix}cdr`);
        assert.equal(rows.length, 1, JSON.stringify(rows));
        const row = rows[0]!;
        assert.equal(row.src, users[0]!.number);
        assert.equal(row.dst, users[1]!.number);
        assert.equal(row.disposition, 'ANSWERED');
        assert.ok(Number(row.billsec) >= 1);
        assert.equal(row.source_ip, '127.0.0.1');
      } finally {
        // every table the server made under its prefix, the modules' too: the shared databases keep what a test leaves
        const listed =
          db.driver === 'postgres'
            ? await db.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '${prefix}%'`)
            : await db.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE '${prefix}%'`);
        const names = new Set([...TABLE_NAMES.map((t) => `${prefix}${t}`), ...listed.map((r) => String(r.name))]);
        for (const t of names) await db.query(`DROP TABLE IF EXISTS ${t}${db.driver === 'postgres' ? ' CASCADE' : ''}`).catch(() => undefined);
        await db.close();
      }
    });
  }
});
