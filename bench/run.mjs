#!/usr/bin/env node
// Palisade against Kamailio 5.6 under the same SIPp load, on loopback:
//  (a) REGISTER with digest: REGISTER -> 401 -> REGISTER with auth -> 200
//  (b) calls: INVITE -> 407 -> INVITE with auth -> 200 -> ACK -> 1 s -> BYE,
//      the callee a SIPp UAS registered as an extension on the server
//  (c) Palisade's RSS with 10,000 registered contacts, beside the 150 MB target.
//  (f) instant messages (BENCH_PARTS=messages): MESSAGE -> 401/407 ->
//      MESSAGE with auth -> 202/200 from an authenticated sender to a
//      registered recipient, a SIPp UAS (uas-message.xml) that answers 200;
//      a step is clean when every MESSAGE was accepted and every one reached
//      the recipient (Palisade answers 202 before it delivers, so the
//      recipient's count is what proves delivery).
// Rates are stepped upward; a server's figure is the highest step with no
// failed call at (nearly) the offered rate. CPU% per process comes from
// /proc/PID/stat (server trees, the SIPp UAS) and /usr/bin/time (SIPp UAC).
//
// Environment (defaults in brackets):
//   BENCH_SERVERS       kamailio,palisade (add baseline with BENCH_BASELINE; palisade-wN:
//                       Palisade with sip.workers N, e.g. palisade-w2; baseline-wN: the
//                       BENCH_BASELINE checkout with sip.workers N)
//   BENCH_SOURCES       1     SIPp source addresses per step (127.0.0.10, .11, ...;
//                       the step's rate split between them): several workers
//                       share out-of-dialog traffic by source address, so give
//                       at least as many as workers — for every server alike
//   BENCH_BASELINE      a built checkout of another Palisade commit (e.g. a
//                       git worktree of the commit before a change), measured
//                       in the same run as "baseline"
//   BENCH_PARTS         register,calls,rss (also: security — bench/security-bench.mjs;
//                       trunk — bench/trunk-bench.mjs: calls out of a SIP trunk beside
//                       extension-to-extension calls, BENCH_TRUNK_RATES, 10 s steps;
//                       messages — (f) above;
//                       iax2 — bench/iax2-bench.mjs: BENCH_IAX_CALLS (100) concurrent G.711 calls
//                       between two Palisade instances over an IAX2 trunk, CPU and loss;
//                       console — bench/console-bench.mjs: calls at CONSOLE_BENCH_CALL_RATE with and
//                       without an event-stream client, API p50/p99 at 200 requests/s during calls)
//   BENCH_ROUNDS        1     run every server's ladders this many times, the servers
//                       taking turns (kamailio, palisade, … then again), each round
//                       with fresh servers; each figure is the server's median
//                       round, and each round's ratios to that round's Kamailio
//                       are printed below its table (this machine's rates drift by
//                       about a quarter within an hour)
//   BENCH_STEP_SECONDS  20            seconds of load per step
//   BENCH_WARMUP_SECONDS 5            an uncounted step at half the first rate before each
//                       ladder (the JIT warms up; 0: none)
//   BENCH_REG_RATES     2000,4000,6000,8000,10000,12000,14000,16000,18000,20000,24000
//   BENCH_CALL_RATES    200,500,1000,1500,2000,2500,3000,3500,4000,4500,5000,6000
//   BENCH_MSG_RATES     500,1000,2000,3000,4000,5000,6000,8000,10000,12000
//   BENCH_MSG_DRAIN_SECONDS 3     messages: how long after the senders' end every
//                       accepted message must have reached the recipient
//   BENCH_RSS_CONTACTS  10000
//   BENCH_KEEP_DIR      1 keeps the temp dir (logs, SIPp stats) for reading
//   BENCH_RESULTS       results file (bench/results/latest.json)
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { startKamailio, startPalisade } from './lib/servers.mjs';
import { runSippClient, lastStatRow, summarize } from './lib/sipp-run.mjs';
import { startProcess, stopTree, stopAll, treeTicks, cpuPercent, treeRss, sleep, CLK_TCK } from './lib/procs.mjs';
import { userRange, writeSippCsv, writePalisadeCsv } from './lib/users.mjs';
import { freePortBlocks } from './lib/ports.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIPP = join(ROOT, 'test', 'sipp');
const env = process.env;
const list = (v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const nums = (v) => list(v).map(Number);

const cfg = {
  servers: list(env.BENCH_SERVERS ?? (env.BENCH_BASELINE ? 'kamailio,baseline,palisade' : 'kamailio,palisade')),
  parts: list(env.BENCH_PARTS ?? 'register,calls,rss'),
  stepS: Number(env.BENCH_STEP_SECONDS ?? 20),
  warmupS: Number(env.BENCH_WARMUP_SECONDS ?? 5),
  regRates: nums(env.BENCH_REG_RATES ?? '2000,4000,6000,8000,10000,12000,14000,16000,18000,20000,24000'),
  callRates: nums(env.BENCH_CALL_RATES ?? '200,500,1000,1500,2000,2500,3000,3500,4000,4500,5000,6000'),
  msgDrainS: Number(env.BENCH_MSG_DRAIN_SECONDS ?? 3),
  msgRates: nums(env.BENCH_MSG_RATES ?? '500,1000,2000,3000,4000,5000,6000,8000,10000,12000'),
  callHoldMs: 1000,
  settleS: Number(env.BENCH_SETTLE_SECONDS ?? 35),
  rssContacts: Number(env.BENCH_RSS_CONTACTS ?? 10000),
  rssTargetMb: 150,
  sources: Math.max(1, Number(env.BENCH_SOURCES ?? 1)),
  rounds: Math.max(1, Number(env.BENCH_ROUNDS ?? 1)),
};
// A step counts only if SIPp actually offered close to the rate asked for:
// on 2 cores SIPp itself can become the bottleneck.
const MIN_RATE_FRACTION = 0.95;

// Loopback ports, one per role, probed free at start (see lib/ports.mjs).
// Media ports (-mp) get blocks of 4: SIPp binds mp and mp+2.
const PORT = {};
async function pickPorts() {
  const roles = [
    'kamailio',
    'palisade',
    'baseline',
    'palisadeW',
    'uacReg',
    'uacRegMedia',
    'uacCall',
    'uacCallMedia',
    'calleeReg',
    'calleeRegMedia',
    'uas',
    'uasMedia',
    'uacMsg',
    'uacMsgMedia',
    'rssReg',
    'rssRegMedia',
    'nobody',
  ];
  const blocks = await freePortBlocks(roles.length, 4, 26000);
  roles.forEach((r, i) => {
    PORT[r] = blocks[i];
  });
}

// Users: callers 1000..1499 call callees 1500..1999; registration load uses
// all of 1000..1999 in turn. Messages: the callers write to the callees,
// whose contacts (the SIPp UAS port) answer MESSAGE with uas-message.xml.
const REG_USERS = userRange(1000, 1999);
const CALLERS = userRange(1000, 1499);
const CALLEES = userRange(1500, 1999);

const benchRoot = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
// the work dir of the round being run (BENCH_ROUNDS): its servers' data, SIPp's files
let work = benchRoot;
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

function machine() {
  const ver = (cmd, args, re) => {
    try {
      const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
      return (re.exec(out) ?? [])[1] ?? out.split('\n')[0];
    } catch (e) {
      return re.exec(String(e.stdout ?? ''))?.[1] ?? 'unknown';
    }
  };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    sipp: ver('sipp', ['-v'], /SIPp (v[\d.]+)/),
    kamailio: ver('kamailio', ['-v'], /version: kamailio ([\d.]+)/),
  };
}

/** The SIPp UAS the callees' contacts point at (PORT.uas), for one step. */
function startUas(scenario, name) {
  return startProcess(
    'timeout',
    [
      '-k',
      '5',
      String(cfg.stepS * 3 + 90),
      'sipp',
      '-sf',
      scenario.startsWith('/') ? scenario : join(SIPP, scenario),
      '-nostdin',
      '-buff_size',
      '4194304',
      '-p',
      String(PORT.uas),
      '-mp',
      String(PORT.uasMedia),
      '-trace_stat',
      '-stf',
      join(work, `${name}.uas.stat.csv`),
      '-fd',
      '1',
      '-trace_err',
      '-error_file',
      join(work, `${name}.uas.err.log`),
      '127.0.0.1',
    ],
    { logPath: join(work, `${name}.uas.out`) },
  );
}

/**
 * test/sipp/uas-message.xml, answering only messages whose body carries
 * `tag` (check_it: any other is a failed call, not a successful one), written
 * to the work dir for one step.
 */
function taggedRecipient(name, tag) {
  const xml = readFileSync(join(SIPP, 'uas-message.xml'), 'utf8');
  const recv = '<recv request="MESSAGE" crlf="true"/>';
  const cseq = '      [last_CSeq:]\n';
  if (!xml.includes(recv) || !xml.includes(cseq)) throw new Error('test/sipp/uas-message.xml changed: the bench cannot mark its recipient');
  const re = tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const out = xml
    .replace(recv, `<recv request="MESSAGE" crlf="true"><action><ereg regexp="${re}" search_in="body" check_it="true" assign_to="steptag"/></action></recv>`)
    // SIPp refuses a variable that is set and never used
    .replace(cseq, `${cseq}      X-Bench-Step:[$steptag]\n`);
  const path = join(work, `${name}.uas-message.xml`);
  writeFileSync(path, out);
  return path;
}

/**
 * Messages the recipient UAS answered, from its -trace_stat row (written
 * every second). Palisade answers 202 before it delivers, so the last
 * deliveries may trail the sender's end: `inTime` is the count once it
 * reached `want` (the messages the senders saw accepted) or when
 * cfg.msgDrainS ran out, and `snap` the CPU and clock at that moment (the
 * step's window). Then stragglers are waited for — until `all` arrived or
 * none came for 8 s (longer than T2, the longest gap between a client
 * transaction's retransmissions) — so a backlog is not counted by the next
 * step's UAS on the same port; `received` is the final count.
 */
async function uasReceived(name, want, all, server, uas) {
  const path = join(work, `${name}.uas.stat.csv`);
  const count = () => summarize(lastStatRow(path))?.successful ?? 0;
  const t = Date.now();
  let got = count();
  while (got < want && Date.now() - t < cfg.msgDrainS * 1000) {
    await sleep(200);
    got = count();
  }
  const inTime = got;
  const snap = { at: Date.now(), server: treeTicks(server.pid), uas: treeTicks(uas.pid) };
  let last = got;
  let quietSince = Date.now();
  const deadline = Date.now() + 45000;
  while (got < all && Date.now() < deadline && Date.now() - quietSince < 8000) {
    await sleep(250);
    got = count();
    if (got !== last) {
      last = got;
      quietSince = Date.now();
    }
  }
  return { inTime, received: got, snap };
}

/** One load step: SIPp UAC at `rate` for cfg.stepS seconds against server. */
async function step(server, kind, rate) {
  const n = Math.max(1, Math.round(rate * cfg.stepS));
  const name = `${server.name}-${kind}-${rate}`;
  let uas = null;
  const args = ['-r', String(rate), '-m', String(n), '-recv_timeout', '10000'];
  if (kind === 'messages') {
    // The step's messages carry its name; the recipient counts only those, so
    // a previous step's backlog (Palisade delivers after its 202) arriving
    // late at the same port is not counted here (it fails the ereg instead).
    const tag = ` step=${name};`;
    args.push('-inf', join(work, 'calls.csv'), '-p', String(PORT.uacMsg), '-mp', String(PORT.uacMsgMedia), '-set', 'tag', tag);
    uas = startUas(taggedRecipient(name, tag), name);
    await sleep(300);
  } else if (kind === 'register') {
    // Register the same Contact the call part's callee uses (the SIPp UAS):
    // a Contact at this UAC's port would outlive the step as a second,
    // dead binding of every callee, and calls would fork to it.
    args.push('-inf', join(work, 'reg.csv'), '-p', String(PORT.uacReg), '-mp', String(PORT.uacRegMedia), '-set', 'contact', `127.0.0.1:${PORT.uas}`);
  } else {
    const hold = cfg.callHoldMs;
    args.push(
      '-inf',
      join(work, 'calls.csv'),
      '-p',
      String(PORT.uacCall),
      '-mp',
      String(PORT.uacCallMedia),
      '-d',
      String(hold),
      '-l',
      String(Math.ceil(rate * (hold / 1000 + 10))),
    );
    uas = startUas('uas-answer.xml', name);
    await sleep(300);
  }
  const sBefore = treeTicks(server.pid);
  const uBefore = uas ? treeTicks(uas.pid) : null;
  const dropsBefore = udpRcvbufErrors();
  const t0 = Date.now();
  const r = await sippFromSources(kind, server, args, name, rate, n);
  const st = r.stats ?? { successful: 0, failed: n, created: 0, elapsedS: NaN, retransmissions: NaN };
  // messages: the CPU window runs until the recipient has them all (the
  // server's work for the last deliveries is part of the step)
  const msg = kind === 'messages' ? await uasReceived(name, st.successful, st.created, server, uas) : null;
  const received = msg ? msg.inTime : null;
  const wallMs = (msg ? msg.snap.at : Date.now()) - t0;
  const sAfter = msg ? msg.snap.server : treeTicks(server.pid);
  let uasCpu = null;
  if (uas) {
    uasCpu = cpuPercent(uBefore, msg ? msg.snap.uas : treeTicks(uas.pid), wallMs);
    await stopTree(uas.pid, 3000);
  }
  let serverTicks = 0;
  for (const [p, t] of sAfter) serverTicks += t - (sBefore.get(p) ?? 0);
  // Offered rate: calls created over the time spent creating them (SIPp's
  // wall time from /usr/bin/time, to 10 ms, minus the length of the last
  // call; the stat file only has whole seconds).
  const tailS = kind === 'calls' ? cfg.callHoldMs / 1000 : 0;
  const sendS = Math.max(0.001, (Number.isFinite(r.wallS) ? r.wallS : wallMs / 1000) - tailS);
  const offered = st.created / sendS;
  // a message the sender saw accepted but the recipient did not get within
  // cfg.msgDrainS of the senders' end is a failure too
  const undelivered = received === null ? 0 : Math.max(0, st.successful - received);
  const failures = st.failed + Math.max(0, n - st.successful - st.failed) + undelivered;
  // CPU per operation: per message the recipient got (per accepted one for the other kinds)
  const ops = received ?? st.successful;
  return {
    rate,
    calls: n,
    successful: st.successful,
    failed: st.failed,
    ...(msg ? { received, undelivered, receivedInTheEnd: msg.received } : {}),
    failures,
    retransmissions: st.retransmissions,
    offeredRate: Math.round(offered),
    achievedRate: Math.round(st.successful / sendS),
    serverCpuPct: round1(cpuPercent(sBefore, sAfter, wallMs)),
    serverCpuUsPerOp: ops ? Math.round((serverTicks / CLK_TCK / ops) * 1e6) : null,
    uacCpuPct: round1((r.cpuS / r.wallS) * 100),
    uasCpuPct: uasCpu === null ? null : round1(uasCpu),
    // datagrams the kernel dropped for a full receive buffer during the step, on any socket of the machine
    udpDrops: udpRcvbufErrors() - dropsBefore,
    sippExit: r.code,
    stderr: r.code ? r.stderr.slice(0, 500) : undefined,
  };
}

/** the kernel's count of UDP datagrams dropped because a socket's receive buffer was full (/proc/net/snmp) */
function udpRcvbufErrors() {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]) || 0;
  } catch {
    return 0;
  }
}

/** the injection file's lines for source i of k (every k-th user), written beside it */
function usersOfSource(path, i, k) {
  const out = path.replace(/\.csv$/, `.src${i}of${k}.csv`);
  const [head, ...rows] = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  writeFileSync(out, [head, ...rows.filter((_, j) => j % k === i), ''].join('\n'));
  return out;
}

/**
 * The step's SIPp client, or cfg.sources of them at once, each from its own
 * loopback address (127.0.0.10, .11, ...) with its share of the rate and the
 * calls; their statistics summed (wall time: the longest).
 */
async function sippFromSources(kind, server, args, name, rate, n) {
  const scenario = join(SIPP, { register: 'register-auth.xml', calls: 'call-auth-uac.xml', messages: 'message-auth.xml' }[kind]);
  const limitS = cfg.stepS * 3 + 60;
  const k = cfg.sources;
  if (k === 1) return runSippClient({ scenario, target: server.target, args, dir: work, name, limitS });
  const share = (total, i) => Math.floor(total / k) + (i < total % k ? 1 : 0);
  const runs = await Promise.all(
    Array.from({ length: k }, (_, i) => {
      // -r and -m of this client; -l (concurrent calls) split too
      const a = [...args];
      const set = (flag, v) => {
        const j = a.indexOf(flag);
        if (j >= 0) a[j + 1] = String(v);
      };
      set('-r', Math.max(1, share(rate, i)));
      set('-m', Math.max(1, share(n, i)));
      const l = a.indexOf('-l');
      if (l >= 0) set('-l', Math.ceil(Number(a[l + 1]) / k));
      // each source its own users, as phones each have their own address: one
      // user registering from two addresses by turns would be a phone moving
      const f = a.indexOf('-inf');
      if (f >= 0) a[f + 1] = usersOfSource(a[f + 1], i, k);
      return runSippClient({ scenario, target: server.target, args: [...a, '-i', `127.0.0.${10 + i}`], dir: work, name: `${name}-src${i}`, limitS });
    }),
  );
  const sum = (key) => runs.reduce((t, r) => t + (r.stats?.[key] ?? 0), 0);
  const stats = runs.some((r) => r.stats) ? { successful: sum('successful'), failed: sum('failed'), created: sum('created'), retransmissions: sum('retransmissions') } : null;
  return {
    code: runs.find((r) => r.code)?.code ?? 0,
    stats,
    cpuS: runs.reduce((t, r) => t + r.cpuS, 0),
    wallS: Math.max(...runs.map((r) => r.wallS)),
    stderr: runs.map((r) => r.stderr).join('\n'),
  };
}

const round1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

async function ladder(server, kind, rates) {
  const steps = [];
  let best = null;
  const tryRate = async (rate) => {
    const s = await step(server, kind, rate);
    s.ok = s.failures === 0 && s.offeredRate >= rate * MIN_RATE_FRACTION;
    steps.push(s);
    log(
      `${server.name} ${kind} ${rate}/s: ok=${s.ok} success=${s.successful} failed=${s.failed}` +
        (s.received === undefined ? '' : ` received=${s.received} (in the end ${s.receivedInTheEnd})`) +
        ` offered=${s.offeredRate}/s server=${s.serverCpuPct}% (${s.serverCpuUsPerOp} us/op)` +
        ` uac=${s.uacCpuPct}%${s.uasCpuPct !== null ? ` uas=${s.uasCpuPct}%` : ''} udp_drops=${s.udpDrops}`,
    );
    // Let retransmission timers and the registrar settle between steps.
    await sleep(3000);
    return s;
  };
  // A warm-up at half the first rate, not counted: the JIT of a Node server
  // (of each worker, which sees its share of the load) compiles the hot
  // paths in the first seconds, which would otherwise fall in the first step.
  if (cfg.warmupS > 0 && rates.length > 0) {
    const stepS = cfg.stepS;
    cfg.stepS = cfg.warmupS;
    try {
      const rate = Math.max(1, Math.round(rates[0] / 2));
      const w = await step(server, kind, rate);
      log(`${server.name} ${kind} warm-up ${rate}/s for ${cfg.warmupS} s: success=${w.successful} failed=${w.failed} (not counted)`);
    } finally {
      cfg.stepS = stepS;
    }
    await sleep(3000);
  }
  let failedAt = null;
  for (const rate of rates) {
    const s = await tryRate(rate);
    if (!s.ok) {
      failedAt = s;
      break;
    }
    best = s;
  }
  // One bisection between the last good step and the first bad one, so
  // coarse ladders still give a figure to within a quarter of the gap.
  if (failedAt) {
    const lo = best ? best.rate : 0;
    const mid = Math.round((lo + failedAt.rate) / 2 / 50) * 50;
    if (mid > lo && mid < failedAt.rate) {
      const s = await tryRate(mid);
      if (s.ok) best = s;
    }
  }
  return { best, steps };
}

async function registerCallees(server) {
  const r = await runSippClient({
    scenario: join(SIPP, 'register-auth.xml'),
    target: server.target,
    dir: work,
    name: `${server.name}-callees`,
    limitS: 120,
    args: [
      '-inf',
      join(work, 'callees.csv'),
      '-r',
      '200',
      '-m',
      String(CALLEES.length),
      '-p',
      String(PORT.calleeReg),
      '-mp',
      String(PORT.calleeRegMedia),
      '-set',
      'contact',
      `127.0.0.1:${PORT.uas}`,
      '-set',
      'expires',
      '7200',
      '-recv_timeout',
      '10000',
    ],
  });
  if (!r.stats || r.stats.successful !== CALLEES.length) {
    throw new Error(`registering callees on ${server.name} failed: ${JSON.stringify(r.stats)} ${r.stderr}`);
  }
}

// The messages part measures throughput, not Palisade's limiter: the limits
// of the `messaging:` section (docs/configuration.md) are raised past what
// the ladder offers — flood_rate 0 switches the per-address flood rule off
// (every sender is SIPp on 127.0.0.1), and 500 senders at the top rate send
// far fewer than 100,000 messages a minute each. Only written when the part
// runs, so a baseline checkout older than messaging still starts for the others.
const MESSAGING_YAML = ['messaging:', '  rate_per_user: 100000', '  max_recipients: 100000', '  flood_rate: 0'].join('\n');

async function benchServer(name) {
  const out = {};
  let server;
  const extraYaml = cfg.parts.includes('messages') ? MESSAGING_YAML : '';
  try {
    if (name === 'kamailio') server = await startKamailio({ dir: work, port: PORT.kamailio });
    else if (name === 'baseline') {
      if (!env.BENCH_BASELINE) throw new Error('BENCH_BASELINE names no checkout to measure');
      server = await startPalisade({ dir: work, port: PORT.baseline, usersCsv: join(work, 'palisade-users.csv'), root: env.BENCH_BASELINE, name: 'baseline', extraYaml });
    } else if (/^baseline-w\d+$/.test(name)) {
      // the BENCH_BASELINE checkout with sip.workers N, beside palisade-wN
      if (!env.BENCH_BASELINE) throw new Error('BENCH_BASELINE names no checkout to measure');
      server = await startPalisade({
        dir: work,
        port: PORT.baseline,
        usersCsv: join(work, 'palisade-users.csv'),
        root: env.BENCH_BASELINE,
        name,
        workers: Number(name.slice(10)),
        extraYaml,
      });
    } else if (/^palisade-w\d+$/.test(name)) {
      // several workers (sip.workers); pair with BENCH_SOURCES >= the workers
      server = await startPalisade({ dir: work, port: PORT.palisadeW, usersCsv: join(work, 'palisade-users.csv'), name, workers: Number(name.slice(10)), extraYaml });
    } else server = await startPalisade({ dir: work, port: PORT.palisade, usersCsv: join(work, 'palisade-users.csv'), extraYaml });
  } catch (e) {
    log(`${name}: not run: ${e.message.split('\n')[0]}`);
    return { error: e.message.slice(0, 1000) };
  }
  try {
    log(`${name} started, pid ${server.pid}`);
    if (cfg.parts.includes('register')) out.register = await ladder(server, 'register', cfg.regRates);
    if (cfg.parts.includes('calls')) {
      if (out.register) {
        // Let the REGISTER load's completed transactions expire (Timer J is
        // 64*T1 = 32 s over UDP, RFC 3261 §17.2.2) so the call ladder starts
        // from a steady state, not while the last ladder's state is reclaimed.
        log(`${name}: settling ${cfg.settleS} s between parts`);
        await sleep(cfg.settleS * 1000);
      }
      await registerCallees(server);
      out.calls = await ladder(server, 'calls', cfg.callRates);
    }
    if (cfg.parts.includes('messages')) {
      if (out.register || out.calls) {
        log(`${name}: settling ${cfg.settleS} s between parts`);
        await sleep(cfg.settleS * 1000);
      }
      // the recipients: the callees, their Contact at the UAS port (again
      // after calls: a refresh, the same binding)
      await registerCallees(server);
      out.messages = await ladder(server, 'messages', cfg.msgRates);
    }
  } catch (e) {
    log(`${name}: ${e.message}`);
    out.error = e.message.slice(0, 1000);
  } finally {
    await server.stop();
  }
  return out;
}

/** (d) the security micro-benchmark (bench/security-bench.mjs) in its own process */
function securityPart() {
  try {
    const out = execFileSync(process.execPath, [join(ROOT, 'bench', 'security-bench.mjs'), '--json'], { encoding: 'utf8', timeout: 600_000 });
    const jsonLine = out.split('\n').find((l) => l.startsWith('SECURITY_JSON '));
    return {
      ...(jsonLine ? JSON.parse(jsonLine.slice('SECURITY_JSON '.length)) : {}),
      text: out
        .split('\n')
        .filter((l) => !l.startsWith('SECURITY_JSON '))
        .join('\n')
        .trim(),
    };
  } catch (e) {
    return { error: String(e.message).slice(0, 1000) };
  }
}

/** (e) calls out of a SIP trunk beside extension-to-extension calls (bench/trunk-bench.mjs) in its own process */
function trunkPart() {
  try {
    const text = execFileSync(process.execPath, [join(ROOT, 'bench', 'trunk-bench.mjs')], {
      encoding: 'utf8',
      timeout: 1_800_000,
      env: { ...env, BENCH_STEP_SECONDS: env.BENCH_TRUNK_STEP_SECONDS ?? '10' },
    });
    return { text: text.trim() };
  } catch (e) {
    return { error: String(e.message ?? e).slice(0, 1000) };
  }
}

/**
 * A bench script of its own process (bench/iax2-bench.mjs, bench/console-bench.mjs): its text
 * for the report, and the figures of the last line it prints that is a JSON object.
 */
function scriptPart(file, timeoutMs) {
  try {
    const text = execFileSync(process.execPath, [join(ROOT, 'bench', file)], { encoding: 'utf8', timeout: timeoutMs, env });
    const lines = text.trim().split('\n');
    const json = lines.findLast((l) => l.startsWith('{'));
    return { text: lines.filter((l) => !l.startsWith('{')).join('\n'), ...(json ? { figures: JSON.parse(json) } : {}) };
  } catch (e) {
    return { error: String(e.message ?? e).slice(0, 1000) };
  }
}

// name 'baseline': the BENCH_BASELINE checkout, measured the same way in the same run
async function rssPart(name = 'palisade') {
  const users = userRange(10000, 10000 + cfg.rssContacts - 1);
  const csv = join(work, 'rss-users.csv');
  writePalisadeCsv(csv, users);
  writeSippCsv(join(work, 'rss.csv'), users);
  let server;
  try {
    server = await startPalisade({
      dir: join(work, `rss-${name}`),
      port: PORT.palisade,
      usersCsv: csv,
      ...(name === 'baseline' ? { root: env.BENCH_BASELINE, name } : {}),
    });
  } catch (e) {
    log(`${name} rss: not run: ${e.message.split('\n')[0]}`);
    return { error: e.message.slice(0, 1000) };
  }
  try {
    await sleep(1000);
    const before = treeRss(server.pid);
    const rate = 500;
    const r = await runSippClient({
      scenario: join(SIPP, 'register-auth.xml'),
      target: server.target,
      dir: work,
      name: `${name}-rss`,
      limitS: (cfg.rssContacts / rate) * 3 + 60,
      // Contacts point at a loopback port nobody serves; qualify is off.
      args: [
        '-inf',
        join(work, 'rss.csv'),
        '-r',
        String(rate),
        '-m',
        String(cfg.rssContacts),
        '-p',
        String(PORT.rssReg),
        '-mp',
        String(PORT.rssRegMedia),
        '-set',
        'contact',
        `127.0.0.1:${PORT.nobody}`,
        '-set',
        'expires',
        '7200',
        '-recv_timeout',
        '10000',
      ],
    });
    await sleep(3000);
    const after = treeRss(server.pid);
    return {
      contacts: r.stats?.successful ?? 0,
      failed: r.stats?.failed ?? null,
      rssBeforeMb: round1(before / 2 ** 20),
      rssMb: round1(after / 2 ** 20),
      targetMb: cfg.rssTargetMb,
    };
  } finally {
    await server.stop();
  }
}

function pad(s, n) {
  s = String(s ?? '-');
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** a ladder that passed every step: its figure is the ladder's top, not the server's limit */
function passedTop(ladder) {
  return ladder !== undefined && !ladder.steps.some((x) => !x.ok);
}

function table(title, kind, results, reference) {
  const rates = { register: cfg.regRates, calls: cfg.callRates, messages: cfg.msgRates }[kind];
  const lines = [`\n${title}`, `${cfg.stepS} s per step, rates ${rates.join(',')}`];
  const head = ['server', 'rate/s', 'failures', 'server CPU%', 'CPU us/op', 'SIPp UAC CPU%', 'SIPp UAS CPU%', 'next step'];
  lines.push(head.map((h, i) => pad(h, [13, 8, 9, 12, 10, 14, 14, 30][i])).join(''));
  for (const name of cfg.servers) {
    const r = results[name]?.[kind];
    if (!r) {
      lines.push(`${pad(name, 13)}not run${results[name]?.error ? `: ${results[name].error.split('\n')[0].slice(0, 100)}` : ''}`);
      continue;
    }
    const b = r.best;
    const next = r.steps.filter((x) => !x.ok).sort((x, y) => x.rate - y.rate)[0];
    const nextTxt = next ? `${next.rate}/s: ${next.failures} failed, offered ${next.offeredRate}/s` : 'none (top of ladder)';
    lines.push(
      [name, b ? b.rate : 0, b ? b.failures : '-', b?.serverCpuPct, b?.serverCpuUsPerOp, b?.uacCpuPct, b?.uasCpuPct ?? '-', nextTxt]
        .map((v, i) => pad(v, [13, 8, 9, 12, 10, 14, 14, 30][i]))
        .join(''),
    );
  }
  const kr = results.kamailio?.[kind];
  const k = kr?.best?.rate;
  // Kamailio passed every step: its figure is the ladder's top, not its limit, so a ratio is only a bound
  const kTop = k !== undefined && passedTop(kr);
  const topped = (name) => passedTop(results[name]?.[kind]);
  const ratio = (name) => {
    const x = results[name]?.[kind]?.best?.rate;
    if (!k || x === undefined) return 'n/a';
    if (kTop && topped(name)) return 'n/a (both passed the top step)';
    return `${kTop ? '<= ' : ''}${(x / k).toFixed(2)}`;
  };
  lines.push(`ratio palisade/kamailio: ${ratio('palisade')}` + `   (reference: ${reference})`);
  // several workers (palisade-wN) beside Kamailio, which uses every core too
  for (const w of cfg.servers.filter((n) => /^palisade-w\d+$/.test(n))) {
    lines.push(`ratio ${w}/kamailio: ${ratio(w)} (${cfg.sources} SIPp source address${cfg.sources > 1 ? 'es' : ''})`);
  }
  if (kTop) {
    // what the ladder cannot say, the CPU each operation took at each server's best step can
    const kUs = kr.best.serverCpuUsPerOp;
    const per = cfg.servers
      .filter((n) => n !== 'kamailio' && results[n]?.[kind]?.best)
      .map((n) => `${n} ${results[n][kind].best.serverCpuUsPerOp} us (${(kUs / results[n][kind].best.serverCpuUsPerOp).toFixed(2)}x Kamailio's speed)`);
    lines.push(`Kamailio passed the ladder's top (${k}/s): the ratios above are bounds; raise the rates to find its limit.`);
    if (per.length) lines.push(`CPU per operation at each server's best step: kamailio ${kUs} us; ${per.join('; ')}`);
  }
  const base = results.baseline?.[kind]?.best?.rate;
  if (base !== undefined)
    lines.push(
      `ratio baseline/kamailio: ${k ? (base / k).toFixed(2) : 'n/a'}; palisade/baseline: ${base && results.palisade?.[kind]?.best ? (results.palisade[kind].best.rate / base).toFixed(2) : 'n/a'}`,
    );
  lines.push(...roundLines(kind, results));
  return lines.join('\n');
}

function writeUserFiles() {
  writeSippCsv(join(work, 'reg.csv'), REG_USERS);
  writeSippCsv(join(work, 'calls.csv'), CALLERS, CALLEES);
  writeSippCsv(join(work, 'callees.csv'), CALLEES);
  writePalisadeCsv(join(work, 'palisade-users.csv'), REG_USERS);
}

const KINDS = ['register', 'calls', 'messages'];

/**
 * BENCH_ROUNDS: each server's figure per part is its median round (of an
 * even count, the lower middle one), ranked by the rate it reached; a
 * server's other fields (an error) come from its first round.
 */
function medianRound(rounds) {
  const out = {};
  for (const name of cfg.servers) {
    out[name] = { ...rounds[0][name] };
    for (const kind of KINDS) {
      const runs = rounds.map((r) => r[name]?.[kind]).filter(Boolean);
      if (runs.length === 0) continue;
      runs.sort((a, b) => (a.best?.rate ?? 0) - (b.best?.rate ?? 0));
      out[name][kind] = runs[Math.floor((runs.length - 1) / 2)];
    }
  }
  return out;
}

/** with BENCH_ROUNDS > 1: each round's rates, and its ratios to the same round's Kamailio */
function roundLines(kind, results) {
  const rounds = results.rounds;
  if (!rounds) return [];
  const rate = (round, name) => round[name]?.[kind]?.best?.rate;
  const lines = [`rounds (median above${rounds.length % 2 === 0 ? ', of an even count the lower middle' : ''}):`];
  rounds.forEach((round, i) => {
    const k = rate(round, 'kamailio');
    const each = cfg.servers.map((n) => `${n} ${rate(round, n) ?? 'not run'}`);
    // as in the table: a ladder passed to its top gives a bound, not a limit
    const topped = (n) => passedTop(round[n]?.[kind]);
    const ratio = (n) => (topped('kamailio') && topped(n) ? 'n/a' : `${topped('kamailio') ? '<= ' : ''}${(rate(round, n) / k).toFixed(2)}`);
    const ratios = k ? cfg.servers.filter((n) => n !== 'kamailio' && rate(round, n) !== undefined).map((n) => `${n}/kamailio ${ratio(n)}`) : [];
    lines.push(`  ${i + 1}: ${each.join(', ')}${ratios.length ? `; ${ratios.join(', ')}` : ''}`);
  });
  return lines;
}

async function main() {
  const results = { machine: machine(), config: cfg, startedAt: new Date().toISOString() };
  await pickPorts();
  log(`work dir ${work}; ports ${JSON.stringify(PORT)}`);
  writeUserFiles();

  // servers are started only for the parts that load them
  if (cfg.parts.some((p) => p === 'register' || p === 'calls' || p === 'messages')) {
    const rounds = [];
    for (let r = 1; r <= cfg.rounds; r++) {
      // every round in a work dir of its own: fresh servers, fresh databases
      if (r > 1) {
        work = join(benchRoot, `round-${r}`);
        mkdirSync(work);
        writeUserFiles();
        log(`round ${r} of ${cfg.rounds}`);
      }
      const round = {};
      for (const name of cfg.servers) round[name] = await benchServer(name);
      rounds.push(round);
    }
    Object.assign(results, medianRound(rounds));
    if (cfg.rounds > 1) results.rounds = rounds;
  }
  if (cfg.parts.includes('rss') && cfg.servers.includes('baseline') && env.BENCH_BASELINE) results.rssBaseline = await rssPart('baseline');
  if (cfg.parts.includes('rss') && cfg.servers.includes('palisade')) results.rss = await rssPart();
  if (cfg.parts.includes('security')) results.security = securityPart();
  if (cfg.parts.includes('trunk')) results.trunk = trunkPart();
  if (cfg.parts.includes('iax2')) results.iax2 = scriptPart('iax2-bench.mjs', 900_000);
  if (cfg.parts.includes('console')) results.console = scriptPart('console-bench.mjs', 900_000);
  results.finishedAt = new Date().toISOString();

  const m = results.machine;
  const out = [`Machine: ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB; node ${m.node}; SIPp ${m.sipp}; Kamailio ${m.kamailio}; all on loopback, SIPp on the same box`];
  if (cfg.parts.includes('register'))
    out.push(table('(a) REGISTER with digest: REGISTER -> 401 -> REGISTER+auth -> 200', 'register', results, 'Kamailio 5.6.3 on this kind of machine 7,770/s'));
  if (cfg.parts.includes('calls'))
    out.push(table('(b) calls: INVITE -> 407 -> INVITE+auth -> 200 -> ACK -> 1 s -> BYE (callee: SIPp UAS)', 'calls', results, 'Kamailio 5.6.3 on this kind of machine 1,790/s'));
  if (cfg.parts.includes('messages'))
    out.push(
      table(
        '(f) messages: MESSAGE -> 401/407 -> MESSAGE+auth -> 202/200, every one received by the registered recipient (SIPp UAS answering 200); CPU us/op per message received',
        'messages',
        results,
        'RiVS about 800 messages/s through its broker',
      ),
    );
  for (const [who, r] of [
    ['Palisade', results.rss],
    ['Baseline', results.rssBaseline],
  ]) {
    if (!r) continue;
    out.push(
      r.error
        ? `\n(c) ${who} RSS with ${cfg.rssContacts} contacts: not run: ${r.error.split('\n')[0].slice(0, 200)}`
        : `\n(c) ${who} RSS with ${r.contacts} registered contacts: ${r.rssMb} MB (before: ${r.rssBeforeMb} MB; target ${r.targetMb} MB) ${r.rssMb <= r.targetMb ? 'OK' : 'OVER TARGET'}`,
    );
  }
  if (results.security) out.push(`\n(d) ${results.security.text ?? results.security.error}`);
  if (results.trunk) out.push(`\n(e) calls out of a SIP trunk beside extension-to-extension calls\n${results.trunk.text ?? results.trunk.error}`);
  if (results.iax2) out.push(`\n(f) IAX2 calls between two Palisade instances\n${results.iax2.text ?? results.iax2.error}`);
  if (results.console) out.push(`\n(g) the console: calls with and without its event stream open, API latency during calls\n${results.console.text ?? results.console.error}`);
  console.log(out.join('\n'));
  const resFile = env.BENCH_RESULTS ?? join(ROOT, 'bench', 'results', 'latest.json');
  mkdirSync(dirname(resFile), { recursive: true });
  writeFileSync(resFile, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nresults: ${resFile}${env.BENCH_KEEP_DIR ? `; logs in ${benchRoot}` : ''}`);
}

let exiting = false;
async function cleanup(code) {
  if (exiting) return;
  exiting = true;
  await stopAll();
  if (!env.BENCH_KEEP_DIR) rmSync(benchRoot, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void cleanup(130));
process.on('SIGTERM', () => void cleanup(143));
try {
  await main();
  await cleanup(0);
} catch (e) {
  console.error(e);
  await cleanup(1);
}
