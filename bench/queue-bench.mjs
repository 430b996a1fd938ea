#!/usr/bin/env node
// Issue 11 queue bench: one queue (rrmemory) with BENCH_Q_AGENTS
// SIPp agents and BENCH_Q_CALLERS callers arriving at BENCH_Q_RATE a second.
// Agents are registered extensions whose contact is one SIPp UAS
// (uas-bye.xml: answers, talks BENCH_Q_TALK_MS, hangs up); callers are SIPp
// UACs (call-callee-bye-uac.xml) that wait in Queue() until an agent has
// talked to them and hung up. Talk time is chosen so the agents cannot keep
// up with the arrivals: callers queue, and every agent that hangs up has a
// caller waiting for it.
//
// Figures:
//  - time from a free agent to its INVITE: for every agent call that follows
//    one of the same agent, the agent's BYE (sent, as SIPp's message trace
//    stamps it) to the next INVITE it receives (p50/p99/max, ms);
//  - Palisade's CPU over the run (% of one core) and per call;
//  - lost callers: callers whose call did not complete (SIPp failed calls),
//    and ABANDON / EXITWITHTIMEOUT lines in the queue_log (must be 0).
// There is no reference server here (no Asterisk on this machine), so no
// figure is printed beside ours.
//
// Environment (defaults in brackets):
//   BENCH_Q_AGENTS   50
//   BENCH_Q_CALLERS  500
//   BENCH_Q_RATE     50    callers per second
//   BENCH_Q_TALK_MS  1500  agent talk time (50 agents / 1.5 s = 33 calls/s < 50/s: callers queue)
//   BENCH_Q_UAS      5     SIPp UAS processes the agents are spread over
//   BENCH_Q_NODE_ARGS extra node options for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_KEEP_DIR   1 keeps the work dir
//   BENCH_RESULTS    results file (bench/results/queues-latest.json)
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runSippClient, lastStatRow } from './lib/sipp-run.mjs';
import { startProcess, stopTree, stopAll, treeTicks, cpuPercent, sleep, track } from './lib/procs.mjs';
import { userRange, writeSippCsv, writePalisadeCsv } from './lib/users.mjs';
import { freePortBlocks } from './lib/ports.mjs';
import { spawn } from 'node:child_process';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const cfg = {
  agents: Number(env.BENCH_Q_AGENTS ?? 50),
  callers: Number(env.BENCH_Q_CALLERS ?? 500),
  rate: Number(env.BENCH_Q_RATE ?? 50),
  talkMs: Number(env.BENCH_Q_TALK_MS ?? 1500),
  uas: Number(env.BENCH_Q_UAS ?? 5),
};
const log = (...a) => console.error(`[queue-bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const work = mkdtempSync(join(tmpdir(), 'palisade-qbench-'));

/** SIPp -trace_msg: [{ts (ms), dir 'sent'|'received', text}] */
function readMessages(path) {
  const out = [];
  const parts = readFileSync(path, 'utf8').split(/^-{20,} /m);
  for (const p of parts) {
    const m = /^(\d{4}-\d\d-\d\d)\s+(\d\d):(\d\d):(\d\d)\.(\d{6})/.exec(p);
    if (!m) continue;
    const ts = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`) + Number(m[5]) / 1000;
    const dir = /message sent/.test(p.slice(0, 200)) ? 'sent' : /message received/.test(p.slice(0, 200)) ? 'received' : null;
    if (!dir) continue;
    const body = p.slice(p.indexOf('\n', p.indexOf('\n') + 1) + 1).replace(/^\s*\n/, '');
    out.push({ ts, dir, text: body });
  }
  return out;
}

const header = (text, name) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(text)?.[1]?.trim() ?? '';
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : null);

async function main() {
  const [sipPort, uacPort, uacMedia] = await freePortBlocks(3, 4, 26000);
  const [rtpMin] = await freePortBlocks(1, 4 * cfg.callers + 400, 30000);
  const rtpBase = rtpMin % 2 === 0 ? rtpMin : rtpMin + 1;
  const rtpMax = rtpBase + 4 * cfg.callers + 399;
  const agents = userRange(100001, 100000 + cfg.agents);
  const callers = userRange(200001, 200000 + cfg.callers); // one call each
  const run = join(work, 'palisade');
  mkdirSync(run, { recursive: true });
  const palCsv = join(work, 'users.csv');
  writePalisadeCsv(palCsv, [...agents, ...callers]);
  const callerCsv = join(work, 'callers.csv');
  writeSippCsv(callerCsv, callers, ['7000']);
  const config = join(run, 'palisade.yaml');
  writeFileSync(
    config,
    [
      'sip:',
      `  listen: [udp:127.0.0.1:${sipPort}]`,
      '  domain: 127.0.0.1',
      'rtp:',
      `  ports: ${rtpBase}-${rtpMax}`,
      '  address: 127.0.0.1',
      'storage:',
      '  driver: sqlite',
      `  path: ${join(run, 'palisade.db')}`,
      'control:',
      `  socket: ${join(run, 'control.sock')}`,
      'registrar:',
      '  qualify_interval: 0',
      'log:',
      '  level: warn',
      'fraud:',
      '  defaults: { calls_per_minute: 1000, max_calls: 100, max_outbound_calls: 100 }',
      'dialplan:',
      `  file: ${join(run, 'extensions.conf')}`,
      'queues:',
      `  file: ${join(run, 'queues.conf')}`,
      `  log_file: ${join(run, 'queue_log')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(run, 'extensions.conf'), '[default]\nexten => 7000,1,Queue(bench)\n');
  writeFileSync(join(run, 'queues.conf'), `[bench]\nstrategy = rrmemory\ntimeout = 15\nretry = 1\n${agents.map((a) => `member => PJSIP/${a}`).join('\n')}\n`);
  const imp = spawnSync(process.execPath, [join(ROOT, 'bin', 'palisade.js'), 'users', 'import', palCsv, '--config', config], { cwd: run, encoding: 'utf8', timeout: 300_000 });
  if (imp.status !== 0) throw new Error(`users import failed: ${imp.stderr || imp.stdout}`);

  const nodeArgs = (env.BENCH_Q_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = startProcess(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'palisade.js'), 'start', '--config', config], { logPath: join(run, 'palisade.log'), cwd: run });
  await sleep(2000);
  if (server.child.exitCode !== null) throw new Error('palisade exited; see ' + join(run, 'palisade.log'));

  // the agents: BENCH_Q_UAS SIPp UAS processes (agents spread over them) that answer, talk, hang up
  const uasList = [];
  const per = Math.ceil(cfg.agents / cfg.uas);
  const uasPorts = await freePortBlocks(cfg.uas * 2, 4, 27000);
  for (let k = 0; k < cfg.uas; k++) {
    const mine = agents.slice(k * per, (k + 1) * per);
    if (mine.length === 0) break;
    const port = uasPorts[2 * k];
    const msgs = join(work, `uas${k}.msg.log`);
    const child = spawn(
      'timeout',
      [
        '-k',
        '5',
        '600',
        'sipp',
        '-sf',
        join(ROOT, 'test', 'sipp', 'uas-bye.xml'),
        '-nostdin',
        '-buff_size',
        '4194304',
        '-i',
        '127.0.0.1',
        '-p',
        String(port),
        '-mp',
        String(uasPorts[2 * k + 1]),
        '-d',
        String(cfg.talkMs),
        '-trace_msg',
        '-message_file',
        msgs,
        '-trace_stat',
        '-stf',
        join(work, `uas${k}.stat.csv`),
        '-fd',
        '1',
        '127.0.0.1',
      ],
      { cwd: work, stdio: 'ignore' },
    );
    track(child);
    uasList.push({ child, msgs, stat: join(work, `uas${k}.stat.csv`) });
    const csv = join(work, `agents${k}.csv`);
    writeSippCsv(csv, mine);
    const reg = await runSippClient({
      scenario: join(ROOT, 'test', 'sipp', 'register-auth.xml'),
      target: `127.0.0.1:${sipPort}`,
      dir: work,
      name: `register${k}`,
      limitS: 60,
      args: ['-i', '127.0.0.1', '-p', String(uacPort), '-inf', csv, '-set', 'contact', `127.0.0.1:${port}`, '-set', 'expires', '3600', '-m', String(mine.length), '-r', '50'],
    });
    if (reg.stats?.successful !== mine.length) throw new Error(`only ${reg.stats?.successful} of ${mine.length} agents registered`);
  }
  await sleep(1000);

  log(`${cfg.callers} callers at ${cfg.rate}/s into one queue of ${cfg.agents} agents talking ${cfg.talkMs} ms`);
  const t0 = treeTicks(server.child.pid);
  const w0 = Date.now();
  const callersRun = await runSippClient({
    scenario: join(ROOT, 'test', 'sipp', 'call-callee-bye-uac.xml'),
    target: `127.0.0.1:${sipPort}`,
    dir: work,
    name: 'callers',
    limitS: cfg.callers / cfg.rate + (cfg.callers * cfg.talkMs) / cfg.agents / 1000 + 60,
    args: [
      '-i',
      '127.0.0.1',
      '-p',
      String(uacPort),
      '-mp',
      String(uacMedia),
      '-inf',
      callerCsv,
      '-m',
      String(cfg.callers),
      '-r',
      String(cfg.rate),
      '-l',
      String(cfg.callers),
      '-s',
      '7000',
    ],
  });
  const wallMs = Date.now() - w0;
  const cpu = cpuPercent(t0, treeTicks(server.child.pid), wallMs);
  for (const u of uasList) {
    u.child.kill('SIGINT');
    await new Promise((r) => u.child.once('exit', r));
  }

  // the agents' side: BYE sent -> next INVITE received, per agent
  const msgs = uasList.flatMap((u) => readMessages(u.msgs)).sort((a, b) => a.ts - b.ts);
  const extOfCall = new Map();
  const lastFree = new Map();
  const gaps = [];
  for (const m of msgs) {
    const first = m.text.split('\n', 1)[0] ?? '';
    const callId = header(m.text, 'Call-ID');
    if (m.dir === 'received' && first.startsWith('INVITE ')) {
      const ext = /sip:([^@;>]+)@/.exec(first)?.[1] ?? '';
      extOfCall.set(callId, ext);
      const free = lastFree.get(ext);
      if (free !== undefined) gaps.push(m.ts - free);
      lastFree.delete(ext);
    } else if (m.dir === 'sent' && first.startsWith('BYE ')) {
      const ext = extOfCall.get(callId);
      if (ext) lastFree.set(ext, m.ts);
    }
  }
  gaps.sort((a, b) => a - b);
  const qlog = readFileSync(join(run, 'queue_log'), 'utf8').trim().split('\n');
  const count = (ev) => qlog.filter((l) => l.split('|')[4] === ev).length;
  await stopTree(server.pid);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    config: cfg,
    callers: callersRun.stats,
    // a caller is lost when the queue never connected it to an agent (it entered and left without CONNECT)
    lostCallers: count('ENTERQUEUE') - count('CONNECT') + (cfg.callers - count('ENTERQUEUE')),
    // calls that did not end cleanly on the caller's side (e.g. an agent UAS that dropped the call: see agentUasFailed)
    callsNotCompleted: cfg.callers - (callersRun.stats?.successful ?? 0),
    agentUasFailed: uasList.reduce((n, u) => n + (Number(lastStatRow(u.stat)?.['FailedCall(C)'] ?? 0) || 0), 0),
    queueLog: {
      ENTERQUEUE: count('ENTERQUEUE'),
      CONNECT: count('CONNECT'),
      ABANDON: count('ABANDON'),
      EXITWITHTIMEOUT: count('EXITWITHTIMEOUT'),
      RINGNOANSWER: count('RINGNOANSWER'),
    },
    freeAgentToInviteMs: { samples: gaps.length, p50: +pct(gaps, 50)?.toFixed(2), p99: +pct(gaps, 99)?.toFixed(2), max: +(gaps.at(-1) ?? NaN).toFixed(2) },
    palisadeCpuPercent: cpu,
    palisadeCpuMsPerCall: +(((cpu / 100) * wallMs) / cfg.callers).toFixed(2),
    wallS: +(wallMs / 1000).toFixed(1),
    reference: 'none: no Asterisk on this machine to run the same queue',
  };
  const out = env.BENCH_RESULTS ?? join(ROOT, 'bench', 'results', 'queues-latest.json');
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  log(
    `free agent -> INVITE p50 ${result.freeAgentToInviteMs.p50} ms, p99 ${result.freeAgentToInviteMs.p99} ms (${gaps.length} samples); Palisade CPU ${cpu.toFixed(1)}% of a core; lost callers ${result.lostCallers}; ABANDON ${result.queueLog.ABANDON}; calls not completed ${result.callsNotCompleted} (agent UAS failures ${result.agentUasFailed})`,
  );
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    if (env.BENCH_KEEP_DIR !== '1') rmSync(work, { recursive: true, force: true });
    else log(`work dir kept: ${work}`);
  });
