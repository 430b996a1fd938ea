#!/usr/bin/env node
// The console's cost on the call path (issue 10), on one running Palisade
// with the http: section on, SIPp placing calls (INVITE -> 407 -> INVITE+auth
// -> 200 -> ACK -> 1 s -> BYE) at about half the call-rate ceiling
// measured by bench/run.mjs:
//  (1) the call rate and server CPU per call without a client on the event
//      stream, then with one SSE client reading /api/v1/events (target: the
//      rate with the stream open under 5 % lower);
//  (2) API latency (p50/p99, ms) at 200 requests/s (GET /status, /calls,
//      /cdr?limit=20 in turn, with a Bearer token) while the calls run.
// Environment: CONSOLE_BENCH_CALL_RATE (750: half of the 1,500/s of
// bench/results/latest.json), CONSOLE_BENCH_STEP_SECONDS (15),
// CONSOLE_BENCH_API_RATE (200). Run after `npm run build`:
// node bench/console-bench.mjs
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPalisade } from './lib/servers.mjs';
import { runSippClient } from './lib/sipp-run.mjs';
import { startProcess, stopTree, stopAll, treeTicks, cpuPercent, sleep, CLK_TCK } from './lib/procs.mjs';
import { userRange, writeSippCsv, writePalisadeCsv } from './lib/users.mjs';
import { freePortBlocks } from './lib/ports.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIPP = join(ROOT, 'test', 'sipp');
const RATE = Number(process.env.CONSOLE_BENCH_CALL_RATE ?? 750);
const STEP_S = Number(process.env.CONSOLE_BENCH_STEP_SECONDS ?? 15);
const API_RATE = Number(process.env.CONSOLE_BENCH_API_RATE ?? 200);
const HOLD_MS = 1000;
const work = mkdtempSync(join(tmpdir(), 'palisade-console-bench-'));
const log = (...a) => console.error(`[console-bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const CALLERS = userRange(1000, 1499);
const CALLEES = userRange(1500, 1999);

function get(port, path, token) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end();
  });
}

/** one SSE client; returns { stop(), events } */
function sseClient(port, token) {
  const state = { events: 0, req: null };
  state.req = request({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { authorization: `Bearer ${token}` } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d) => {
      state.events += d.split('\nevent: ').length - 1 + (d.startsWith('event: ') ? 1 : 0);
    });
  });
  state.req.on('error', () => {});
  state.req.end();
  return {
    stop: () => state.req.destroy(),
    get events() {
      return state.events;
    },
  };
}

async function callStep(server, ports, name) {
  const n = Math.round(RATE * STEP_S);
  const uas = startProcess(
    'timeout',
    [
      '-k',
      '5',
      String(STEP_S + 60),
      'sipp',
      '-sf',
      join(SIPP, 'uas-answer.xml'),
      '-nostdin',
      '-buff_size',
      '4194304',
      '-p',
      String(ports.uas),
      '-mp',
      String(ports.uasMedia),
      '127.0.0.1',
    ],
    {
      logPath: join(work, `${name}.uas.out`),
    },
  );
  await sleep(300);
  const before = treeTicks(server.pid);
  const t0 = Date.now();
  const r = await runSippClient({
    scenario: join(SIPP, 'call-auth-uac.xml'),
    target: server.target,
    dir: work,
    name,
    limitS: STEP_S * 3 + 60,
    args: [
      '-inf',
      join(work, 'calls.csv'),
      '-p',
      String(ports.uac),
      '-mp',
      String(ports.uacMedia),
      '-d',
      String(HOLD_MS),
      '-l',
      String(Math.ceil(RATE * 11)),
      '-r',
      String(RATE),
      '-m',
      String(n),
      '-recv_timeout',
      '10000',
    ],
  });
  const wallMs = Date.now() - t0;
  const after = treeTicks(server.pid);
  await stopTree(uas.pid, 3000);
  const st = r.stats ?? { successful: 0, failed: n, created: 0 };
  let ticks = 0;
  for (const [p, t] of after) ticks += t - (before.get(p) ?? 0);
  const sendS = Math.max(0.001, (Number.isFinite(r.wallS) ? r.wallS : wallMs / 1000) - HOLD_MS / 1000);
  return {
    offered: n,
    successful: st.successful,
    failed: n - st.successful,
    achievedRate: Math.round(st.successful / sendS),
    serverCpuPct: Math.round(cpuPercent(before, after, wallMs) * 10) / 10,
    serverCpuUsPerCall: st.successful ? Math.round((ticks / CLK_TCK / st.successful) * 1e6) : null,
  };
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function main() {
  const [sip, http, uas, uasMedia, uac, uacMedia, reg, regMedia] = await freePortBlocks(8, 4, 27000);
  const ports = { uas, uasMedia, uac, uacMedia };
  writeSippCsv(join(work, 'calls.csv'), CALLERS, CALLEES);
  writeSippCsv(join(work, 'callees.csv'), CALLEES);
  writePalisadeCsv(join(work, 'users.csv'), [...CALLERS, ...CALLEES]);
  const server = await startPalisade({
    dir: work,
    port: sip,
    usersCsv: join(work, 'users.csv'),
    extraYaml: ['admin:', '  acl: { permit: [127.0.0.1/32] }', 'http:', `  listen: ["127.0.0.1:${http}"]`].join('\n'),
  });
  const config = join(work, 'palisade', 'palisade.yaml');
  const bin = join(ROOT, 'bin', 'palisade.js');
  spawnSync(process.execPath, [bin, 'admin', 'add', 'bench', '--role', 'admin', '--config', config], { encoding: 'utf8' });
  const token = spawnSync(process.execPath, [bin, 'admin', 'token', 'bench', '--config', config], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1);
  try {
    const r = await runSippClient({
      scenario: join(SIPP, 'register-auth.xml'),
      target: server.target,
      dir: work,
      name: 'callees',
      limitS: 120,
      args: [
        '-inf',
        join(work, 'callees.csv'),
        '-r',
        '50',
        '-recv_timeout',
        '10000',
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
    if (r.stats?.successful !== CALLEES.length) throw new Error(`registering callees failed: ${JSON.stringify(r.stats)}`);

    log(`calls at ${RATE}/s for ${STEP_S} s, no event stream client`);
    const without = await callStep(server, ports, 'without-stream');
    await sleep(3000);
    log('the same with one client on /api/v1/events');
    const sse = sseClient(http, token);
    await sleep(500);
    const withStream = await callStep(server, ports, 'with-stream');
    sse.stop();
    await sleep(3000);

    log(`calls again, with API requests at ${API_RATE}/s`);
    const lat = [];
    const timeline = [];
    let errors = 0;
    const paths = ['/api/v1/status', '/api/v1/calls', '/api/v1/cdr?limit=20'];
    let stop = false;
    const apiLoad = (async () => {
      const gap = 1000 / API_RATE;
      let next = Date.now();
      let i = 0;
      const pending = [];
      const t0 = Date.now();
      while (!stop) {
        const sent = Date.now();
        const path = paths[i++ % paths.length];
        pending.push(
          get(http, path, token).then((x) => {
            if (x.status === 200) {
              lat.push(x.ms);
              timeline.push({ at: sent - t0, path, ms: x.ms });
            } else errors++;
          }),
        );
        next += gap;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
      }
      await Promise.all(pending);
    })();
    const withApi = await callStep(server, ports, 'with-api');
    stop = true;
    await apiLoad;
    lat.sort((a, b) => a - b);
    // the slowest answers, with when they were asked (ms after the start) and what
    const slowest = timeline.sort((a, b) => b.ms - a.ms).slice(0, 8);
    log(`slowest API answers: ${slowest.map((x) => `${x.path} at ${x.at} ms: ${x.ms.toFixed(0)} ms`).join('; ')}`);
    const drop = without.achievedRate ? ((without.achievedRate - withStream.achievedRate) / without.achievedRate) * 100 : NaN;
    const cpuDelta = without.serverCpuUsPerCall ? ((withStream.serverCpuUsPerCall - without.serverCpuUsPerCall) / without.serverCpuUsPerCall) * 100 : NaN;
    const out = [
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); node ${process.version}; SIPp on the same box; calls at ${RATE}/s offered for ${STEP_S} s`,
      `(1) event stream: without ${without.achievedRate} calls/s (${without.failed} failed, ${without.serverCpuUsPerCall} µs CPU/call); with one SSE client ${withStream.achievedRate} calls/s (${withStream.failed} failed, ${withStream.serverCpuUsPerCall} µs CPU/call, ${sse.events} events read): rate ${drop.toFixed(1)} % lower, CPU/call ${cpuDelta.toFixed(1)} % higher (target: rate < 5 % lower)`,
      `(2) API at ${API_RATE} req/s during calls (${withApi.achievedRate} calls/s, ${withApi.failed} failed): ${lat.length} answers, ${errors} errors, p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms`,
    ];
    console.log(out.join('\n'));
    const figures = { without, withStream, withApi, api: { answers: lat.length, errors, p50: pct(lat, 50), p99: pct(lat, 99) }, rateDropPct: drop, cpuPerCallRisePct: cpuDelta };
    // the last line, for bench/run.mjs (BENCH_PARTS=console)
    console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await server.stop();
  }
}

main()
  .then(() => stopAll())
  .catch(async (e) => {
    console.error(e);
    await stopAll();
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
