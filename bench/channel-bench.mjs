#!/usr/bin/env node
// Issue 3 media bench: concurrent calls answered by a channel (the dialplan
// plays a prompt, then echoes the caller's audio), SIPp sending G.711 RTP
// by pcap play on every call (call-auth-uac.xml with rtp_pcap=1). Measures
// Palisade's CPU per call at steady state, and loss and jitter with tshark
// on a sample of the RTP streams.
//
// Environment (defaults in brackets):
//   BENCH_CH_CALLS    20     concurrent calls (500 for the target)
//   BENCH_CH_RATE     10     new calls per second while ramping up
//   BENCH_CH_HOLD_MS  12000  how long each call stays up
//   BENCH_CH_SAMPLE   10     port pairs (calls) captured with tshark
//   BENCH_CH_NODE_ARGS extra node options for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_KEEP_DIR    1 keeps the work dir
//   BENCH_RESULTS     results file (bench/results/channels-latest.json)
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { runSippClient, lastStatRow } from './lib/sipp-run.mjs';
import { startProcess, stopTree, stopAll, treeTicks, cpuPercent, treeRss, sleep, track } from './lib/procs.mjs';
import { userRange, writeSippCsv, writePalisadeCsv } from './lib/users.mjs';
import { freePortBlocks } from './lib/ports.mjs';
import { writeJitterPcap } from '../dist/test/helpers/jitter-pcap.js';
import { readFileSync } from 'node:fs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const cfg = {
  calls: Number(env.BENCH_CH_CALLS ?? 20),
  rate: Number(env.BENCH_CH_RATE ?? 10),
  holdMs: Number(env.BENCH_CH_HOLD_MS ?? 12000),
  sample: Number(env.BENCH_CH_SAMPLE ?? 10),
};
const log = (...a) => console.error(`[channel-bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const work = mkdtempSync(join(tmpdir(), 'palisade-chbench-'));

async function main() {
  const [sipPort, uacPort, mediaPort] = await freePortBlocks(3, 4, 26000);
  const [rtpMin] = await freePortBlocks(1, 4 * cfg.calls + 40, 30000);
  const rtpBase = rtpMin % 2 === 0 ? rtpMin : rtpMin + 1;
  const rtpMax = rtpBase + 4 * cfg.calls + 39;
  const users = userRange(100000, 100000 + cfg.calls - 1);
  const run = join(work, 'palisade');
  mkdirSync(run, { recursive: true });
  const sippCsv = join(work, 'callers.csv');
  const palCsv = join(work, 'users.csv');
  writeSippCsv(sippCsv, users, ['7000']);
  writePalisadeCsv(palCsv, users);
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
      // the real dialplan engine: 7000 answers, plays a prompt, then echoes
      'dialplan:',
      `  file: ${join(run, 'extensions.conf')}`,
      '',
    ].join('\n'),
  );
  // imported extensions are in context "default"
  writeFileSync(join(run, 'extensions.conf'), '[default]\nexten => 7000,1,Answer()\n same => n,Playback(vm-intro)\n same => n,Echo()\n');
  const imp = spawnSync(process.execPath, [join(ROOT, 'bin', 'palisade.js'), 'users', 'import', palCsv, '--config', config], { cwd: run, encoding: 'utf8', timeout: 300_000 });
  if (imp.status !== 0) throw new Error(`users import failed: ${imp.stderr || imp.stdout}`);

  const nodeArgs = (env.BENCH_CH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = startProcess(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'palisade.js'), 'start', '--config', config], { logPath: join(run, 'palisade.log'), cwd: run });
  await sleep(1500);
  if (server.child.exitCode !== null) throw new Error('palisade exited; see ' + join(run, 'palisade.log'));

  // tshark on the first port pairs of Palisade's range: the pool hands them out first
  const pcap = join(work, 'sample.pcap');
  const sampleMax = rtpBase + 4 * cfg.sample - 1;
  const cap = spawn('tshark', ['-i', 'lo', '-f', `udp and portrange ${rtpBase}-${sampleMax}`, '-w', pcap, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  track(cap);
  await new Promise((res) => {
    let e = '';
    cap.stderr.on('data', (d) => {
      e += d;
      if (e.includes('Capturing on')) res();
    });
    setTimeout(res, 5000);
  });

  log(`${cfg.calls} calls at ${cfg.rate}/s, held ${cfg.holdMs} ms; RTP ${rtpBase}-${rtpMax}; sampling ${cfg.sample} calls`);
  const rampS = cfg.calls / cfg.rate;
  const sippName = 'uac';
  // media on every call for its whole life: a continuous PCMA stream as long
  // as the longest call, in a copy of the scenario that plays it
  const pcapPath = writeJitterPcap(join(work, 'pcma-440.pcap'), { seconds: rampS * 4 + cfg.holdMs / 1000 + 10, jitterMs: 0, toneHz: 440 });
  const scenario = join(work, 'call-auth-uac.xml');
  writeFileSync(scenario, readFileSync(join(ROOT, 'test', 'sipp', 'call-auth-uac.xml'), 'utf8').replace('/usr/share/sip-tester/g711a.pcap', pcapPath));
  const sippP = runSippClient({
    scenario,
    target: `127.0.0.1:${sipPort}`,
    dir: work,
    name: sippName,
    limitS: rampS * 4 + cfg.holdMs / 1000 + 60,
    args: [
      '-i',
      '127.0.0.1',
      '-p',
      String(uacPort),
      '-mp',
      String(mediaPort),
      '-inf',
      sippCsv,
      '-set',
      'rtp_pcap',
      '1',
      '-m',
      String(cfg.calls),
      '-r',
      String(cfg.rate),
      '-l',
      String(cfg.calls),
      '-d',
      String(cfg.holdMs),
      '-s',
      '7000',
    ],
  });
  // steady state: every call up; measure CPU over a window inside the hold time
  const windowMs = 5000;
  // SIPp may ramp slower than asked (each call authenticates first): wait
  // until every call is up, as SIPp counts them, before measuring
  const statFile = join(work, `${sippName}.stat.csv`);
  const upBy = Date.now() + rampS * 4000 + 10_000;
  let concurrent = NaN;
  for (;;) {
    await sleep(1000);
    concurrent = Number(lastStatRow(statFile)?.['CurrentCall'] ?? NaN);
    if (concurrent >= cfg.calls || Date.now() > upBy) break;
  }
  log(`${concurrent} calls up; measuring`);
  const t0 = treeTicks(server.child.pid);
  const w0 = Date.now();
  await sleep(windowMs);
  const cpu = cpuPercent(t0, treeTicks(server.child.pid), Date.now() - w0);
  const rssMb = Math.round(treeRss(server.child.pid) / 1048576);
  const sipp = await sippP;
  cap.kill('SIGINT');
  await new Promise((r) => cap.once('exit', r));

  // tshark's per-stream figures (the SDP is in the capture's ports only, so heuristics)
  const out = execFileSync('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams'], { encoding: 'utf8', timeout: 120_000 });
  const streams = [];
  for (const line of out.split('\n')) {
    // start, end, src addr, src port, dst addr, dst port, SSRC, payload, pkts, lost (pct), min/mean/max delta, min/mean/max jitter
    const m =
      /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+)\s+\((-?[\d.]+)%\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(
        line,
      );
    if (!m) continue;
    const fromPalisade = Number(m[2]) >= rtpBase && Number(m[2]) <= sampleMax;
    streams.push({
      fromPalisade,
      payload: m[6].trim(),
      packets: Number(m[7]),
      lost: Number(m[8]),
      lostPct: Number(m[9]),
      maxDeltaMs: Number(m[12]),
      meanJitterMs: Number(m[14]),
      maxJitterMs: Number(m[15]),
    });
  }
  const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);
  const agg = (xs) => ({
    streams: xs.length,
    packets: sum(xs, (s) => s.packets),
    lostPct: xs.length
      ? +(
          (100 * sum(xs, (s) => Math.max(0, s.lost))) /
          Math.max(
            1,
            sum(xs, (s) => s.packets + Math.max(0, s.lost)),
          )
        ).toFixed(3)
      : null,
    maxJitterMs: xs.length ? Math.max(...xs.map((s) => s.maxJitterMs)) : null,
    meanJitterMs: xs.length ? +(sum(xs, (s) => s.meanJitterMs) / xs.length).toFixed(3) : null,
  });
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    config: cfg,
    sipp: sipp.stats,
    concurrentCalls: concurrent,
    palisadeCpuPercent: +cpu.toFixed(1),
    cpuPerCallPercent: concurrent > 0 ? +(cpu / concurrent).toFixed(3) : null,
    palisadeRssMb: rssMb,
    rtpFromPalisade: agg(streams.filter((s) => s.fromPalisade)),
    rtpToPalisade: agg(streams.filter((s) => !s.fromPalisade)),
  };
  console.log(JSON.stringify(result, null, 2));
  const file = env.BENCH_RESULTS ?? join(ROOT, 'bench', 'results', 'channels-latest.json');
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  await stopTree(server.child.pid);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    if (env.BENCH_KEEP_DIR !== '1') rmSync(work, { recursive: true, force: true });
    else log('kept', work);
  });
