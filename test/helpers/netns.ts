// Keeps a test's packets on loopback for good: the test runs inside a fresh
// network namespace (`unshare -n`) whose only interface is lo, so anything
// sent to another address (RFC 4475's 192.0.2.x Vias, the 1.1.1.1 Contact
// sipvicious registers) fails with ENETUNREACH instead of leaving the
// machine. Interop tests with RFC 4475 messages or sipvicious must use it.
//
// Use in a test file:
//   netnsSuite(import.meta.url, 'svwar against Palisade', () => { test(...); });
// Outside a namespace this defines one test that re-runs the same file with
// `node --test` inside `unshare -n`; inside, it defines the real tests.
// PostgreSQL/MariaDB on the outer loopback are unreachable from inside
// (their Unix sockets still work).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reapOnExit } from './reap.js';

const MARK = 'PALISADE_IN_NETNS';

/** True when no interface but loopback exists (inside `unshare -n`). */
export function isLoopbackOnly(): boolean {
  const ifs = networkInterfaces();
  return Object.entries(ifs).every(([, addrs]) => (addrs ?? []).every((a) => a.internal));
}

/** argv that runs `cmd args...` in a new network namespace with lo up. */
export function netnsArgv(cmd: string, args: readonly string[]): string[] {
  // "$0" "$@" keep the arguments out of the shell's parsing.
  return ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', cmd, ...args];
}

export interface NetnsRunOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs a command to completion inside a loopback-only namespace. */
export function runInNetns(cmd: string, args: readonly string[], o: NetnsRunOptions): SpawnSyncReturns<string> {
  return spawnSync('unshare', netnsArgv(cmd, args), {
    encoding: 'utf8',
    timeout: o.timeoutMs,
    killSignal: 'SIGKILL',
    cwd: o.cwd,
    env: { ...process.env, ...o.env, [MARK]: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** This process's loader flags (tsx's, when run from source), minus test-runner flags. */
function loaderArgs(): string[] {
  const out: string[] = [];
  const a = process.execArgv;
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith('--test')) {
      if (!a[i].includes('=') && a[i + 1] !== undefined && !a[i + 1].startsWith('-')) i++;
      continue;
    }
    out.push(a[i]);
  }
  return out;
}

/**
 * Re-runs a test file with node inside a loopback-only namespace,
 * streaming its output; resolves with the exit code (null when killed).
 */
export function runTestFileInNetns(file: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // Run as a plain script (its node:test tests run on load), without the
    // outer runner's NODE_TEST_CONTEXT, which would make it skip them.
    const env: NodeJS.ProcessEnv = { ...process.env, [MARK]: '1' };
    delete env.NODE_TEST_CONTEXT;
    const child = reapOnExit(
      spawn('unshare', netnsArgv(process.execPath, [...loaderArgs(), '--test-reporter=tap', file]), {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-200000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, output });
    });
  });
}

/**
 * Defines `body`'s tests so that they only ever run inside a loopback-only
 * namespace: directly when already inside, else by re-running this file
 * there (one outer test that passes when every inner test passes).
 */
export function netnsSuite(fileUrl: string, name: string, body: () => void, timeoutMs = 300_000): void {
  if (process.env[MARK] === '1') {
    if (!isLoopbackOnly()) throw new Error(`${name}: ${MARK} set but non-loopback interfaces exist`);
    describe(name, body);
    return;
  }
  const file = fileURLToPath(fileUrl);
  test(`${name} (inside unshare -n, loopback only)`, { timeout: timeoutMs + 5000 }, async () => {
    const r = await runTestFileInNetns(file, timeoutMs);
    assert.equal(r.code, 0, `tests inside the namespace failed:\n${r.output}`);
    // An inner run that found no test would exit 0 too.
    const passed = Number(/^# pass (\d+)/m.exec(r.output)?.[1] ?? 0);
    assert.ok(passed > 0, `no test ran inside the namespace:\n${r.output}`);
    // what the inner tests wrote for the reader (figures, a failed call's trace), without TAP's own lines
    const notes = r.output.split('\n').filter((l) => l.startsWith('# ') && !/^# (Subtest|tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)\b/.test(l));
    if (notes.length > 0) process.stdout.write(notes.join('\n') + '\n');
  });
}
