// The one in-memory channel double: a Channel that is also its own media
// services (ChannelMedia), driven by a script of the caller's keypresses, for
// the dialplan, application and voicemail unit tests. What happens is
// written twice: `events`, every operation in order ('answer', 'play:welcome',
// 'sayNumber:87', 'dial:SIP/1001:20000:r', 'digit:5', 'hangup:normal'...),
// and `heard`, what the caller heard (prompt names, 'digits:756', 'say:2',
// 'beep', 'record:2400' for a recording of 2.4 s).
//
// Script characters: a digit, * or # is the next key the caller presses — it
// interrupts a prompt that listens for it (unless `bargeIn` is false: then
// the caller waits for every prompt to end), is read by readDigits and
// waitDigit, or ends a recording; '~' is the caller staying silent until
// whatever waits times out (a recording then ends on silence or its
// maximum). When the script runs out and something waits for the caller,
// the caller hangs up, so every test ends.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Channel, ChannelPeer, DialOptions, DialResult, DialTarget, HangupCause } from '../../src/channel/channel.js';
import type { ChannelMedia, MediaCall, PlayOptions, PlayResult, ReadDigitsOptions, RecordOptions, RecordResult } from '../../src/channel/channel-media.js';
import type { MediaEndpoint } from '../../src/media/media-endpoint.js';

export interface MemoryChannelOptions {
  context?: string;
  dialed?: string;
  callerIdNum?: string;
  callerIdName?: string;
  /** the caller's keypresses, see above */
  script?: string;
  /** false: keys never interrupt a prompt (default true) */
  bargeIn?: boolean;
  /** the length (ms) of each recording the caller makes, in turn (default 100) */
  recordings?: number[];
  /** how a Dial() ends; default NOANSWER (a promise: the dial takes that long, as a real one rings) */
  onDial?(targets: DialTarget[], opts: DialOptions): DialResult | Promise<DialResult>;
  /**
   * music on hold plays as on a real call — until its timeout, its abort
   * signal or the caller's hang-up — instead of taking the next scripted key
   * (queues, where callers wait on music while the test drives the members)
   */
  liveMusic?: boolean;
  /** where the caller signals from; default udp 192.0.2.50:5060, authenticated as callerIdNum */
  peer?: ChannelPeer;
}

export class MemoryChannel implements Channel, ChannelMedia {
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
  readonly heard: string[] = [];
  readonly ended: Promise<HangupCause>;
  readonly endpoint: MediaEndpoint;
  mixMonitor: string | null = null;
  private resolveEnded!: (c: HangupCause) => void;
  private readonly script: string[];
  private readonly recordings: number[];

  constructor(private readonly o: MemoryChannelOptions = {}) {
    this.context = o.context ?? 'default';
    this.dialed = o.dialed ?? 's';
    this.callerIdNum = o.callerIdNum ?? '1001';
    this.callerIdName = o.callerIdName ?? 'Alice';
    this.name = `MEM/${this.callerIdNum}-${this.id.slice(4, 10)}`;
    this.peer = o.peer ?? { transport: 'udp', address: '192.0.2.50', port: 5060, account: this.callerIdNum };
    this.script = [...(o.script ?? '')];
    this.recordings = [...(o.recordings ?? [])];
    this.ended = new Promise((r) => (this.resolveEnded = r));
    this.endpoint = {
      codec: 'PCMU',
      source: null,
      echo: false,
      tapReceived: () => () => undefined,
      tapSent: () => () => undefined,
      tapDigits: () => () => undefined,
      sendDigits: (digits) => {
        this.events.push(`send-dtmf:${digits}`);
        return true;
      },
    };
  }

  /** the double is its own media services */
  get media(): ChannelMedia {
    return this;
  }

  /** the channel with its media, as an application gets them */
  get call(): MediaCall {
    return { channel: this, media: this };
  }

  /** the events that are prompts played, in order */
  get played(): string[] {
    return this.events.filter((e) => e.startsWith('play:')).map((e) => e.slice(5));
  }

  /** keys not pressed yet */
  get pending(): string {
    return this.script.join('');
  }

  private callerGone(): void {
    if (this.hungUp) return;
    this.events.push('caller-hangup');
    this.hungUp = true;
    this.cause = 'normal';
    this.resolveEnded('normal');
  }

  // ------------------------------------------------------------ Channel

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

  async dial(targets: DialTarget[], opts: DialOptions): Promise<DialResult> {
    this.events.push(`dial:${targets.map((t) => `${t.tech}/${t.resource}`).join('&')}:${opts.timeoutMs}:${opts.options}`);
    return (await this.o.onDial?.(targets, opts)) ?? { status: 'NOANSWER' };
  }

  /** the caller hangs up now (whatever it is doing) */
  callerHangup(): void {
    this.callerGone();
  }

  // ------------------------------------------------------- ChannelMedia

  /** each item is heard in turn; a key the prompt listens for stops it */
  private async playList(items: Array<{ event?: string; heard: string }>, opts?: PlayOptions): Promise<PlayResult> {
    if (this.hungUp) return { completed: false };
    for (const it of items) {
      if (it.event) this.events.push(it.event);
      this.heard.push(it.heard);
      const next = this.script[0];
      if (this.o.bargeIn !== false && next !== undefined && next !== '~' && opts?.interruptDigits?.includes(next)) {
        this.script.shift();
        this.events.push(`digit:${next}`);
        return { completed: true, digit: next };
      }
    }
    return { completed: !this.hungUp };
  }

  play(files: string[], opts?: PlayOptions): Promise<PlayResult> {
    return this.playList(
      files.map((f) => ({ event: `play:${f}`, heard: f })),
      opts,
    );
  }
  sayDigits(digits: string, opts?: PlayOptions): Promise<PlayResult> {
    this.events.push(`sayDigits:${digits}`);
    return this.playList([{ heard: `digits:${digits}` }], opts);
  }
  sayNumber(n: number, opts?: PlayOptions): Promise<PlayResult> {
    this.events.push(`sayNumber:${n}`);
    return this.playList([{ heard: `say:${n}` }], opts);
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

  /** writes a real WAV (a 440 Hz tone of the scripted length) so tests can see where it landed */
  async record(opts: RecordOptions): Promise<RecordResult> {
    if (this.hungUp) return { durationMs: 0, reason: 'hangup' };
    if (opts.beep) this.heard.push('beep');
    this.events.push(`record:${opts.path}`);
    const ms = Math.min(this.recordings.shift() ?? 100, opts.maxMs);
    writeFileSync(opts.path, toneWav(ms));
    this.heard.push(`record:${ms}`);
    if (ms >= opts.maxMs) return { durationMs: ms, reason: 'max' };
    const next = this.script[0];
    if (next === undefined) {
      this.callerGone();
      return { durationMs: ms, reason: 'hangup' };
    }
    this.script.shift();
    if (next === '~') return { durationMs: ms, reason: opts.silenceMs ? 'silence' : 'max' };
    return { durationMs: ms, reason: 'digit', digit: next };
  }

  startMixMonitor(path: string): void {
    this.mixMonitor = path;
    this.events.push(`mixmonitor:${path}`);
  }
  stopMixMonitor(): void {
    this.mixMonitor = null;
    this.events.push('stopmixmonitor');
  }

  async musicOnHold(className: string, timeoutMs: number, opts?: PlayOptions): Promise<PlayResult> {
    this.events.push(`moh:${className}:${timeoutMs}`);
    if (this.o.liveMusic) {
      if (this.hungUp) return { completed: false };
      const signal = opts?.signal;
      let t: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      await Promise.race([
        this.ended,
        new Promise<void>((r) => {
          if (timeoutMs > 0) t = setTimeout(r, timeoutMs);
          onAbort = () => r();
          if (signal?.aborted) r();
          else signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      clearTimeout(t);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      return { completed: !this.hungUp };
    }
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

  async echo(ms: number): Promise<boolean> {
    this.events.push(`echo:${ms}`);
    return !this.hungUp;
  }

  async confBridge(room: string): Promise<void> {
    this.events.push(`confbridge:${room}`);
  }
}

/** an 8 kHz mono 16-bit PCM WAV holding `ms` of a 440 Hz tone */
function toneWav(ms: number): Buffer {
  const n = Math.round((ms * 8000) / 1000);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
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
  return Buffer.concat([h, data]);
}
