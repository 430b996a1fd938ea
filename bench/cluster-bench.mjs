#!/usr/bin/env node
// Cluster figures on this machine (docs/operations.md, "Scaling out"):
// three Palisade nodes (127.0.0.21-23) on the machine's PostgreSQL and NATS,
// a table prefix and a NATS namespace of the run's own.
//  (a) ban propagation: bans made on node a through its control socket, one
//      every BENCH_BAN_GAP_MS; each other node records, when the ban is in
//      its packet gate's table, how long after node a made it
//      (the `cluster` status: ban_propagation p50/p99/max). The clocks are
//      one machine's, so the figure is the real end-to-end delay.
//  (b) REGISTER with digest through Kamailio's dispatcher in front of the
//      three nodes (examples/cluster/kamailio.cfg): SIPp at BENCH_CLUSTER_REG_RATE
//      for BENCH_STEP_SECONDS; successful registrations per second and CPU
//      time per registration of the nodes together (they share the 2 cores
//      with Kamailio and SIPp).
// Run after `npm run build`:  node bench/cluster-bench.mjs
//
// Environment: BENCH_BANS (500), BENCH_BAN_GAP_MS (10), BENCH_STEP_SECONDS (10),
// BENCH_CLUSTER_REG_RATE (1500), PALISADE_TEST_PG_URL, PALISADE_TEST_NATS_URL.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const { startPalisade } = await import(join(DIST, 'test', 'helpers', 'palisade-process.js'));
const { startKamailio } = await import(join(DIST, 'test', 'helpers', 'kamailio.js'));
const { freeLocalPorts, runSipp } = await import(join(DIST, 'test', 'helpers', 'sipp.js'));
const { makeUsers, sippCsv } = await import(join(DIST, 'test', 'helpers', 'users.js'));
const { controlRequest } = await import(join(DIST, 'src', 'admin', 'control-socket.js'));

const env = process.env;
const PG_URL = env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = env.PALISADE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const BANS = Number(env.BENCH_BANS ?? 500);
const GAP = Number(env.BENCH_BAN_GAP_MS ?? 10);
const STEP = Number(env.BENCH_STEP_SECONDS ?? 10);
const REG_RATE = Number(env.BENCH_CLUSTER_REG_RATE ?? 1500);
const CLK_TCK = 100;

const tag = `bench${process.pid.toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sock = (p) => join(p.dir, 'control.sock');

/** utime+stime of a process, in clock ticks */
function ticks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function dropTables(prefix) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  const r = await c.query('select tablename from pg_tables where tablename like $1', [`${prefix}%`]);
  for (const { tablename } of r.rows) await c.query(`drop table if exists "${tablename}" cascade`);
  await c.end();
}

const users = makeUsers(1000, { first: 10000 });
const [port] = await freeLocalPorts(1);
const nodes = [];
let kam;
const out = { machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_at_start: loadavg()[0] }, nodes: 3 };
try {
  for (const [i, name] of ['a', 'b', 'c'].entries()) {
    nodes.push(
      await startPalisade({
        users: i === 0 ? users : undefined,
        address: `127.0.0.${21 + i}`,
        sipPort: port,
        domain: '127.0.0.20',
        transports: ['udp'],
        storage: ['driver: postgres', `url: ${PG_URL}`, `table_prefix: ${tag}_`],
        readyTimeoutMs: 120_000,
        extraYaml: [
          'cluster:',
          `  node: ${name}`,
          `  broker: ${NATS_URL}`,
          `  namespace: ${tag}`,
          'registrar:',
          '  qualify_interval: 0',
          'security:',
          '  ids:',
          '    trusted: [127.0.0.20]',
          '  reputation:',
          '    exempt: [127.0.0.20/32]',
          // the phones' contact is a port where nothing listens: an MWI NOTIFY per registration
          // would be resent there for 32 s (11 sends), work Kamailio's run does not have
          'voicemail:',
          '  mwi_unsolicited: false',
        ].join('\n'),
      }),
    );
  }
  const status = async (p) => (await controlRequest(sock(p), 'cluster')).valueOf();
  for (let t = 0; t < 100; t++) {
    const all = await Promise.all(nodes.map(status));
    if (all.every((s) => s.connected && s.nodes.length === 3)) break;
    await sleep(200);
  }

  // (a) ban propagation
  for (const p of nodes) await controlRequest(sock(p), 'cluster', { reset: true });
  for (let i = 0; i < BANS; i++) {
    await controlRequest(sock(nodes[0]), 'ban-add', { address: `10.77.${(i >> 8) & 255}.${i & 255}`, for: '10m', reason: 'bench' });
    await sleep(GAP);
  }
  await sleep(1000);
  out.ban_propagation = {};
  for (const p of nodes.slice(1)) out.ban_propagation[(await status(p)).node] = (await status(p)).ban_propagation;
  console.log(`ban propagation a→b: ${JSON.stringify(out.ban_propagation.b)}`);
  console.log(`ban propagation a→c: ${JSON.stringify(out.ban_propagation.c)}`);

  // (b) REGISTER through Kamailio's dispatcher
  const list = join(dir, 'nodes.list');
  writeFileSync(list, nodes.map((n) => `1 sip:${n.target}\n`).join(''));
  kam = await startKamailio({ cfg: join(ROOT, 'examples', 'cluster', 'kamailio.cfg'), address: '127.0.0.20', port, defines: [`DS_LIST="${list}"`], shmMb: 512 });
  await sleep(1500);
  const csv = join(dir, 'reg.csv');
  // the phones' contact: a port where nothing listens (nothing is sent there: no unsolicited MWI, qualify off)
  const [sink] = await freeLocalPorts(1);
  writeFileSync(csv, sippCsv(users));
  const before = nodes.map((n) => ticks(n.pid));
  const started = Date.now();
  const r = await runSipp({
    scenario: 'register-auth',
    target: kam.target,
    inf: [csv],
    set: { contact: `127.0.0.1:${sink}`, expires: '600' },
    calls: REG_RATE * STEP,
    rate: REG_RATE,
    timeoutS: STEP + 30,
    dir,
    extraArgs: ['-timeout', `${STEP + 20}s`],
  });
  const secs = (Date.now() - started) / 1000;
  const cpuMs = nodes.map((n, i) => ((ticks(n.pid) - before[i]) * 1000) / CLK_TCK);
  const ok = r.stats?.successful ?? 0;
  out.register = {
    offered_per_s: REG_RATE,
    successful: ok,
    failed: r.stats?.failed ?? null,
    per_s: Math.round(ok / secs),
    node_cpu_ms: cpuMs,
    cpu_us_per_register: ok ? Math.round((cpuMs.reduce((x, y) => x + y, 0) * 1000) / ok) : null,
  };
  console.log(`REGISTER through Kamailio to 3 nodes: ${JSON.stringify(out.register)}`);
  if (out.register.failed) console.log(r.errors.slice(0, 1500));
} finally {
  await kam?.stop();
  for (const n of nodes) await n.stop();
  await dropTables(`${tag}_`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(join(ROOT, 'bench', 'results', 'cluster.json'), `${JSON.stringify(out, null, 2)}\n`);
