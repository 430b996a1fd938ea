#!/usr/bin/env node
// Cluster figures on this machine (docs/operations.md, "Scaling out"):
// three Palisade nodes (127.0.0.21-23) on the machine's PostgreSQL and NATS,
// a table prefix and a NATS namespace of the run's own.
//  (a) ban propagation: bans made on node a through its control socket, one
//      every BENCH_BAN_GAP_MS; each other node records, when the ban is in
//      its packet gate's table, how long after node a made it
//      (the `cluster` status: ban_propagation p50/p99/max). The clocks are
//      one machine's, so the figure is the real end-to-end delay.
//      Then reputation marks: a REGISTER with a wrong password from each of
//      BENCH_MARKS loopback addresses (127.1.x.y, one each, so none is
//      banned) to node a, every BENCH_BAN_GAP_MS; each failure is a bad
//      mark on its address, and nodes b and c record how long after node a
//      made it the mark was in their reputation book (reputation_propagation).
//  (b) REGISTER with digest through Kamailio's dispatcher in front of the
//      three nodes (examples/cluster/kamailio.cfg): after a 5 s warm-up, SIPp
//      at 500/s, 1000/s, … up to BENCH_CLUSTER_REG_RATE, BENCH_STEP_SECONDS
//      each, until a step is not served in full (99 %); the highest step
//      served: registrations per second and CPU time per registration of the
//      nodes together (they share the 2 cores with Kamailio and SIPp).
//  (c) calls between extensions through the same dispatcher at
//      BENCH_CLUSTER_CALL_RATE (INVITE with a challenge, 200, ACK, 1 s, BYE;
//      the callees one SIPp UAS registered through Kamailio): completed calls
//      per second and the nodes' CPU time per call.
//  (d) failover: REGISTERs with digest through the dispatcher at
//      BENCH_FAILOVER_RATE, each one's answer time kept (SIPp -trace_rtt);
//      BENCH_FAILOVER_KILL_S seconds in, node c is killed with SIGKILL. A
//      request the dispatcher still sends to the dead node waits for the
//      dispatcher's timeout (fr_timer, 2 s) and goes to the next node. The
//      failover time is how long after the kill requests were still answered
//      that late (more than BENCH_FAILOVER_SLOW_MS); also the slowest answer,
//      and the requests that failed.
// Run after `npm run build`:  node bench/cluster-bench.mjs
//
// Environment: BENCH_BANS (500), BENCH_MARKS (500), BENCH_BAN_GAP_MS (10), BENCH_STEP_SECONDS (10),
// BENCH_CLUSTER_REG_RATE (2000), BENCH_CLUSTER_CALL_RATE (200), BENCH_FAILOVER_RATE (100),
// BENCH_FAILOVER_SECONDS (12), BENCH_FAILOVER_KILL_S (4), BENCH_FAILOVER_SLOW_MS (500),
// BENCH_CLUSTER_PARTS (a,b,c,d: the parts to run), PALISADE_TEST_PG_URL, PALISADE_TEST_NATS_URL.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const { startPalisade } = await import(join(DIST, 'test', 'helpers', 'palisade-process.js'));
const { startKamailio } = await import(join(DIST, 'test', 'helpers', 'kamailio.js'));
const { freeLocalPorts, runSipp, startSipp } = await import(join(DIST, 'test', 'helpers', 'sipp.js'));
const { makeUsers, sippCsv } = await import(join(DIST, 'test', 'helpers', 'users.js'));
const { controlRequest } = await import(join(DIST, 'src', 'admin', 'control-socket.js'));
const { UdpProbe } = await import(join(DIST, 'test', 'helpers', 'sip-probe.js'));

const env = process.env;
const PG_URL = env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = env.PALISADE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const BANS = Number(env.BENCH_BANS ?? 500);
const GAP = Number(env.BENCH_BAN_GAP_MS ?? 10);
const MARKS = Number(env.BENCH_MARKS ?? 500);
const STEP = Number(env.BENCH_STEP_SECONDS ?? 10);
const REG_RATE = Number(env.BENCH_CLUSTER_REG_RATE ?? 2000);
const CALL_RATE = Number(env.BENCH_CLUSTER_CALL_RATE ?? 200);
// the steps of (b): 500/s apart, up to REG_RATE
const REG_RATES = Array.from({ length: Math.max(1, Math.ceil(REG_RATE / 500)) }, (_, i) => Math.min(REG_RATE, (i + 1) * 500));
const FAIL_RATE = Number(env.BENCH_FAILOVER_RATE ?? 100);
const FAIL_SECONDS = Number(env.BENCH_FAILOVER_SECONDS ?? 12);
const FAIL_KILL_S = Number(env.BENCH_FAILOVER_KILL_S ?? 4);
const FAIL_SLOW_MS = Number(env.BENCH_FAILOVER_SLOW_MS ?? 500);
const PARTS = new Set((env.BENCH_CLUSTER_PARTS ?? 'a,b,c,d').split(','));
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

/**
 * Runs one SIPp load through the dispatcher: what it completed, per second
 * (the calls' hold time, `holdS`, left out of the wall time), and the
 * nodes' CPU per completed operation under `perKey`.
 */
async function measure(offered, holdS, perKey, run) {
  const before = nodes.map((n) => ticks(n.pid));
  const started = Date.now();
  const r = await run();
  const secs = Math.max(1, (Date.now() - started) / 1000 - holdS);
  const cpuMs = nodes.map((n, i) => ((ticks(n.pid) - before[i]) * 1000) / CLK_TCK);
  const ok = r.stats?.successful ?? 0;
  const figures = {
    offered_per_s: offered,
    successful: ok,
    failed: r.stats?.failed ?? null,
    per_s: Math.round(ok / secs),
    node_cpu_ms: cpuMs,
    [perKey]: ok ? Math.round((cpuMs.reduce((x, y) => x + y, 0) * 1000) / ok) : null,
  };
  return { r, figures };
}

async function dropTables(prefix) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  const r = await c.query('select tablename from pg_tables where tablename like $1', [`${prefix}%`]);
  for (const { tablename } of r.rows) await c.query(`drop table if exists "${tablename}" cascade`);
  await c.end();
}

// (b) registers the first 1,000 (and they call in (c)); (c)'s callees are the last 500, registered
// only at the SIPp UAS (a callee also registered at (b)'s dead contact would fork each call there)
const users = makeUsers(1500, { first: 10000 });
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
        // (c): 1,000 relayed calls up at once per node (the test helper's 200 ports hold 50: a node out of
        // relay ports answers 503, and Kamailio's dispatcher takes it out of the set)
        rtpPorts: `${20000 + i * 4000}-${23999 + i * 4000}`,
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
          // (c): a thousand callers' one-second calls are the pattern reputation scores as spam; scored, not refused
          '    short_call_burst: 10000',
          // the phones' contact is a port where nothing listens: an MWI NOTIFY per registration
          // would be resent there for 32 s (11 sends), work Kamailio's run does not have
          'voicemail:',
          '  mwi_unsolicited: false',
          // (c): each bench caller places many calls a minute, several at once; the call
          // gate still runs every check, with limits this load does not reach (as bench/run.mjs)
          'fraud:',
          '  defaults: { max_calls: 0, calls_per_minute: 0, max_outbound_calls: 10000 }',
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
  if (PARTS.has('a')) {
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
    await reputationMarks();
  }

  /** one REGISTER from `from` to node a, resolving with its final answer (null after 2 s) */
  async function registerFrom(from, authorization) {
    const probe = await UdpProbe.open(0, from);
    try {
      const a = nodes[0];
      const callId = `mark-${from}-${Date.now()}`;
      const text = [
        'REGISTER sip:127.0.0.20 SIP/2.0',
        `Via: SIP/2.0/UDP ${from}:${probe.port};branch=z9hG4bK-${callId};rport`,
        'Max-Forwards: 70',
        `From: <sip:99999@127.0.0.20>;tag=${callId.length}`,
        'To: <sip:99999@127.0.0.20>',
        `Call-ID: ${callId}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:99999@${from}:${probe.port}>`,
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      probe.send(text, a.sipPort, a.address);
      const final = (r) => r.data.toString('latin1', 0, 9) !== 'SIP/2.0 1';
      return (await probe.waitFor((got) => got.some(final), 2000)) ? probe.received.find(final).data.toString('latin1') : null;
    } finally {
      probe.close();
    }
  }

  async function reputationMarks() {
    for (const p of nodes) await controlRequest(sock(p), 'cluster', { reset: true });
    const challenge = await registerFrom('127.1.255.1');
    const realm = /realm="([^"]+)"/.exec(challenge ?? '')?.[1];
    if (!realm) throw new Error(`node a did not challenge a REGISTER: ${challenge}`);
    let refused = 0;
    for (let i = 0; i < MARKS; i++) {
      const from = `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      // an unknown user and a wrong response: refused like a wrong password, and a bad mark on the address
      const cred = `Digest username="99999", realm="${realm}", nonce="${'A'.repeat(32)}", uri="sip:127.0.0.20", response="${'0'.repeat(32)}", algorithm=MD5, qop=auth, nc=00000001, cnonce="bench"`;
      if ((await registerFrom(from, cred))?.startsWith('SIP/2.0 4')) refused++;
      await sleep(GAP);
    }
    await sleep(1000);
    out.reputation_propagation = { marks: MARKS, refused_by_a: refused };
    for (const p of nodes.slice(1)) {
      const st = await status(p);
      out.reputation_propagation[st.node] = st.reputation_propagation;
    }
    console.log(
      `reputation marks (${refused} of ${MARKS} wrong passwords refused by node a): a→b ${JSON.stringify(out.reputation_propagation.b)}, a→c ${JSON.stringify(out.reputation_propagation.c)}`,
    );
  }

  const list = join(dir, 'nodes.list');
  writeFileSync(list, nodes.map((n) => `1 sip:${n.target}\n`).join(''));
  kam = await startKamailio({ cfg: join(ROOT, 'examples', 'cluster', 'kamailio.cfg'), address: '127.0.0.20', port, defines: [`DS_LIST="${list}"`], shmMb: 512 });
  await sleep(1500);
  const csv = join(dir, 'reg.csv');
  // the phones' contact: a port where nothing listens (nothing is sent there: no unsolicited MWI, qualify off)
  const [sink] = await freeLocalPorts(1);
  writeFileSync(csv, sippCsv(users.slice(0, 1000)));
  // (b) REGISTER through Kamailio's dispatcher
  if (PARTS.has('b')) await registerPart();
  // (c) calls through it
  if (PARTS.has('c')) await callPart();
  // (d) node c killed under REGISTER load
  if (PARTS.has('d')) await failoverPart();

  async function registerPart() {
    const step = (rate, seconds) =>
      measure(rate, 0, 'cpu_us_per_register', () =>
        runSipp({
          scenario: 'register-auth',
          target: kam.target,
          inf: [csv],
          set: { contact: `127.0.0.1:${sink}`, expires: '600' },
          calls: rate * seconds,
          rate,
          timeoutS: seconds + 30,
          dir,
          extraArgs: ['-timeout', `${seconds + 20}s`],
        }),
      );
    // warm-up: the nodes' code is compiled and optimised by V8 as it runs; a cold node pays for that in its first seconds
    await step(Math.min(300, REG_RATE), 5);
    await sleep(2000);
    // the offered rates up to BENCH_CLUSTER_REG_RATE, until one is not served in full (99 %):
    // the figure is the highest served, and the step that failed is shown beside it
    out.register_steps = [];
    for (const rate of REG_RATES) {
      const { r, figures } = await step(rate, STEP);
      out.register_steps.push(figures);
      console.log(`REGISTER through Kamailio to 3 nodes at ${rate}/s: ${JSON.stringify(figures)}`);
      if (figures.successful < 0.99 * rate * STEP) {
        console.log(r.errors.slice(0, 1500));
        break;
      }
      out.register = figures;
      // a node the dispatcher took out during the step is back after its next answered probe
      await sleep(3000);
    }
    console.log(`REGISTER through Kamailio to 3 nodes, highest rate served in full: ${JSON.stringify(out.register ?? null)}`);
  }

  async function callPart() {
    // (c) calls through Kamailio's dispatcher: INVITE -> 407 -> INVITE with
    // credentials -> 200 -> ACK -> 1 s -> BYE, between extensions; the callees
    // are one SIPp UAS that every callee registered at, reached through
    // whichever node takes the call
    const [uasPort] = await freeLocalPorts(1);
    const callees = users.slice(1000);
    const callers = users.slice(0, 1000);
    const reg = join(dir, 'callees.csv');
    writeFileSync(reg, sippCsv(callees));
    const cr = await runSipp({
      scenario: 'register-auth',
      target: kam.target,
      inf: [reg],
      set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
      calls: callees.length,
      rate: 200,
      timeoutS: 30,
      dir,
    });
    if ((cr.stats?.successful ?? 0) !== callees.length) throw new Error(`callees did not register: ${cr.errors.slice(0, 1500)}`);
    const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, timeoutS: STEP + 60, dir });
    try {
      const calls = join(dir, 'calls.csv');
      writeFileSync(calls, sippCsv(callers, { peers: callees.map((u) => u.number) }));
      const { r: c, figures: completed } = await measure(CALL_RATE, 1, 'cpu_us_per_call', () =>
        runSipp({
          scenario: 'call-auth-uac',
          target: kam.target,
          inf: [calls],
          calls: CALL_RATE * STEP,
          rate: CALL_RATE,
          pauseMs: 1000,
          timeoutS: STEP + 40,
          dir,
          extraArgs: ['-timeout', `${STEP + 30}s`, '-l', String(CALL_RATE * 4)],
        }),
      );
      out.calls = completed;
      console.log(`calls through Kamailio to 3 nodes: ${JSON.stringify(out.calls)}`);
      if (out.calls.failed) console.log(c.errors.slice(0, 1500));
    } finally {
      await uas.stop();
    }
  }

  async function failoverPart() {
    const victim = nodes[2];
    const started = Date.now();
    const load = await startSipp({
      scenario: 'register-auth',
      target: kam.target,
      inf: [csv],
      set: { contact: `127.0.0.1:${sink}`, expires: '600' },
      calls: FAIL_RATE * FAIL_SECONDS,
      rate: FAIL_RATE,
      timeoutS: FAIL_SECONDS + 30,
      dir,
      extraArgs: ['-timeout', `${FAIL_SECONDS + 20}s`, '-trace_rtt', '-rtt_freq', '1'],
    });
    await sleep(FAIL_KILL_S * 1000 - (Date.now() - started));
    process.kill(victim.pid, 'SIGKILL');
    // SIPp's clock starts as it is spawned: the kill on its time line (off by SIPp's start-up, a few ms)
    const killAt = Date.now() - started;
    const r = await load.done;
    const file = readdirSync(dir).find((f) => f.startsWith('register-auth_') && f.endsWith('_rtt.csv'));
    if (!file) throw new Error(`no SIPp -trace_rtt file in ${dir}`);
    // Date_ms;response_time_ms;rtd_no: when the 200 came, and how long after the first REGISTER
    const answers = readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.includes(';'))
      .map((l) => {
        const [at, ms] = l.split(';').map(Number);
        return { sent: at - ms, ms };
      });
    const afterKill = answers.filter((a) => a.sent >= killAt);
    const late = afterKill.filter((a) => a.ms > FAIL_SLOW_MS);
    const lastLate = late.reduce((m, a) => Math.max(m, a.sent), killAt);
    out.failover = {
      offered_per_s: FAIL_RATE,
      killed_at_ms: killAt,
      answered: answers.length,
      failed: r.stats?.failed ?? null,
      answered_after_kill: afterKill.length,
      late_after_kill: late.length,
      failover_ms: Math.round(lastLate - killAt),
      slowest_answer_ms: Math.round(afterKill.reduce((m, a) => Math.max(m, a.ms), 0)),
      // per second after the kill: [requests sent, of which answered late]
      by_second: Array.from({ length: Math.ceil(FAIL_SECONDS - killAt / 1000) }, (_, i) => {
        const sec = afterKill.filter((a) => Math.floor((a.sent - killAt) / 1000) === i);
        return [sec.length, sec.filter((a) => a.ms > FAIL_SLOW_MS).length];
      }),
    };
    console.log(`failover (node c killed under REGISTER load): ${JSON.stringify(out.failover)}`);
    if (out.failover.failed) console.log(r.errors.slice(0, 1500));
  }
} finally {
  await kam?.stop();
  for (const n of nodes) await n.stop();
  await dropTables(`${tag}_`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(join(ROOT, 'bench', 'results', 'cluster.json'), `${JSON.stringify(out, null, 2)}\n`);
