// An in-memory Channel driven by a script, for the voicemail application
// tests: the caller's DTMF is a string consumed by readDigits/waitDigit, each
// record() writes a real 8 kHz mono WAV (a tone of the scripted length), and
// everything played is logged in order.
import { writeFileSync } from 'node:fs';
import type {
  Channel,
  ChannelPeer,
  DialResult,
  HangupCause,
  PlayOptions,
  PlayResult,
  ReadDigitsOptions,
  RecordOptions,
  RecordResult,
} from '../../channel/channel.js';
import { pcmToWav, tone } from './wav-info.js';

export interface ScriptChannelOptions {
  /** DTMF the caller presses, in order ('#' included) */
  digits?: string;
  /** length of each recording the caller makes, in order (ms) */
  recordings?: number[];
  /** how each recording ends (default 'digit') */
  recordEnd?: RecordResult['reason'];
  callerIdNum?: string;
  callerIdName?: string;
  /** digits that barge into a prompt: when the next digit is in this set, play() returns it */
  bargeIn?: boolean;
  context?: string;
  dialed?: string;
  /** where the caller signals from; default udp 192.0.2.60:5060, authenticated as callerIdNum */
  peer?: ChannelPeer;
}

export class ScriptChannel implements Channel {
  readonly id = `test-${Math.random().toString(16).slice(2, 10)}`;
  readonly name = 'Test/1001-00000001';
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly dialed: string;
  readonly context: string;
  readonly peer: ChannelPeer;
  readonly vars = new Map<string, string>();
  answered = false;
  hungUp = false;
  /** what the caller heard, in order: prompt names, "say:N", "digits:123", "record:PATH" */
  readonly heard: string[] = [];
  readonly recorded: Array<{ path: string; ms: number }> = [];
  private digits: string;
  private readonly recordings: number[];
  private endResolve!: (c: HangupCause) => void;
  readonly ended: Promise<HangupCause>;

  constructor(private readonly o: ScriptChannelOptions = {}) {
    this.digits = o.digits ?? '';
    this.recordings = [...(o.recordings ?? [])];
    this.callerIdNum = o.callerIdNum ?? '1001';
    this.callerIdName = o.callerIdName ?? 'Test Caller';
    this.dialed = o.dialed ?? '';
    this.context = o.context ?? 'default';
    this.peer = o.peer ?? { transport: 'udp', address: '192.0.2.60', port: 5060, account: this.callerIdNum };
    this.ended = new Promise((r) => (this.endResolve = r));
  }

  /** digits not consumed yet */
  get pending(): string {
    return this.digits;
  }

  async answer(): Promise<void> {
    this.answered = true;
  }
  async ring(): Promise<void> {}
  async progress(): Promise<void> {}
  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    this.hungUp = true;
    this.endResolve(cause);
  }

  private bargeIn(opts?: PlayOptions): string | undefined {
    const d = this.digits[0];
    if (this.o.bargeIn && d !== undefined && opts?.interruptDigits?.includes(d)) {
      this.digits = this.digits.slice(1);
      return d;
    }
    return undefined;
  }

  async play(files: string[], opts?: PlayOptions): Promise<PlayResult> {
    if (this.hungUp) return { completed: false };
    for (const f of files) {
      this.heard.push(f);
      const d = this.bargeIn(opts);
      if (d) return { completed: true, digit: d };
    }
    return { completed: true };
  }
  async sayDigits(digits: string, opts?: PlayOptions): Promise<PlayResult> {
    return this.play([`digits:${digits}`], opts);
  }
  async sayNumber(n: number, opts?: PlayOptions): Promise<PlayResult> {
    return this.play([`say:${n}`], opts);
  }

  async readDigits(opts: ReadDigitsOptions): Promise<string> {
    let got = opts.initial ?? '';
    const term = opts.terminators ?? '#';
    while (this.digits.length > 0 && (opts.maxDigits === 0 || got.length < opts.maxDigits)) {
      const d = this.digits[0]!;
      this.digits = this.digits.slice(1);
      if (term.includes(d)) break;
      got += d;
    }
    return got;
  }

  async waitDigit(): Promise<string | null> {
    if (this.hungUp || this.digits.length === 0) return null;
    const d = this.digits[0]!;
    this.digits = this.digits.slice(1);
    return d;
  }

  async record(opts: RecordOptions): Promise<RecordResult> {
    if (this.hungUp) return { durationMs: 0, reason: 'hangup' };
    if (opts.beep) this.heard.push('beep');
    const ms = Math.min(this.recordings.shift() ?? 0, opts.maxMs);
    writeFileSync(opts.path, pcmToWav(tone(440, ms)));
    this.heard.push(`record:${ms}`);
    this.recorded.push({ path: opts.path, ms });
    const reason = ms >= opts.maxMs ? 'max' : (this.o.recordEnd ?? 'digit');
    if (reason === 'hangup') await this.hangup('normal');
    return { durationMs: ms, reason, digit: reason === 'digit' ? '#' : undefined };
  }

  startMixMonitor(): void {}
  stopMixMonitor(): void {}
  async musicOnHold(): Promise<PlayResult> {
    return { completed: true };
  }
  async wait(): Promise<boolean> {
    return !this.hungUp;
  }
  async dial(): Promise<DialResult> {
    return { status: 'CHANUNAVAIL' };
  }
  async confBridge(): Promise<void> {}
}
