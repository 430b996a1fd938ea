// A test-only Channel that lives in memory: the caller's keypresses are a
// script, and everything the dialplan makes the channel do is written to
// `events` ('answer', 'play:welcome', 'sayNumber:87', 'dial:SIP/1001'...).
//
// Script characters: a digit/*/# is the next key the caller presses (it
// interrupts an interruptible prompt, or is read); '~' is the caller staying
// silent until whatever is waiting times out. When the script runs out the
// caller hangs up, so every test ends.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type {
  Channel,
  ChannelPeer,
  DialOptions,
  DialResult,
  DialTarget,
  HangupCause,
  PlayOptions,
  PlayResult,
  ReadDigitsOptions,
  RecordOptions,
  RecordResult,
} from '../../src/channel/channel.js';

export interface MemoryChannelOptions {
  context?: string;
  dialed?: string;
  callerIdNum?: string;
  callerIdName?: string;
  /** the caller's keypresses, see above */
  script?: string;
  /** how a Dial() ends; default NOANSWER */
  onDial?(targets: DialTarget[], opts: DialOptions): DialResult;
  /** where the caller signals from; default udp 192.0.2.50:5060, authenticated as callerIdNum */
  peer?: ChannelPeer;
}

export class MemoryChannel implements Channel {
  readonly id = `mem-${randomBytes(6).toString('hex')}`;
  readonly name: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly dialed: string;
  readonly context: string;
  readonly peer: ChannelPeer;
  readonly vars = new Map<string, string>();
  answered = false;
  hungUp = false;
  cause: HangupCause | null = null;
  readonly events: string[] = [];
  readonly ended: Promise<HangupCause>;
  private resolveEnded!: (c: HangupCause) => void;
  private script: string[];
  mixMonitor: string | null = null;

  constructor(private readonly o: MemoryChannelOptions = {}) {
    this.context = o.context ?? 'default';
    this.dialed = o.dialed ?? 's';
    this.callerIdNum = o.callerIdNum ?? '1001';
    this.callerIdName = o.callerIdName ?? 'Alice';
    this.name = `MEM/${this.callerIdNum}-${this.id.slice(4, 10)}`;
    this.peer = o.peer ?? { transport: 'udp', address: '192.0.2.50', port: 5060, account: this.callerIdNum };
    this.script = [...(o.script ?? '')];
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }

  /** the events that are prompts played, in order */
  get played(): string[] {
    return this.events.filter((e) => e.startsWith('play:')).map((e) => e.slice(5));
  }

  private callerGone(): void {
    if (this.hungUp) return;
    this.events.push('caller-hangup');
    this.hungUp = true;
    this.cause = 'normal';
    this.resolveEnded('normal');
  }

  async answer(): Promise<void> {
    if (this.hungUp) return;
    this.answered = true;
    this.events.push('answer');
  }
  async ring(): Promise<void> {
    this.events.push('ring');
  }
  async progress(): Promise<void> {
    this.events.push('progress');
  }
  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    this.hungUp = true;
    this.cause = cause;
    this.events.push(`hangup:${cause}`);
    this.resolveEnded(cause);
  }

  private async playList(items: string[], opts?: PlayOptions): Promise<PlayResult> {
    if (this.hungUp) return { completed: false };
    for (const f of items) {
      this.events.push(`play:${f}`);
      const next = this.script[0];
      if (next === undefined && !opts?.interruptDigits) continue;
      if (next !== undefined && next !== '~' && opts?.interruptDigits?.includes(next)) {
        this.script.shift();
        this.events.push(`digit:${next}`);
        return { completed: true, digit: next };
      }
    }
    return { completed: !this.hungUp };
  }

  play(files: string[], opts?: PlayOptions): Promise<PlayResult> {
    return this.playList(files, opts);
  }
  sayDigits(digits: string, opts?: PlayOptions): Promise<PlayResult> {
    this.events.push(`sayDigits:${digits}`);
    return this.playList([], opts);
  }
  sayNumber(n: number, opts?: PlayOptions): Promise<PlayResult> {
    this.events.push(`sayNumber:${n}`);
    return this.playList([], opts);
  }

  async readDigits(opts: ReadDigitsOptions): Promise<string> {
    let got = opts.initial ?? '';
    const terms = opts.terminators ?? '#';
    for (;;) {
      if (this.hungUp) return got;
      if (opts.maxDigits > 0 && got.length >= opts.maxDigits) return got;
      const next = this.script.shift();
      if (next === undefined) {
        this.callerGone();
        return got;
      }
      if (next === '~') {
        this.events.push('timeout');
        return got;
      }
      this.events.push(`digit:${next}`);
      if (terms.includes(next)) return got;
      got += next;
    }
  }

  async waitDigit(_timeoutMs: number): Promise<string | null> {
    if (this.hungUp) return null;
    const next = this.script.shift();
    if (next === undefined) {
      this.callerGone();
      return null;
    }
    if (next === '~') {
      this.events.push('timeout');
      return null;
    }
    this.events.push(`digit:${next}`);
    return next;
  }

  async record(opts: RecordOptions): Promise<RecordResult> {
    this.events.push(`record:${opts.path}`);
    // a real (tiny) WAV so tests can see where it landed
    const data = Buffer.alloc(1600);
    const h = Buffer.alloc(44);
    h.write('RIFF', 0);
    h.writeUInt32LE(36 + data.length, 4);
    h.write('WAVEfmt ', 8);
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(1, 22);
    h.writeUInt32LE(8000, 24);
    h.writeUInt32LE(16000, 28);
    h.writeUInt16LE(2, 32);
    h.writeUInt16LE(16, 34);
    h.write('data', 36);
    h.writeUInt32LE(data.length, 40);
    writeFileSync(opts.path, Buffer.concat([h, data]));
    const next = this.script[0];
    if (next === undefined) {
      this.callerGone();
      return { durationMs: 100, reason: 'hangup' };
    }
    this.script.shift();
    if (next === '~') return { durationMs: 100, reason: opts.silenceMs ? 'silence' : 'max' };
    return { durationMs: 100, reason: 'digit', digit: next };
  }

  startMixMonitor(path: string): void {
    this.mixMonitor = path;
    this.events.push(`mixmonitor:${path}`);
  }
  stopMixMonitor(): void {
    this.mixMonitor = null;
    this.events.push('stopmixmonitor');
  }

  async musicOnHold(className: string, timeoutMs: number): Promise<PlayResult> {
    this.events.push(`moh:${className}:${timeoutMs}`);
    const next = this.script.shift();
    if (next === undefined) {
      this.callerGone();
      return { completed: false };
    }
    if (next === '~') return { completed: true };
    this.events.push(`digit:${next}`);
    return { completed: true, digit: next };
  }

  async wait(ms: number): Promise<boolean> {
    this.events.push(`wait:${ms}`);
    return !this.hungUp;
  }

  async dial(targets: DialTarget[], opts: DialOptions): Promise<DialResult> {
    this.events.push(`dial:${targets.map((t) => `${t.tech}/${t.resource}`).join('&')}:${opts.timeoutMs}:${opts.options}`);
    return this.o.onDial?.(targets, opts) ?? { status: 'NOANSWER' };
  }

  async confBridge(room: string): Promise<void> {
    this.events.push(`confbridge:${room}`);
  }
}
