// The two servers under test, each started as a child process with its own
// temporary runtime directory and stopped by PID.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, stopTree, sleep } from './procs.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Kamailio 5.6 with bench/kamailio/kamailio.cfg on 127.0.0.1:port (UDP),
 * 4 workers, usrloc in memory.
 */
export async function startKamailio({ dir, port = 5070, shmMb = 1024, pkgMb = 32 }) {
  const run = join(dir, 'kamailio');
  mkdirSync(run, { recursive: true });
  const pidFile = join(run, 'kamailio.pid');
  const logPath = join(run, 'kamailio.log');
  const args = [
    '-f',
    join(ROOT, 'bench', 'kamailio', 'kamailio.cfg'),
    '-A',
    `LISTEN_ADDR=udp:127.0.0.1:${port}`,
    '-DD',
    '-E',
    '-Y',
    run,
    '-P',
    pidFile,
    '-m',
    String(shmMb),
    '-M',
    String(pkgMb),
  ];
  const p = startProcess('kamailio', args, { logPath });
  // -DD keeps the creator in the foreground: p.pid is the main process and
  // the workers are its children. Ready once it wrote its pid file and
  // answers; the pid file appears after the sockets are bound.
  await waitFor(() => existsSync(pidFile) || p.child.exitCode !== null, 10000, 'kamailio pid file');
  if (p.child.exitCode !== null) {
    throw new Error(`kamailio exited: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
  }
  await sleep(300);
  return {
    name: 'kamailio',
    pid: p.pid,
    target: `127.0.0.1:${port}`,
    logPath,
    stop: () => stopTree(p.pid),
  };
}

/**
 * Palisade per its process contract: users imported with
 * `palisade users import`, then `palisade start` in the foreground until a
 * stdout line carries "event":"ready".
 * `root`: another built checkout of Palisade (the bench's "baseline", e.g.
 * the commit before a change), started the same way under `name`.
 * `workers`: sip.workers (ready once the last worker is).
 * @param {{dir:string, port?:number, usersCsv:string, rtpPorts?:string, root?:string, name?:string, extraYaml?:string, workers?:number}} o
 */
// 20,000 relay ports (4 per bridged call): enough for 5,000 concurrent calls,
// so the relay's port range is not what limits the call rate measured.
export async function startPalisade({ dir, port = 5090, usersCsv, rtpPorts = '40000-59999', root = ROOT, name = 'palisade', extraYaml = '', workers = 1 }) {
  const run = join(dir, name);
  mkdirSync(run, { recursive: true });
  const config = join(run, 'palisade.yaml');
  writeFileSync(
    config,
    [
      'sip:',
      `  listen: [udp:127.0.0.1:${port}]`,
      '  domain: 127.0.0.1',
      ...(workers > 1 ? [`  workers: ${workers}`] : []),
      'rtp:',
      `  ports: ${rtpPorts}`,
      '  address: 127.0.0.1',
      'storage:',
      '  driver: sqlite',
      `  path: ${join(run, 'palisade.db')}`,
      'control:',
      `  socket: ${join(run, 'control.sock')}`,
      'registrar:',
      '  max_expires: 7200',
      '  qualify_interval: 0',
      'log:',
      '  level: info',
      // BENCH_DEFENCES=off: the IDS, packet gate and security log switched off, for the
      // "with all defences on within 10 % of without" comparison
      'security:',
      // BENCH_SOURCES > 1: SIPp also sends from 127.0.0.10 upwards, trusted as 127.0.0.1 is by default
      // (the load is far above the per-address flood rate)
      ...(process.env.BENCH_DEFENCES === 'off'
        ? ['  log: { enabled: false }', '  ids: { enabled: false }']
        : Number(process.env.BENCH_SOURCES ?? 1) > 1
          ? ['  ids: { trusted: [127.0.0.0/8, "::1"] }']
          : []),
      // thousands of one-second calls from 500 users are the spam pattern
      // reputation looks for; it still scores every call, without refusing
      '  reputation: { short_call_burst: 10000 }',
      // Each bench user places many calls a minute, several at once: the call
      // gate still runs every check (its cost is part of the figures) with
      // limits this load does not reach.
      'fraud:',
      '  defaults: { max_calls: 0, calls_per_minute: 0, max_outbound_calls: 10000 }',
      // further sections a bench needs (trunk-bench.mjs: trunks and routes; the console bench: http:, admin:)
      extraYaml,
      '',
    ].join('\n'),
  );
  const bin = join(root, 'bin', 'palisade.js');
  const imp = spawnSync('timeout', ['120', process.execPath, bin, 'users', 'import', usersCsv, '--config', config], { cwd: run, encoding: 'utf8' });
  if (imp.status !== 0) {
    throw new Error(`palisade users import failed (${imp.status}): ${(imp.stderr || imp.stdout).slice(-2000)}`);
  }
  const logPath = join(run, 'palisade.log');
  // BENCH_NODE_ARGS: options for the server's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const p = startProcess(process.execPath, [...nodeArgs, bin, 'start', '--config', config], { logPath, cwd: run });
  // the log file is the process's stdout (lib/procs.mjs): ready once it holds the ready line
  const mark = workers > 1 ? `"event":"worker-ready","worker":${workers - 1}` : '"event":"ready"';
  let ready = false;
  const isReady = () => (ready ||= readFileSync(logPath, 'utf8').includes(mark));
  try {
    await waitFor(() => isReady() || p.child.exitCode !== null, 30000, 'palisade "ready"');
  } catch (e) {
    await stopTree(p.pid);
    throw e;
  }
  if (!ready) throw new Error(`palisade exited before ready: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
  return {
    name,
    pid: p.pid,
    target: `127.0.0.1:${port}`,
    logPath,
    stop: () => stopTree(p.pid, 10000),
  };
}
