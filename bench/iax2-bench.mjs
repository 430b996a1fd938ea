#!/usr/bin/env node
// IAX2 calls between two Palisade instances with G.711 media (issue 9):
//
//   SIPp UAC (call-auth-uac.xml, PCMA pcap on every call)
//     → Palisade A: extension calls 9NNNN, the outbound route strips the 9
//       and dials IAX2/office-b/NNNN (a type: iax2 trunk)
//     → IAX2 trunk (NEW/AUTHREQ/ACCEPT, µ-law voice frames)
//     → Palisade B: the inbound route sends the DID to its extension NNNN
//     → SIPp UAS registered as NNNN, echoing the RTP it receives
//
// so every call's audio crosses both servers twice (there and back), each
// time through a channel: SIP→PCM→IAX2 at A, IAX2→PCM→SIP at B.
// BENCH_IAX_CALLS calls (100) are brought up at BENCH_IAX_RATE per second
// and held; at steady state both servers' CPU is taken over a window, and
// tshark on the caller's media port reads the streams coming back (RTP
// sequence gaps, and packets per second against the 50 a 20 ms stream
// sends) to report loss. Figures are printed as text and JSON.
//
// Environment: BENCH_IAX_CALLS (100), BENCH_IAX_RATE (10), BENCH_IAX_HOLD_MS (25000),
// BENCH_IAX_WINDOW_S (8), BENCH_KEEP_DIR=1 keeps the work dir.
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, execFileSync } from 'node:child_process';
import { startPalisade } from './lib/servers.mjs';
import { runSippClient, lastStatRow } from './lib/sipp-run.mjs';
import { startProcess, stopTree, stopAll, treeTicks, cpuPercent, treeRss, sleep, track } from './lib/procs.mjs';
import { userRange, writeSippCsv, writePalisadeCsv, benchPassword } from './lib/users.mjs';
import { freePortBlocks } from './lib/ports.mjs';
import { writeJitterPcap } from '../dist/test/helpers/jitter-pcap.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIPP = join(ROOT, 'test', 'sipp');
const env = process.env;
const cfg = {
  calls: Number(env.BENCH_IAX_CALLS ?? 100),
  rate: Number(env.BENCH_IAX_RATE ?? 10),
  holdMs: Number(env.BENCH_IAX_HOLD_MS ?? 25000),
  windowS: Number(env.BENCH_IAX_WINDOW_S ?? 8),
};
const work = mkdtempSync(join(tmpdir(), 'palisade-iax2-bench-'));
const log = (m) => console.error(`[iax2-bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

const CALLERS = userRange(4000, 4000 + cfg.calls - 1);
const CALLEES = userRange(5000, 5009);

async function main() {
  const [sipA, sipB, iaxA, iaxB, uac, uacMedia, uas, uasMedia, reg, regMedia] = await freePortBlocks(10, 4, 20000, 39999);
  writeSippCsv(
    join(work, 'callers.csv'),
    CALLERS,
    CALLERS.map((_, i) => `9${CALLEES[i % CALLEES.length]}`),
  );
  writeSippCsv(join(work, 'callees.csv'), CALLEES);
  writePalisadeCsv(join(work, 'callers-users.csv'), CALLERS);
  writePalisadeCsv(join(work, 'callees-users.csv'), CALLEES);
  const secret = benchPassword('9000');
  const a = await startPalisade({
    dir: work,
    name: 'office-a',
    port: sipA,
    rtpPorts: '40000-44999',
    usersCsv: join(work, 'callers-users.csv'),
    extraYaml: [
      'iax2:',
      `  listen: ["udp:127.0.0.1:${iaxA}"]`,
      'trunks:',
      '  - name: office-b',
      '    type: iax2',
      '    host: 127.0.0.1',
      `    port: ${iaxB}`,
      '    username: "9000"',
      `    secret: "${secret}"`,
      'routes:',
      '  outbound:',
      '    - { name: to-b, match: ["_95XXX"], trunks: [office-b], strip: 1 }',
    ].join('\n'),
  });
  const b = await startPalisade({
    dir: work,
    name: 'office-b',
    port: sipB,
    rtpPorts: '45000-49999',
    usersCsv: join(work, 'callees-users.csv'),
    extraYaml: [
      'iax2:',
      `  listen: ["udp:127.0.0.1:${iaxB}"]`,
      'trunks:',
      '  - name: office-a',
      '    type: iax2',
      '    host: 127.0.0.1',
      `    port: ${iaxA}`,
      '    username: "9000"',
      `    secret: "${secret}"`,
      'routes:',
      '  inbound:',
      '    - { did: "_5XXX", to: "${EXTEN}" }',
    ].join('\n'),
  });
  const uasP = startProcess(
    'timeout',
    [
      '-k',
      '5',
      String(Math.ceil(cfg.calls / cfg.rate) * 4 + cfg.holdMs / 1000 + 240),
      'sipp',
      '-sf',
      join(SIPP, 'uas-answer.xml'),
      '-nostdin',
      '-buff_size',
      '4194304',
      '-rtp_echo',
      '-p',
      String(uas),
      '-mp',
      String(uasMedia),
      '127.0.0.1',
    ],
    { logPath: join(work, 'uas.out') },
  );
  await sleep(300);
  try {
    const r = await runSippClient({
      scenario: join(SIPP, 'register-auth.xml'),
      target: b.target,
      dir: work,
      name: 'callees',
      limitS: 60,
      args: [
        '-inf',
        join(work, 'callees.csv'),
        '-r',
        '50',
        '-m',
        String(CALLEES.length),
        '-p',
        String(reg),
        '-mp',
        String(regMedia),
        '-set',
        'contact',
        `127.0.0.1:${uas}`,
        '-set',
        'expires',
        '7200',
      ],
    });
    if (r.stats?.successful !== CALLEES.length) throw new Error(`callees did not register: ${JSON.stringify(r.stats)}`);

    // tshark on the caller's media port: what comes back after A → B → echo → B → A
    const pcap = join(work, 'back.pcap');
    const cap = spawn('tshark', ['-i', 'lo', '-f', `udp and (dst port ${uacMedia} or src port ${uacMedia})`, '-w', pcap, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
    track(cap);
    await new Promise((res) => {
      let e = '';
      cap.stderr.on('data', (d) => {
        e += d;
        if (e.includes('Capturing on')) res();
      });
      setTimeout(res, 5000);
    });

    const rampS = cfg.calls / cfg.rate;
    const pcapPath = writeJitterPcap(join(work, 'pcma-440.pcap'), { seconds: rampS * 4 + cfg.holdMs / 1000 + 10, jitterMs: 0, toneHz: 440 });
    const scenario = join(work, 'call-auth-uac.xml');
    writeFileSync(scenario, readFileSync(join(SIPP, 'call-auth-uac.xml'), 'utf8').replace('/usr/share/sip-tester/g711a.pcap', pcapPath));
    log(`${cfg.calls} calls at ${cfg.rate}/s, held ${cfg.holdMs} ms, SIPp → A → IAX2 → B → SIPp echo`);
    const sippP = runSippClient({
      scenario,
      target: a.target,
      dir: work,
      name: 'uac',
      limitS: rampS * 4 + cfg.holdMs / 1000 + 90,
      args: [
        '-i',
        '127.0.0.1',
        '-p',
        String(uac),
        '-mp',
        String(uacMedia),
        '-inf',
        join(work, 'callers.csv'),
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
        '-recv_timeout',
        '15000',
      ],
    });
    const statFile = join(work, 'uac.stat.csv');
    const upBy = Date.now() + rampS * 3000 + 10_000;
    let concurrent = Number.NaN;
    for (;;) {
      await sleep(1000);
      concurrent = Number(lastStatRow(statFile)?.CurrentCall ?? Number.NaN);
      if (concurrent >= cfg.calls || Date.now() > upBy) break;
    }
    log(`${concurrent} calls up; measuring ${cfg.windowS} s`);
    const a0 = treeTicks(a.pid);
    const b0 = treeTicks(b.pid);
    const w0 = Date.now();
    const windowStart = w0 / 1000;
    await sleep(cfg.windowS * 1000);
    const wallMs = Date.now() - w0;
    const windowEnd = Date.now() / 1000;
    const cpuA = Math.round(cpuPercent(a0, treeTicks(a.pid), wallMs) * 10) / 10;
    const cpuB = Math.round(cpuPercent(b0, treeTicks(b.pid), wallMs) * 10) / 10;
    const rss = { a: Math.round(treeRss(a.pid) / 1048576), b: Math.round(treeRss(b.pid) / 1048576) };
    const sipp = await sippP;
    cap.kill('SIGINT');
    await new Promise((res) => cap.once('exit', res));

    // loss over the measuring window: per stream (one per call), RTP sequence gaps and packets against 50/s
    const fields = execFileSync(
      'tshark',
      [
        '-r',
        pcap,
        '-o',
        'rtp.heuristic_rtp:TRUE',
        '-Y',
        `rtp && frame.time_epoch >= ${windowStart} && frame.time_epoch < ${windowEnd}`,
        '-T',
        'fields',
        '-e',
        'udp.srcport',
        '-e',
        'udp.dstport',
        '-e',
        'rtp.seq',
      ],
      { encoding: 'utf8', timeout: 300_000, maxBuffer: 256 * 1024 * 1024 },
    );
    // per stream: back = Palisade A → the caller, out = the caller → Palisade A (what SIPp managed to send)
    const back = new Map();
    const out = new Map();
    for (const line of fields.split('\n')) {
      const [src, dst, seq] = line.split('\t').map(Number);
      if (!Number.isFinite(src) || !Number.isFinite(seq)) continue;
      const [streams, key] = src === uacMedia ? [out, dst] : [back, src];
      let s = streams.get(key);
      if (!s) streams.set(key, (s = { last: seq, n: 0, gaps: 0 }));
      else {
        const d = (seq - s.last + 65536) % 65536;
        if (d > 1 && d < 1000) s.gaps += d - 1;
        s.last = seq;
      }
      s.n++;
    }
    const xs = [...back.values()];
    const received = xs.reduce((t, s) => t + s.n, 0);
    const gaps = xs.reduce((t, s) => t + s.gaps, 0);
    const sent = [...out.values()].reduce((t, s) => t + s.n, 0);
    const expected = xs.length * 50 * (windowEnd - windowStart);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      config: cfg,
      sipp: sipp.stats,
      concurrentCalls: concurrent,
      cpuPercent: { a: cpuA, b: cpuB },
      rssMb: rss,
      rtpBack: {
        streams: xs.length,
        packets: received,
        sequenceLossPct: +((100 * gaps) / Math.max(1, received + gaps)).toFixed(3),
        packetsVsExpectedPct: +((100 * received) / Math.max(1, expected)).toFixed(2),
        /** what SIPp itself sent in the window, against 50/s per stream: the source's own shortfall under load */
        sentByCallerVsExpectedPct: +((100 * sent) / Math.max(1, out.size * 50 * (windowEnd - windowStart))).toFixed(2),
        backVsSentPct: +((100 * received) / Math.max(1, sent)).toFixed(2),
      },
    };
    console.log(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); node ${process.version}; two Palisade instances linked by an IAX2 trunk, SIPp both ends, loopback`);
    console.log(
      `IAX2 between two Palisade instances: ${concurrent} concurrent G.711 calls (asked ${cfg.calls}); SIPp: ${sipp.stats?.successful ?? 0} ok, ${sipp.stats?.failed ?? '?'} failed`,
    );
    console.log(`  CPU over ${cfg.windowS} s at steady state: office A ${cpuA}%, office B ${cpuB}% (of one core); RSS A ${rss.a} MB, B ${rss.b} MB`);
    console.log(
      `  audio back at the caller (A → IAX2 → B → echo → B → IAX2 → A), ${xs.length} streams: ${result.rtpBack.sequenceLossPct} % lost by RTP sequence, ${result.rtpBack.packetsVsExpectedPct} % of 50 packets/s received (SIPp itself sent ${result.rtpBack.sentByCallerVsExpectedPct} % of 50/s; back/sent ${result.rtpBack.backVsSentPct} %)`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await stopTree(uasP.pid, 3000);
    await a.stop();
    await b.stop();
  }
}

try {
  await main();
} finally {
  await stopAll();
  if (!env.BENCH_KEEP_DIR) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
