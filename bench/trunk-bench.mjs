#!/usr/bin/env node
// Calls out of a SIP trunk beside extension-to-extension calls, in the same
// run on the same Palisade (issue 9's target: trunk calls at least 80 % of
// the extension-to-extension rate):
//  (a) extension → extension: INVITE -> 407 -> INVITE+auth -> 200 -> ACK -> 1 s -> BYE
//      through the B2BUA (callee: a SIPp UAS registered as the extensions)
//  (b) extension → trunk: the same caller scenario dialling 9NNNNNN; the
//      outbound route strips the 9 and sends the call out of the trunk
//      "carrier" (an IP peer) to a SIPp UAS; Palisade terminates both legs'
//      media in a channel and bridges them through the endpoints
// Steps alternate (a) and (b) at each rate, upward; a figure is the highest
// rate with 0 failures at (nearly) the offered rate.
//
// Environment: BENCH_STEP_SECONDS (10), BENCH_TRUNK_RATES (50,100,200,300,400,500,600,800,1000)
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
const env = process.env;
const stepS = Number(env.BENCH_STEP_SECONDS ?? 10);
const rates = (env.BENCH_TRUNK_RATES ?? '50,100,200,300,400,500,600,800,1000').split(',').map(Number);
const HOLD_MS = 1000;
const work = mkdtempSync(join(tmpdir(), 'palisade-trunk-bench-'));
const log = (m) => console.error(`[trunk-bench] ${m}`);

const CALLERS = userRange(2000, 2199);
const CALLEES = userRange(3000, 3009);

async function uas(port, media, name) {
  const p = startProcess(
    'timeout',
    [
      '-k',
      '5',
      String(stepS * rates.length * 2 + 300),
      'sipp',
      '-sf',
      join(SIPP, 'uas-answer.xml'),
      '-nostdin',
      '-buff_size',
      '4194304',
      '-p',
      String(port),
      '-mp',
      String(media),
      '127.0.0.1',
    ],
    { logPath: join(work, `${name}.out`) },
  );
  await sleep(300);
  return p;
}

async function main() {
  const [pal, uasExt, uasExtMedia, uasTrunk, uasTrunkMedia, uac, uacMedia, reg, regMedia] = await freePortBlocks(9, 4);
  writeSippCsv(join(work, 'ext-calls.csv'), CALLERS, CALLEES);
  writeSippCsv(
    join(work, 'trunk-calls.csv'),
    CALLERS,
    CALLERS.map((u) => `9${u}${u.slice(1)}`),
  );
  writeSippCsv(join(work, 'callees.csv'), CALLEES);
  writePalisadeCsv(join(work, 'users.csv'), [...CALLERS, ...CALLEES]);
  const server = await startPalisade({
    dir: work,
    port: pal,
    usersCsv: join(work, 'users.csv'),
    extraYaml: [
      'trunks:',
      '  - name: carrier',
      '    host: 127.0.0.1',
      `    port: ${uasTrunk}`,
      'routes:',
      '  outbound:',
      '    - { name: out, match: ["_9XXXXXXX"], trunks: [carrier], strip: 1 }',
    ].join('\n'),
  });
  const extUas = await uas(uasExt, uasExtMedia, 'uas-ext');
  const trunkUas = await uas(uasTrunk, uasTrunkMedia, 'uas-trunk');
  try {
    const r = await runSippClient({
      scenario: join(SIPP, 'register-auth.xml'),
      target: server.target,
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
        `127.0.0.1:${uasExt}`,
        '-set',
        'expires',
        '7200',
      ],
    });
    if (r.stats?.successful !== CALLEES.length) throw new Error(`callees did not register: ${JSON.stringify(r.stats)}`);
    const best = { ext: null, trunk: null };
    const failed = { ext: false, trunk: false };
    for (const rate of rates) {
      for (const kind of ['ext', 'trunk']) {
        if (failed[kind]) continue;
        const n = Math.round(rate * stepS);
        const before = treeTicks(server.pid);
        const t0 = Date.now();
        const s = await runSippClient({
          scenario: join(SIPP, 'call-auth-uac.xml'),
          target: server.target,
          dir: work,
          name: `${kind}-${rate}`,
          limitS: stepS * 3 + 60,
          args: [
            '-inf',
            join(work, `${kind}-calls.csv`),
            '-r',
            String(rate),
            '-m',
            String(n),
            '-d',
            String(HOLD_MS),
            '-l',
            String(Math.ceil(rate * (HOLD_MS / 1000 + 10))),
            '-p',
            String(uac),
            '-mp',
            String(uacMedia),
            '-recv_timeout',
            '10000',
          ],
        });
        const wallMs = Date.now() - t0;
        const after = treeTicks(server.pid);
        let ticks = 0;
        for (const [p, t] of after) ticks += t - (before.get(p) ?? 0);
        const st = s.stats ?? { successful: 0, failed: n, created: 0 };
        const sendS = Math.max(0.001, (Number.isFinite(s.wallS) ? s.wallS : wallMs / 1000) - HOLD_MS / 1000);
        const offered = st.created / sendS;
        const ok = st.successful === n && st.failed === 0 && offered >= rate * 0.95;
        const cpu = Math.round(cpuPercent(before, after, wallMs) * 10) / 10;
        const us = st.successful ? Math.round((ticks / CLK_TCK / st.successful) * 1e6) : null;
        log(`${kind} ${rate}/s: ok=${ok} success=${st.successful}/${n} failed=${st.failed} offered=${Math.round(offered)}/s server=${cpu}% (${us} us/call)`);
        if (ok) best[kind] = { rate, cpu, us };
        else failed[kind] = true;
        await sleep(3000);
      }
      if (failed.ext && failed.trunk) break;
    }
    const pct = best.ext && best.trunk ? Math.round((best.trunk.rate / best.ext.rate) * 100) : null;
    console.log(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); node ${process.version}; SIPp and Palisade on loopback, ${stepS} s per step, 1 s calls`);
    console.log(
      `extension -> extension (B2BUA relay):            ${best.ext ? `${best.ext.rate} calls/s, server ${best.ext.cpu}% CPU, ${best.ext.us} us CPU/call` : 'no step passed'}`,
    );
    console.log(
      `extension -> SIP trunk (route, channel, bridge): ${best.trunk ? `${best.trunk.rate} calls/s, server ${best.trunk.cpu}% CPU, ${best.trunk.us} us CPU/call` : 'no step passed'}`,
    );
    console.log(`trunk / extension: ${pct === null ? 'n/a' : `${pct} %`} (target: at least 80 %)`);
  } finally {
    await stopTree(extUas.pid, 3000);
    await stopTree(trunkUas.pid, 3000);
    await server.stop();
  }
}

try {
  await main();
} finally {
  await stopAll();
  if (!env.BENCH_KEEP_DIR) rmSync(work, { recursive: true, force: true });
}
