// A real, headless baresip 1.0.0 softphone driven over its ctrl_tcp socket,
// for interop tests. Each instance gets its own config dir (config, accounts,
// recordings, log) and plays a WAV file as its microphone; sndfile records
// what it received (dump-*-dec.wav) and what it sent (dump-*-enc.wav).
//
// baresip facts this relies on (seen on baresip 1.0.0 from Debian):
// - the accounts file is only read when the `account` module is loaded;
// - `module_path` must be set, or modules are looked up in the cwd;
// - sip_listen also binds port+1 (TLS), so space instances by 2 or more;
// - ctrl_tcp speaks netstring-framed JSON, and events go only to the newest
//   connection, so one connection carries both commands and events;
// - registration may finish before our control connection is up, so the
//   registration state is polled with `reginfo` rather than awaited as an event;
// - `sndcode` (RFC 4733 telephone-events) only exists while a call is up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { claimPortBlock, portsInUse, PORT_BLOCK } from './sipp.js';
import { reapOnExit } from './reap.js';

const MODULE_PATH = '/usr/lib/baresip/modules';

export interface BaresipOptions {
  /** label used in file names and error messages */
  name: string;
  /** UDP+TCP port of sip_listen on 127.0.0.1; port+1 is taken too */
  sipPort: number;
  /** ctrl_tcp port on 127.0.0.1 */
  ctrlPort: number;
  /** user part of the AOR, e.g. "1001" */
  user: string;
  /** host[:port] of the AOR: the registrar, or the phone itself for direct calls */
  domain?: string;
  /** digest password (auth_pass) */
  password?: string;
  /** REGISTER interval in seconds; 0 (the default) means no registration */
  regint?: number;
  /** tls: the AOR gets ;transport=tls (baresip's TLS client transport) */
  transport?: 'udp' | 'tcp' | 'tls';
  /** media encryption (account mediaenc=...; loads srtp.so): srtp-mand offers RTP/SAVP with a=crypto only */
  mediaenc?: 'srtp' | 'srtp-mand';
  /** PEM CA file baresip trusts for TLS (sip_cafile), e.g. Palisade's self-signed certificate */
  tlsCaFile?: string;
  answerMode?: 'auto' | 'manual';
  /** absolute path of the WAV played as microphone (8 kHz mono S16LE) */
  audioSource: string;
  /**
   * local RTP port range [min, max]. An odd min is raised to the next even
   * port (and opts.rtpPorts says so): baresip 1.0 draws a port in the range
   * and clears its lowest bit, so from an odd min it can bind min - 1, out
   * of the range a test captures and filters by (seen: RTP to 28004 for a
   * range of 28005-28104, with only RTCP caught on 28005).
   */
  rtpPorts?: [number, number];
  /** parent dir for the instance's files; a fresh temp dir by default */
  baseDir?: string;
  /** the watchdog kills baresip after this many seconds even if stop() is never called */
  maxLifetimeSec?: number;
  /** run with -s: SIP messages (with their SDP) are written to the log */
  sipTrace?: boolean;
  /** audio_codecs of the account, e.g. 'PCMA' for an A-law-only phone (default 'PCMU') */
  codecs?: string;
  /** further codec modules to load besides g711, e.g. ['gsm'] */
  codecModules?: string[];
  /** application modules (module_app), e.g. ['mwi'] to subscribe to message-summary */
  appModules?: string[];
}

/** one event pushed by ctrl_tcp, e.g. {type: 'CALL_ESTABLISHED', param: 'sip:...'} */
export interface BaresipEvent {
  event: true;
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  [key: string]: unknown;
  /** ms since start() when it arrived (added by the harness) */
  at: number;
}

export interface BaresipResponse {
  response: true;
  ok: boolean;
  data: string;
  token: string;
}

/** one SIP message as printed by baresip -s */
export interface TracedSipMessage {
  transport: 'UDP' | 'TCP' | 'TLS';
  src: string;
  dst: string;
  startLine: string;
  headers: string[];
  sdp: string[];
}

const TRACE_HEADER = /^(UDP|TCP|TLS) (\S+) -> (\S+)$/;
/** RFC 3261 §7.1/§7.2: Request-Line or Status-Line */
const START_LINE = /^(SIP\/2\.0 \d{3} |[A-Z]+ \S+ SIP\/2\.0$)/;
/** RFC 3261 §7.3: a header field's name and colon */
const HEADER_LINE = /^[A-Za-z0-9!%'*+.~_-]+\s*:/;

type Waiter = { pred: (e: BaresipEvent) => boolean; resolve: (e: BaresipEvent) => void; reject: (e: Error) => void };
type Pending = { resolve: (r: BaresipResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class Baresip {
  readonly opts: BaresipOptions;
  readonly dir: string;
  readonly recordingsDir: string;
  readonly logFile: string;
  /** every event received, in order */
  readonly events: BaresipEvent[] = [];

  private proc: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private sock: Socket | undefined;
  private rx: Buffer = Buffer.alloc(0);
  private log: WriteStream | undefined;
  private startedAt = 0;
  private tokenSeq = 0;
  private readonly pending = new Map<string, Pending>();
  private waiters: Waiter[] = [];
  /** set by stop(): the control connection's close is then expected */
  private stopping = false;

  constructor(opts: BaresipOptions) {
    if (opts.rtpPorts) {
      const [lo, hi] = opts.rtpPorts;
      const even = lo + (lo % 2);
      if (hi - even < 1) throw new Error(`baresip ${opts.name}: RTP range ${lo}-${hi} holds no even/odd port pair`);
      opts = { ...opts, rtpPorts: [even, hi] };
    }
    this.opts = opts;
    const base = opts.baseDir ?? mkdtempSync(join(tmpdir(), 'baresip-'));
    this.dir = resolve(base, opts.name);
    this.recordingsDir = join(this.dir, 'rec');
    this.logFile = join(this.dir, 'baresip.log');
  }

  /** `<sip:USER@DOMAIN[;transport=tcp]>;auth_pass=...;answermode=...;...` */
  accountLine(): string {
    const o = this.opts;
    const domain = o.domain ?? `127.0.0.1:${o.sipPort}`;
    const transport = o.transport === 'tcp' || o.transport === 'tls' ? `;transport=${o.transport}` : '';
    const params = [
      o.password !== undefined ? `auth_pass=${o.password}` : undefined,
      `answermode=${o.answerMode ?? 'auto'}`,
      `audio_codecs=${o.codecs ?? 'PCMU'}`,
      'ptime=20',
      `regint=${o.regint ?? 0}`,
      o.mediaenc !== undefined ? `mediaenc=${o.mediaenc}` : undefined,
    ].filter((p) => p !== undefined);
    return `<sip:${o.user}@${domain}${transport}>;${params.join(';')}`;
  }

  configText(): string {
    const o = this.opts;
    const [rtpMin, rtpMax] = o.rtpPorts ?? [40000, 40999];
    // Only modules that use loopback sockets or files: no sound devices, and
    // dns_server points at loopback so no lookup can leave the machine.
    return [
      `module_path ${MODULE_PATH}`,
      'poll_method epoll',
      `sip_listen 127.0.0.1:${o.sipPort}`,
      'net_interface 127.0.0.1',
      'dns_server 127.0.0.1:53',
      `rtp_ports ${rtpMin}-${rtpMax}`,
      ...(o.tlsCaFile !== undefined ? [`sip_cafile ${resolve(o.tlsCaFile)}`] : []),
      ...(o.mediaenc !== undefined ? ['module srtp.so'] : []),
      'module g711.so',
      ...(o.codecModules ?? []).map((m) => `module ${m}.so`),
      'module aufile.so',
      `audio_source aufile,${resolve(o.audioSource)}`,
      'module aubridge.so',
      `audio_player aubridge,spk-${o.name}`,
      `audio_alert aubridge,alert-${o.name}`,
      'module sndfile.so',
      `snd_path ${this.recordingsDir}`,
      'module_app account.so',
      ...(o.appModules ?? []).map((m) => `module_app ${m}.so`),
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`,
      '',
    ].join('\n');
  }

  /** the unfinished last line of each output stream, held until its newline */
  private readonly partialLines = new Map<'out' | 'err', string>();

  /** baresip's last output lines, kept to say what it printed before dying */
  private readonly lastLines: string[] = [];

  private logChunk(name: 'out' | 'err', chunk: string): void {
    const text = (this.partialLines.get(name) ?? '') + chunk;
    const cut = text.lastIndexOf('\n');
    this.partialLines.set(name, text.slice(cut + 1));
    if (cut < 0) return;
    const whole = text.slice(0, cut + 1);
    this.log?.write(whole);
    for (const line of whole.split('\n')) if (line.trim() !== '') this.lastLines.push(stripAnsi(line));
    if (this.lastLines.length > 12) this.lastLines.splice(0, this.lastLines.length - 12);
  }

  /**
   * The control connection closed under a running test: say how baresip
   * ended (its `timeout` watchdog passes on the signal that ended it) and what
   * it printed last, and fail every command and event wait now rather than at
   * their own timeouts.
   */
  private async controlClosed(): Promise<void> {
    if (this.stopping) return;
    const end = this.exited ? await Promise.race([this.exited, sleep(1000).then(() => undefined)]) : undefined;
    let how: string;
    if (end === undefined) how = 'baresip still running';
    else if (end.signal !== null) how = `baresip died of ${end.signal}`;
    else if (end.code === 124) how = `baresip outlived its ${this.opts.maxLifetimeSec ?? 120} s watchdog`;
    else if (end.code !== null && end.code > 128) how = `baresip died of ${signalName(end.code - 128)}`;
    else how = `baresip exited with code ${end.code}`;
    const err = new Error(`baresip ${this.opts.name}: control connection closed (${how}); last output: ${this.lastLines.slice(-6).join(' | ') || 'none'}; log ${this.logFile}`);
    this.failPending(err);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  /** writes the config dir, spawns baresip and connects the control socket */
  async start(timeoutMs = 5000): Promise<void> {
    this.stopping = false;
    mkdirSync(this.recordingsDir, { recursive: true });
    writeFileSync(join(this.dir, 'config'), this.configText());
    writeFileSync(join(this.dir, 'accounts'), this.accountLine() + '\n');
    this.log = createWriteStream(this.logFile);
    // stdbuf: baresip prints its SIP trace through stdio, which a pipe makes
    // block-buffered; unflushed 4 KiB chunks would hide messages from
    // sipTrace() until the process exits, and split them mid-line.
    const args = ['-k', '5', String(this.opts.maxLifetimeSec ?? 120), 'stdbuf', '-oL', '-eL', 'baresip', '-f', this.dir];
    if (this.opts.sipTrace) args.push('-s');
    // `timeout` is the watchdog for a crashed test run; it makes itself a
    // process-group leader, so signalling -pid reaches baresip as well.
    // cwd: a crash's core file (core_pattern "core") lands beside the phone's log, kept with it when the test fails
    const proc = reapOnExit(spawn('timeout', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true }), { group: true });
    this.proc = proc;
    this.startedAt = Date.now();
    // whole lines only: a chunk of baresip's output may end mid-line, and the
    // other stream or a harness line would otherwise land inside that line
    for (const [name, stream] of [
      ['out', proc.stdout],
      ['err', proc.stderr],
    ] as const) {
      stream?.on('data', (d: Buffer) => this.logChunk(name, d.toString('utf8')));
    }
    this.exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
    const deadline = Date.now() + timeoutMs;
    let lastErr: Error | undefined;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      try {
        this.sock = await this.connectCtrl(deadline - Date.now());
        return;
      } catch (err) {
        lastErr = err as Error;
        await sleep(100);
      }
    }
    await this.stop();
    throw new Error(`baresip ${this.opts.name}: control port ${this.opts.ctrlPort} not reachable (${lastErr?.message ?? 'exited'}); log ${this.logFile}`);
  }

  private connectCtrl(timeoutMs: number): Promise<Socket> {
    return new Promise((res, rej) => {
      const s = connect(this.opts.ctrlPort, '127.0.0.1');
      const timer = setTimeout(
        () => {
          s.destroy();
          rej(new Error('connect timeout'));
        },
        Math.max(timeoutMs, 50),
      );
      s.once('error', (err) => {
        clearTimeout(timer);
        rej(err);
      });
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        s.on('data', (d: Buffer) => this.onData(d));
        s.on('close', () => void this.controlClosed());
        res(s);
      });
    });
  }

  // Netstring framing: "<len>:<payload>,".
  private onData(d: Buffer): void {
    this.rx = this.rx.length ? Buffer.concat([this.rx, d]) : d;
    for (;;) {
      const colon = this.rx.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.rx.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len) || len < 0) {
        this.log?.write(`[harness] bad netstring header, dropping buffer\n`);
        this.rx = Buffer.alloc(0);
        return;
      }
      if (this.rx.length < colon + 1 + len + 1) return;
      const payload = this.rx.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.rx = this.rx.subarray(colon + 2 + len);
      this.onMessage(payload);
    }
  }

  private onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.log?.write(`[harness] unparsable ctrl message: ${text}\n`);
      return;
    }
    if (msg.response === true) {
      const token = String(msg.token ?? '');
      const p = this.pending.get(token);
      if (p) {
        this.pending.delete(token);
        clearTimeout(p.timer);
        p.resolve(msg as unknown as BaresipResponse);
      }
      return;
    }
    if (msg.event === true) {
      const ev = { ...msg, at: Date.now() - this.startedAt } as BaresipEvent;
      this.events.push(ev);
      this.log?.write(`[harness] event ${ev.type} ${ev.param ?? ''}\n`);
      const still: Waiter[] = [];
      for (const w of this.waiters) {
        if (w.pred(ev)) w.resolve(ev);
        else still.push(w);
      }
      this.waiters = still;
    }
  }

  private failPending(err: Error): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** sends one ctrl_tcp command and resolves with its response (ok may be false) */
  command(command: string, params?: string, timeoutMs = 3000): Promise<BaresipResponse> {
    const sock = this.sock;
    if (!sock || sock.destroyed) return Promise.reject(new Error(`baresip ${this.opts.name}: not connected`));
    const token = `t${++this.tokenSeq}`;
    const body = JSON.stringify(params === undefined ? { command, token } : { command, params, token });
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        // what baresip printed last, and what its process is doing now, say whether it was stuck (and where) or only slow
        rej(
          new Error(
            `baresip ${this.opts.name}: no response to ${command} within ${timeoutMs} ms; last output: ${this.lastLines.slice(-6).join(' | ') || 'none'}; ${this.processState()}; log ${this.logFile}`,
          ),
        );
      }, timeoutMs);
      this.pending.set(token, { resolve: res, reject: rej, timer });
      sock.write(`${Buffer.byteLength(body)}:${body},`);
    });
  }

  /**
   * What the processes under our `timeout` wrapper are doing, from /proc:
   * each one's state and the kernel function it sleeps in (wchan), e.g.
   * `baresip S do_epoll_wait` (waiting for work: idle) against `pipe_write`
   * (blocked writing its output) or `R` (busy).
   */
  private processState(): string {
    const root = this.proc?.pid;
    if (root === undefined) return 'no process';
    const read = (path: string): string => {
      try {
        return readFileSync(path, 'utf8').trim();
      } catch {
        return '';
      }
    };
    const out: string[] = [];
    const walk = (pid: number, depth: number): void => {
      const stat = read(`/proc/${pid}/stat`);
      if (!stat || depth > 3) return;
      // "pid (comm) S ...": the name may hold spaces, so split after its closing parenthesis
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const state = stat.slice(close + 2, close + 3);
      out.push(`${name}[${pid}] ${state} ${read(`/proc/${pid}/wchan`) || '-'}`);
      // a baresip that runs (R) without answering is spinning: where, from gdb (Debian's, at most 10 s)
      if (state === 'R' && name === 'baresip') {
        const g = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'bt 12'], { encoding: 'utf8', timeout: 10_000 });
        const frames = (g.stdout ?? '').split('\n').filter((l) => /^#\d+/.test(l));
        out.push(`its stack: ${frames.map((l) => l.replace(/\s+/g, ' ').slice(0, 120)).join(' | ') || `none (${(g.stderr ?? '').trim().slice(0, 200) || 'gdb gave nothing'})`}`);
      }
      for (const c of read(`/proc/${pid}/task/${pid}/children`).split(/\s+/).filter(Boolean)) walk(Number(c), depth + 1);
    };
    walk(root, 0);
    return `processes: ${out.join(', ') || 'gone'}`;
  }

  /** like command(), but rejects when baresip answers ok=false */
  async mustCommand(command: string, params?: string): Promise<string> {
    const r = await this.command(command, params);
    if (!r.ok) throw new Error(`baresip ${this.opts.name}: ${command} ${params ?? ''} failed: ${r.data.trim()}`);
    return r.data;
  }

  /** index of the next event to arrive, to pass as `since` */
  mark(): number {
    return this.events.length;
  }

  /**
   * First event (at index >= since, default 0: the whole history, so an
   * event that came before the call is not missed) matching a type or
   * predicate; rejects after timeoutMs.
   */
  waitEvent(match: string | ((e: BaresipEvent) => boolean), timeoutMs: number, since = 0): Promise<BaresipEvent> {
    const pred = typeof match === 'string' ? (e: BaresipEvent) => e.type === match : match;
    for (let i = since; i < this.events.length; i++) {
      if (pred(this.events[i])) return Promise.resolve(this.events[i]);
    }
    return new Promise((res, rej) => {
      const waiter: Waiter = {
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          res(e);
        },
        reject: (e) => {
          clearTimeout(timer);
          rej(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.events.map((e) => e.type).join(', ');
        const what = typeof match === 'string' ? match : 'matching event';
        // the phone's last RTCP report says whether media reached it at all
        const rtcp = this.events.filter((e) => e.type === 'CALL_RTCP' && e.rtcp_stats !== undefined).pop();
        const stats = rtcp ? `; last RTCP stats at ${rtcp.at} ms: ${JSON.stringify(rtcp.rtcp_stats)}` : '';
        rej(new Error(`baresip ${this.opts.name}: no ${what} within ${timeoutMs} ms (events: ${seen || 'none'})${stats}; log ${this.logFile}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** digits of CALL_DTMF_START events, in arrival order */
  dtmfReceived(): string {
    return this.events
      .filter((e) => e.type === 'CALL_DTMF_START')
      .map((e) => e.param ?? '')
      .join('');
  }

  dial(uri: string): Promise<string> {
    return this.mustCommand('dial', uri);
  }

  accept(): Promise<string> {
    return this.mustCommand('accept');
  }

  hangup(): Promise<string> {
    return this.mustCommand('hangup');
  }

  /** RFC 4733 telephone-events on the current call */
  sendDtmf(digits: string): Promise<string> {
    return this.mustCommand('sndcode', digits);
  }

  /**
   * Polls `reginfo` until the account shows "OK" (registered), bounded.
   * Rejects early on REGISTER_FAIL.
   */
  async waitRegistered(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const fail = this.events.find((e) => e.type === 'REGISTER_FAIL');
      if (fail) throw new Error(`baresip ${this.opts.name}: REGISTER_FAIL ${fail.param ?? ''}`);
      if (this.events.some((e) => e.type === 'REGISTER_OK')) return;
      // on a loaded machine one answer can take seconds (replies carry their token). An answer that never
      // comes is asked for again while time is left: the error of the last ask says what baresip was doing.
      try {
        last = stripAnsi((await this.command('reginfo', undefined, Math.max(3000, Math.min(5000, deadline - Date.now())))).data);
      } catch (err) {
        if (Date.now() >= deadline || !/no response to/.test((err as Error).message)) throw err;
        this.log?.write(`[harness] ${(err as Error).message}; asking again\n`);
        // in the test's output too: a stall that passed on the second ask is still seen in the test line
        process.stdout.write(`# ${(err as Error).message.replace(/\n/g, ' ')}; asking again\n`);
        continue;
      }
      if (/\bOK\b/.test(last)) return;
      await sleep(100);
    }
    throw new Error(`baresip ${this.opts.name}: not registered within ${timeoutMs} ms; reginfo: ${last.trim()}; log ${this.logFile}`);
  }

  /** recordings made so far: received (-dec) and sent (-enc) audio, oldest first */
  recordings(): { dec: string[]; enc: string[] } {
    const names = readdirSync(this.recordingsDir).sort();
    return {
      dec: names.filter((n) => n.endsWith('-dec.wav')).map((n) => join(this.recordingsDir, n)),
      enc: names.filter((n) => n.endsWith('-enc.wav')).map((n) => join(this.recordingsDir, n)),
    };
  }

  /**
   * SIP messages from the -s trace in the log, in order. The trace is
   * interleaved with menu status lines, so only the start line, headers and
   * SDP lines (`x=...`) are taken.
   */
  sipTrace(): TracedSipMessage[] {
    const lines = readFileSync(this.logFile, 'utf8')
      .split('\n')
      .map((l) => l.replace(/\r$/, ''));
    const out: TracedSipMessage[] = [];
    for (let i = 0; i < lines.length; i++) {
      const m = TRACE_HEADER.exec(lines[i]);
      if (!m) continue;
      // baresip's status lines reach the same file through the other pipe
      // and, with line buffering, can land between any two lines of a
      // message: take the first line shaped like a start line as the start
      // line, and only header-shaped lines as headers.
      let j = i + 1;
      while (j < lines.length && j <= i + 4 && !START_LINE.test(lines[j])) j++;
      if (j >= lines.length || !START_LINE.test(lines[j])) continue;
      const msg: TracedSipMessage = { transport: m[1] as 'UDP' | 'TCP' | 'TLS', src: m[2], dst: m[3], startLine: lines[j], headers: [], sdp: [] };
      // Headers, then the body's SDP lines, up to the next trace header. A
      // blank line from the other stream may come early, so a header-shaped
      // line before any SDP line is still a header; the body ends at the
      // first blank line after an SDP line.
      for (j++; j < lines.length && !TRACE_HEADER.test(lines[j]); j++) {
        const l = lines[j];
        if (l === '') {
          if (msg.sdp.length > 0) break;
        } else if (/^[a-z]=/.test(l)) msg.sdp.push(l);
        else if (msg.sdp.length === 0 && HEADER_LINE.test(l)) msg.headers.push(l);
      }
      out.push(msg);
      i = j - 1;
    }
    return out;
  }

  /**
   * Audio destinations in the SDP of traced messages that `pick` selects:
   * a source "host:port", or a predicate (over TCP the source port of a
   * received message may be ephemeral, so pick by start line instead).
   */
  sdpAudio(pick: string | ((m: TracedSipMessage) => boolean)): Array<{ src: string; startLine: string; address: string; port: number }> {
    const keep = typeof pick === 'string' ? (m: TracedSipMessage) => m.src === pick : pick;
    const out: Array<{ src: string; startLine: string; address: string; port: number }> = [];
    for (const msg of this.sipTrace()) {
      if (msg.sdp.length === 0 || !keep(msg)) continue;
      let address = '';
      for (const l of msg.sdp) {
        if (l.startsWith('c=IN IP4 ')) address = l.slice(9).trim();
        // RFC 4566 §5.14: m=<media> <port> <proto> <fmt> ...; a media-level c= would follow, none here
        if (l.startsWith('m=audio ')) out.push({ src: msg.src, startLine: msg.startLine, address, port: Number(l.split(' ')[1]) });
      }
    }
    return out;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** `quit`, then SIGTERM, then SIGKILL to the process group we created; idempotent */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.exited) return;
    this.stopping = true;
    if (proc.exitCode === null && proc.signalCode === null) {
      if (this.sock && !this.sock.destroyed) await this.command('quit', undefined, 1000).catch(() => undefined);
      if (!(await withTimeout(this.exited, 2000))) {
        signalGroup(proc, 'SIGTERM');
        if (!(await withTimeout(this.exited, 2000))) {
          signalGroup(proc, 'SIGKILL');
          await withTimeout(this.exited, 2000);
        }
      }
    }
    this.sock?.destroy();
    this.failPending(new Error(`baresip ${this.opts.name}: stopped`));
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error(`baresip ${this.opts.name}: stopped while waiting for an event`));
    // the pipes can still deliver a last chunk after the exit event (or from a
    // process that survived SIGKILL's grace): detach them before ending the file
    proc.stdout?.removeAllListeners('data');
    proc.stderr?.removeAllListeners('data');
    for (const [name, rest] of this.partialLines) if (rest !== '') this.log?.write(`${rest}\n`), this.partialLines.delete(name);
    await new Promise<void>((res) => (this.log ? this.log.end(res) : res()));
    this.proc = undefined;
  }
}

function signalGroup(proc: ChildProcess, sig: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, sig);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

function signalName(n: number): string {
  const name = Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
  return name ?? `signal ${n}`;
}

/** true when p settled within ms */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)));
  const r = await Promise.race([p.then(() => true), t]);
  clearTimeout(timer);
  return r;
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes this removes
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

/** every port findFreePort handed out in this process */
const handedOut = new Set<number>();

/**
 * A random port in [min, max) whose UDP and TCP sockets are free on
 * 127.0.0.1 for `span` consecutive ports (baresip's sip_listen takes port
 * and port+1). Bounded to 50 tries. A port the kernel lists in any state is
 * skipped too: a TCP connection in TIME_WAIT does not stop our probe (node
 * listens with SO_REUSEADDR) but does stop baresip's bind ("Address already
 * in use"). The default range stays below the kernel's ephemeral ports
 * (32768+), so no outgoing connection takes the port between probe and bind.
 * Nor does it hand out a port it handed out before: a test picks both
 * phones' ports before either binds, so a probe alone could give them
 * overlapping spans (seen: 30379 and 30380, "Address already in use").
 * Nor one in a port block another test process holds (test/helpers/sipp.ts,
 * claimPortBlock): two test files run at once.
 */
export async function findFreePort(span = 2, min = 30000, max = 32700): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = min + Math.floor(Math.random() * (max - min - span));
    const used = portsInUse();
    let ok = true;
    for (let p = base; p < base + span && ok; p++) {
      ok = claimPortBlock(Math.floor(p / PORT_BLOCK)) && !handedOut.has(p) && !used.has(p) && (await canBind('tcp', p)) && (await canBind('udp', p));
    }
    if (ok) {
      for (let p = base; p < base + span; p++) handedOut.add(p);
      return base;
    }
  }
  throw new Error('no free port found');
}

/**
 * A phone's RTP range (its `rtp_ports`): whole port blocks that this process
 * holds (claimPortBlock), so no test file running beside this one binds or
 * captures in it, and that no earlier range or port of this process
 * overlaps. Ports are not probed one by one: baresip binds a random port of
 * the range and tries another when one is taken.
 */
export function rtpPortRange(size = 100, min = 42000, max = 48000): [number, number] {
  const blocks = Math.ceil(size / PORT_BLOCK);
  const first = Math.ceil(min / PORT_BLOCK);
  const choices = Math.floor(max / PORT_BLOCK) - blocks - first + 1;
  // every candidate once, from a random one on: a free range is found whenever one exists
  // (50 random draws missed the last free block of 12 one time in 80)
  const start = Math.floor(Math.random() * Math.max(choices, 1));
  for (let k = 0; k < choices; k++) {
    const b0 = first + ((start + k) % choices);
    const base = b0 * PORT_BLOCK;
    let ok = true;
    for (let p = base; p < base + size && ok; p++) ok = !handedOut.has(p);
    for (let b = b0; b < b0 + blocks && ok; b++) ok = claimPortBlock(b);
    if (ok) {
      for (let p = base; p < base + size; p++) handedOut.add(p);
      return [base, base + size - 1];
    }
  }
  throw new Error(`no free RTP range of ${size} ports in ${min}-${max}`);
}

function canBind(kind: 'tcp' | 'udp', port: number): Promise<boolean> {
  return new Promise((res) => {
    if (kind === 'tcp') {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
    } else {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        res(false);
      });
      s.bind(port, '127.0.0.1', () => s.close(() => res(true)));
    }
  });
}
