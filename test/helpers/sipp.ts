// Runs SIPp 3.6.1 scenarios from test/sipp/ as a real peer: always under
// `timeout`, with -nostdin -buff_size 4194304 -trace_stat -trace_err, on
// ports probed free, and returns the final statistics from -trace_stat.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

import { repoRoot } from './paths.js';
import { pidAlive } from './sip-probe.js';
import { reapOnExit } from './reap.js';
export { repoRoot };

/** Path of a scenario: a bare name is looked up in test/sipp/. */
export function scenarioPath(name: string): string {
  if (isAbsolute(name)) return name;
  return join(repoRoot(), 'test', 'sipp', name.endsWith('.xml') ? name : `${name}.xml`);
}

export interface SippStats {
  successful: number;
  failed: number;
  created: number;
  retransmissions: number;
  elapsedS: number;
  outOfCall: number;
  deadCall: number;
  unexpected: number;
}

/** SIPp durations: "00:00:20" in -trace_stat files, "00:00:20:015000" on screen -> seconds */
function hmsus(v: string | undefined): number {
  const p = (v ?? '').split(':').map(Number);
  if (p.length < 3) return NaN;
  return p[0] * 3600 + p[1] * 60 + p[2] + (p.length > 3 ? p[3] / 1e6 : 0);
}

/** Final statistics from the text of a -trace_stat CSV (';'-separated, header first). */
export function parseSippStatCsv(text: string): SippStats | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return null;
  const head = lines[0].split(';');
  const row = lines[lines.length - 1].split(';');
  const col = (name: string): string | undefined => {
    const i = head.indexOf(name);
    return i < 0 ? undefined : row[i];
  };
  const num = (name: string): number => Number(col(name) ?? NaN);
  let unexpected = 0;
  head.forEach((h, i) => {
    if (h.endsWith('_Unexp')) unexpected += Number(row[i]) || 0;
  });
  return {
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    created: num('TotalCallCreated'),
    retransmissions: num('Retransmissions(C)'),
    elapsedS: hmsus(col('ElapsedTime(C)')),
    outOfCall: num('OutOfCallMsgs(C)'),
    deadCall: num('DeadCallMsgs(C)'),
    unexpected,
  };
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** whether some socket listens on TCP `port` (/proc/net/tcp and tcp6: state 0A is LISTEN) */
function tcpListening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readIf(f).split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && `${cols[1]} `.endsWith(hex)) return true;
    }
  }
  return false;
}

function readIf(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Local ports of every TCP/UDP socket on the machine in any state, TIME_WAIT
 * included: a bind probe alone misses those (Node sets SO_REUSEADDR), while
 * SIPp's bind would fail on them.
 */
export function portsInUse(): Set<number> {
  const used = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6', '/proc/net/udp', '/proc/net/udp6']) {
    const text = readIf(f);
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) used.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return used;
}

// Below the kernel's ephemeral range (32768+), so an outgoing connection
// cannot take a port between the probe and SIPp's bind. Each caller in this
// process continues past the ports handed out before.
const PORT_MIN = 20000;
const PORT_MAX = 32000;
let nextPort = PORT_MIN + (process.pid % 40) * 300;

// Test files run two at a time (scripts/run-tests.mjs), each in its own
// process. A probe alone cannot keep them apart: a Palisade's RTP range is
// free until its calls bind it, and another file could be handed a port in
// it meanwhile. So ports are handed out from blocks of 100 that one process
// claims: it writes <block>.<pid> in a shared folder, then lists the block's
// claims, and keeps the block only if no other living process claims it.
// Two that claim at once both see each other and both move on; a claim left
// by a dead process counts for nothing. Claims are removed at exit.
export const PORT_BLOCK = 100;
const CLAIMS = join(tmpdir(), 'palisade-test-ports');
const claimed = new Set<number>();
let releaseHooked = false;

/** whether this process holds block `b` (claims it when no living process does) */
export function claimPortBlock(b: number): boolean {
  if (claimed.has(b)) return true;
  mkdirSync(CLAIMS, { recursive: true });
  const own = `${b}.${process.pid}`;
  writeFileSync(join(CLAIMS, own), '');
  for (const name of readdirSync(CLAIMS)) {
    if (name === own || !name.startsWith(`${b}.`)) continue;
    if (pidAlive(Number(name.slice(name.indexOf('.') + 1)))) {
      rmSync(join(CLAIMS, own), { force: true });
      return false;
    }
    rmSync(join(CLAIMS, name), { force: true });
  }
  claimed.add(b);
  if (!releaseHooked) {
    releaseHooked = true;
    process.on('exit', () => {
      for (const c of claimed) rmSync(join(CLAIMS, `${c}.${process.pid}`), { force: true });
    });
  }
  return true;
}

/**
 * For the claim tests: a second living process, as another test file would
 * be, that claims up to `count` of the port blocks `candidates` (in that
 * order) and then idles until killed. Resolves with it and the blocks it got.
 */
export async function claimInAnotherProcess(candidates: number[], count: number): Promise<{ child: ChildProcess; theirs: number[] }> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(new URL('./sipp.js', import.meta.url).href)});
       const got = [];
       for (const b of ${JSON.stringify(candidates)}) if (got.length < ${count} && m.claimPortBlock(b)) got.push(b);
       console.log(JSON.stringify(got));
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  reapOnExit(child);
  const line = await new Promise<string>((res, rej) => {
    child.stdout!.once('data', (d: Buffer) => res(d.toString()));
    child.once('exit', (code) => rej(new Error(`the claiming process exited with ${code}`)));
  });
  return { child, theirs: JSON.parse(line) as number[] };
}

/**
 * First ports of `count` blocks of `span` consecutive loopback ports that are
 * free for both UDP and TCP right now, in port blocks this process holds.
 */
export async function freeLocalPorts(count: number, span = 1): Promise<number[]> {
  const out: number[] = [];
  const used = portsInUse();
  let tries = 0;
  while (out.length < count) {
    if (nextPort + span > PORT_MAX) nextPort = PORT_MIN;
    if (++tries > PORT_MAX - PORT_MIN) throw new Error('no free loopback ports');
    let ok = true;
    for (let i = 0; i < span && ok; i++) {
      const p = nextPort + i;
      if (!claimPortBlock(Math.floor(p / PORT_BLOCK))) {
        // another test file holds this block: go on after it
        nextPort = (Math.floor(p / PORT_BLOCK) + 1) * PORT_BLOCK;
        ok = false;
        break;
      }
      ok = !used.has(p) && (await udpFree(p)) && (await tcpFree(p));
      if (!ok) nextPort++;
    }
    if (ok) {
      out.push(nextPort);
      nextPort += span;
    }
  }
  return out;
}

/**
 * The first port of `span` free consecutive loopback ports that starts even,
 * as Palisade's rtp.ports must (RTP on even ports, RTCP on the odd one above:
 * RFC 3550 §11; it refuses an odd start).
 */
export async function freeEvenPorts(span: number): Promise<number> {
  const [p] = await freeLocalPorts(1, span + 1);
  return p! % 2 === 0 ? p! : p! + 1;
}

export interface SippOptions {
  /** file name in test/sipp/ (e.g. 'register-auth') or an absolute path */
  scenario: string;
  /** host:port of the peer; a UAS scenario takes only the host to bind to */
  target: string;
  /** injection files (-inf) */
  inf?: string[];
  transport?: 'u1' | 't1';
  /** total calls (-m); omit for a UAS that runs until stopped */
  calls?: number;
  /** calls per second (-r) */
  rate?: number;
  /** -d: length of <pause/> in ms */
  pauseMs?: number;
  /** -s: service (callee when the CSV has no third field) */
  service?: string;
  /** -set NAME VALUE pairs (global scenario variables) */
  set?: Record<string, string>;
  /** local SIP port (-p); probed free when omitted */
  port?: number;
  /** media port (-mp); probed free when omitted (a block of 4) */
  mediaPort?: number;
  rtpEcho?: boolean;
  /** write <log> actions to a file (returned as `logs`) */
  traceLogs?: boolean;
  /** keep every message in a file (returned as `messages`) */
  traceMsg?: boolean;
  extraArgs?: string[];
  /** hard wall-clock limit in seconds (timeout -k 2) */
  timeoutS: number;
  /** working directory for SIPp's files; a fresh temp dir by default */
  dir?: string;
}

export interface SippResult {
  /** exit code: 0 all calls succeeded, 1 some failed, 124 timed out, ... */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stats: SippStats | null;
  stdout: string;
  stderr: string;
  /** -trace_err contents (unexpected messages, aborted calls) */
  errors: string;
  logs: string;
  messages: string;
  port: number;
  mediaPort: number;
}

export interface SippProcess {
  pid: number;
  port: number;
  mediaPort: number;
  /** resolves when SIPp exits by itself */
  done: Promise<SippResult>;
  /** ends SIPp (SIGINT to `timeout`, which forwards it; SIGKILL fallback) */
  stop(): Promise<SippResult>;
  /**
   * Waits up to `withinMs` for SIPp to exit by itself (a UAS started with
   * `calls` ends once it has handled that many), then stops it. Use this
   * rather than a fixed sleep before stop(): on a loaded machine the last
   * message of the callee's scenario (the ACK of a 487, a BYE's 200) can
   * arrive after the caller has already finished.
   */
  finish(withinMs: number): Promise<SippResult>;
}

/** Starts SIPp in the background; use run() to wait for a client to finish. */
export async function startSipp(o: SippOptions): Promise<SippProcess> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'palisade-sipp-'));
  const [port] = o.port ? [o.port] : await freeLocalPorts(1);
  const [mediaPort] = o.mediaPort ? [o.mediaPort] : await freeLocalPorts(1, 4);
  const base = join(dir, `sipp-${port}`);
  const files = { stat: `${base}.stat.csv`, err: `${base}.err.log`, log: `${base}.log`, msg: `${base}.msg.log` };
  const args = [
    '-k',
    '2',
    String(o.timeoutS),
    'sipp',
    '-sf',
    scenarioPath(o.scenario),
    '-nostdin',
    '-buff_size',
    '4194304',
    '-trace_stat',
    '-stf',
    files.stat,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    files.err,
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-mp',
    String(mediaPort),
    '-t',
    o.transport ?? 'u1',
  ];
  for (const f of o.inf ?? []) args.push('-inf', f);
  if (o.calls !== undefined) args.push('-m', String(o.calls));
  if (o.rate !== undefined) args.push('-r', String(o.rate));
  if (o.pauseMs !== undefined) args.push('-d', String(o.pauseMs));
  if (o.service !== undefined) args.push('-s', o.service);
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('-set', k, v);
  if (o.rtpEcho) args.push('-rtp_echo');
  if (o.traceLogs) args.push('-trace_logs', '-log_file', files.log);
  if (o.traceMsg) args.push('-trace_msg', '-message_file', files.msg);
  args.push(...(o.extraArgs ?? []), o.target);

  // `timeout` leads a process group of its own, so the reaper's signal to the group reaches SIPp too
  const child: ChildProcess = reapOnExit(spawn('timeout', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), { group: true });
  let stdout = '';
  let stderr = '';
  // Only the tail of the screen output matters (the final statistics).
  child.stdout!.on('data', (d: Buffer) => {
    stdout = (stdout + d.toString()).slice(-20000);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20000);
  });
  const done = new Promise<SippResult>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({
        code,
        signal,
        timedOut: code === 124 || code === 137,
        stats: parseSippStatCsv(readIf(files.stat)),
        stdout,
        stderr,
        errors: readIf(files.err),
        logs: readIf(files.log),
        messages: readIf(files.msg),
        port,
        mediaPort,
      });
    });
  });
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  // Over TCP a caller's connect is refused until SIPp listens (UDP would just
  // retransmit): a full run failed five TCP pairs in a row that way. Wait for
  // the LISTEN socket in the kernel's table (a probe connection would be a call attempt to SIPp).
  if (o.transport === 't1') {
    const until = Date.now() + 5000;
    while (!exited && !tcpListening(port) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }
  const proc: SippProcess = {
    pid: child.pid!,
    port,
    mediaPort,
    done,
    async stop() {
      if (!exited) {
        // SIGINT makes SIPp finish and write its final statistics; `timeout`
        // forwards it to SIPp.
        child.kill('SIGINT');
        const t = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, 3000);
        const r = await done;
        clearTimeout(t);
        return r;
      }
      return done;
    },
    async finish(withinMs: number) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (t = setTimeout(r, withinMs)))]);
      clearTimeout(t);
      return proc.stop();
    },
  };
  return proc;
}

/** Runs a SIPp client (calls must be set) to completion. */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  if (o.calls === undefined) throw new Error('runSipp needs calls (-m); use startSipp for a server');
  const p = await startSipp(o);
  return p.done;
}
