// Starts the real Palisade process for interop tests, per its process
// contract: a generated temporary config and users imported with
// `palisade users import`, then `palisade start --config FILE` in the
// foreground, ready once stdout carries a line with "event":"ready".
// Stopped by PID: SIGTERM, then SIGKILL if it has not exited in time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeEvenPorts, freeLocalPorts, repoRoot } from './sipp.js';
import { palisadeCsv, type TestUser } from './users.js';
import { reapOnExit } from './reap.js';

export interface PalisadeOptions {
  /** extensions imported before start */
  users?: readonly TestUser[];
  /** SIP port for UDP and TCP on 127.0.0.1; probed free when omitted */
  sipPort?: number;
  /** the loopback address SIP listens on (several nodes of a cluster: 127.0.0.21, .22...); 127.0.0.1 by default */
  address?: string;
  /** the storage section's lines instead of a SQLite file in the run directory, e.g. ['driver: postgres', 'url: ...', 'table_prefix: t1_'] */
  storage?: readonly string[];
  transports?: ReadonlyArray<'udp' | 'tcp'>;
  /** further listen points, e.g. tls:127.0.0.1:PORT (needs a tls section in extraYaml) */
  extraListen?: readonly string[];
  domain?: string;
  /** sip.workers (several worker processes); 1 when omitted */
  workers?: number;
  /** RTP port range "min-max"; a free block of 200 when omitted */
  rtpPorts?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** YAML appended to the generated config (top-level sections) */
  extraYaml?: string;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * an existing directory to run in instead of a fresh one: a second start
   * there finds the first one's database (a restart); stop() leaves it
   */
  dir?: string;
}

export interface PalisadeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when SIGTERM was not enough and SIGKILL was sent */
  killed: boolean;
}

export interface PalisadeProcess {
  pid: number;
  dir: string;
  configPath: string;
  sipPort: number;
  /** the address SIP listens on */
  address: string;
  /** "ADDRESS:PORT", what SIPp takes as its remote */
  target: string;
  domain: string;
  /** every stdout line so far */
  readonly lines: readonly string[];
  stderr(): string;
  /** stdout lines parsed as JSON (lines that are not JSON are skipped) */
  events(): Record<string, unknown>[];
  /** resolves with the first stdout line (parsed) for which pred is true */
  waitForEvent(pred: (e: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** SIGTERM, SIGKILL after graceMs; removes the temp dir (not one given as `dir`) */
  stop(graceMs?: number): Promise<PalisadeExit>;
}

function parse(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A free block of 200 ports starting even (RTP on even, RTCP on odd ports). */
async function freeRtpRange(): Promise<string> {
  const p = await freeEvenPorts(200);
  return `${p}-${p + 199}`;
}

export async function startPalisade(o: PalisadeOptions = {}): Promise<PalisadeProcess> {
  const root = repoRoot();
  const bin = join(root, 'bin', 'palisade.js');
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'palisade-proc-'));
  const [sipPort] = o.sipPort ? [o.sipPort] : await freeLocalPorts(1);
  const rtpPorts = o.rtpPorts ?? (await freeRtpRange());
  const address = o.address ?? '127.0.0.1';
  const domain = o.domain ?? address;
  const transports = o.transports ?? ['udp', 'tcp'];
  const configPath = join(dir, 'palisade.yaml');
  writeFileSync(
    configPath,
    [
      'sip:',
      `  listen: [${[...transports.map((t) => `${t}:${address}:${sipPort}`), ...(o.extraListen ?? [])].join(', ')}]`,
      `  domain: ${domain}`,
      ...(o.workers ? [`  workers: ${o.workers}`] : []),
      'rtp:',
      `  ports: ${rtpPorts}`,
      '  address: 127.0.0.1',
      'storage:',
      ...(o.storage ?? ['driver: sqlite', `path: ${join(dir, 'palisade.db')}`]).map((l) => `  ${l}`),
      'control:',
      `  socket: ${join(dir, 'control.sock')}`,
      'log:',
      `  level: ${o.logLevel ?? 'info'}`,
      o.extraYaml ?? '',
      '',
    ].join('\n'),
  );

  const env = { ...process.env, ...o.env };
  if (o.users && o.users.length > 0) {
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, palisadeCsv(o.users));
    const r = spawnSync(process.execPath, [bin, 'users', 'import', csv, '--config', configPath], { cwd: dir, env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    if (r.status !== 0) {
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
      throw new Error(`palisade users import failed (status ${r.status}): ${r.stderr || r.stdout}`);
    }
  }

  const child: ChildProcess = reapOnExit(spawn(process.execPath, [bin, 'start', '--config', configPath], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters = new Set<{ pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }>();
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      const e = parse(line);
      if (e) {
        for (const w of waiters) {
          if (w.pred(e)) {
            waiters.delete(w);
            w.resolve(e);
          }
        }
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-100_000);
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );

  const waitForEvent = (pred: (e: Record<string, unknown>) => boolean, timeoutMs: number) => {
    const seen = lines.map(parse).find((e) => e && pred(e));
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const w = {
        pred,
        resolve: (e: Record<string, unknown>) => {
          clearTimeout(t);
          resolve(e);
        },
      };
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no matching Palisade event in ${timeoutMs} ms; stdout tail:\n${lines.slice(-20).join('\n')}\nstderr:\n${err.slice(-2000)}`));
      }, timeoutMs);
      waiters.add(w);
      void exited.then(() => {
        if (waiters.delete(w)) {
          clearTimeout(t);
          reject(new Error(`Palisade exited (${JSON.stringify(exit)}) before the awaited event; stdout tail:\n${lines.slice(-20).join('\n')}\nstderr:\n${err.slice(-2000)}`));
        }
      });
    });
  };

  let stopped: Promise<PalisadeExit> | null = null;
  const stop = (graceMs = 5000): Promise<PalisadeExit> => {
    stopped ??= (async () => {
      let killed = false;
      if (!exit) {
        child.kill('SIGTERM');
        const t = setTimeout(() => {
          if (!exit) {
            killed = true;
            child.kill('SIGKILL');
          }
        }, graceMs);
        await exited;
        clearTimeout(t);
      }
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
      const e = exit as unknown as { code: number | null; signal: NodeJS.Signals | null };
      return { code: e.code, signal: e.signal, killed };
    })();
    return stopped;
  };

  try {
    // several workers: ready once the last one is (worker 0 starts first, the others after it)
    const last = (o.workers ?? 1) - 1;
    await waitForEvent((e) => (last > 0 ? e.event === 'worker-ready' && e.worker === last : e.event === 'ready'), o.readyTimeoutMs ?? 20_000 * (last + 1));
  } catch (e) {
    await stop(1000);
    throw e;
  }

  return {
    pid: child.pid!,
    dir,
    configPath,
    sipPort,
    address,
    target: `${address}:${sipPort}`,
    domain,
    lines,
    stderr: () => err,
    events: () => lines.map(parse).filter((e): e is Record<string, unknown> => e !== null),
    waitForEvent,
    stop,
  };
}

/** the first log event of `p` from stdout line `from` on that matches (waits for it) */
export async function eventAfter(p: PalisadeProcess, from: number, pred: (e: Record<string, unknown>) => boolean, ms = 15_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    for (const l of p.lines.slice(from)) {
      const e = parse(l);
      if (e && pred(e)) return e;
    }
    if (Date.now() > end) throw new Error(`no matching event after line ${from}; tail:\n${p.lines.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** an administrator of `role` added with `palisade admin add`, and an API token for it (`palisade admin token`) */
export function adminToken(p: PalisadeProcess, name: string, role: string): string {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', p.configPath], { cwd: p.dir, encoding: 'utf8', timeout: 60_000 });
  const add = run(['admin', 'add', name, '--role', role]);
  if (add.status !== 0) throw new Error(`palisade admin add ${name}: ${add.stderr}`);
  const tok = run(['admin', 'token', name]);
  if (tok.status !== 0) throw new Error(`palisade admin token ${name}: ${tok.stderr}`);
  return tok.stdout.trim().split('\n').at(-1)!;
}
