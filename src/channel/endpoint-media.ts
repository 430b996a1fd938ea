// The media services (channel-media.ts) over a channel's media endpoint:
// prompts and music are Players set as the endpoint's source, recordings
// and conference rooms tap what it receives, DTMF is collected from its
// digit events. Everything stops when the channel ends.
import type { Logger } from '../observability/logger.js';
import type { MediaEndpoint } from '../media/media-endpoint.js';
import { Player } from '../media/player/player.js';
import type { PromptStore } from '../media/prompts/prompt-store.js';
import { sayDigitsPrompts, sayNumberPrompts } from '../media/prompts/say.js';
import type { MusicOnHold } from '../media/player/music-on-hold.js';
import { MixParticipant, type MixerRegistry } from '../media/mixer/mixer.js';
import { WavWriter } from '../media/recorder/wav-writer.js';
import { MixMonitor } from '../media/recorder/mix-monitor.js';
import { SilenceDetector } from '../media/recorder/silence-detector.js';
import type { Channel } from './channel.js';
import type { ChannelMedia, PlayOptions, PlayResult, ReadDigitsOptions, RecordOptions, RecordResult } from './channel-media.js';
import { DigitQueue, type DigitListener } from './digit-queue.js';

/** what the media services draw on, shared by every channel */
export interface MediaServiceDeps {
  prompts: PromptStore;
  moh: MusicOnHold;
  mixers: MixerRegistry;
  log: Logger;
}

export class EndpointMedia implements ChannelMedia {
  private readonly digits = new DigitQueue();
  private player: Player | null = null;
  private mixMonitor: MixMonitor | null = null;
  private readonly endpoint: MediaEndpoint;

  constructor(
    private readonly channel: Channel,
    private readonly deps: MediaServiceDeps,
  ) {
    this.endpoint = channel.endpoint;
    const off = this.endpoint.tapDigits((d) => this.digits.push(d));
    void channel.ended.then(() => {
      off();
      this.player?.stop();
      this.stopMixMonitor();
      this.digits.close();
    });
  }

  waitDigit(timeoutMs: number): Promise<string | null> {
    return this.digits.waitDigit(timeoutMs);
  }

  readDigits(o: ReadDigitsOptions): Promise<string> {
    return this.digits.readDigits(o);
  }

  async play(files: string[], opts?: PlayOptions): Promise<PlayResult> {
    const items: Int16Array[] = [];
    for (const f of files) {
      try {
        items.push(this.deps.prompts.load(f));
      } catch (err) {
        // Asterisk goes on after a missing file; log it for the administrator
        this.deps.log.warn('prompt-missing', { channel: this.channel.name, prompt: f, error: (err as Error).message });
      }
    }
    return this.playSamples(items, opts);
  }

  sayDigits(digits: string, opts?: PlayOptions): Promise<PlayResult> {
    return this.play(sayDigitsPrompts(digits), opts);
  }

  sayNumber(n: number, opts?: PlayOptions): Promise<PlayResult> {
    return this.play(sayNumberPrompts(n), opts);
  }

  async musicOnHold(className: string, timeoutMs: number, opts?: PlayOptions): Promise<PlayResult> {
    let files = this.deps.moh.load(className);
    if (files.length === 0) files = this.deps.moh.load('default');
    if (files.length === 0) return this.waitUnless(timeoutMs, opts?.signal).then((ok) => ({ completed: ok }));
    return this.playSamples(files, opts, true, timeoutMs > 0 ? timeoutMs : 0);
  }

  /**
   * Plays sample buffers; stops at an interrupt digit (which is consumed and
   * returned) or hangup. Digits that are not interrupt digits stay queued.
   */
  private async playSamples(items: Int16Array[], opts: PlayOptions | undefined, loop = false, timeoutMs = 0): Promise<PlayResult> {
    if (this.channel.hungUp) return { completed: false };
    const ep = this.endpoint;
    const interrupt = opts?.interruptDigits ?? '';
    const early = interrupt ? this.digits.take(interrupt) : undefined;
    if (early !== undefined) return { completed: true, digit: early };
    this.player?.stop();
    const player = new Player(items, loop);
    this.player = player;
    ep.source = player;
    let digit: string | undefined;
    const stopOnDigit: DigitListener | null = interrupt
      ? (d) => {
          if (d !== null && interrupt.includes(d)) {
            digit = d;
            player.stop();
          } else if (d !== null) {
            this.digits.keep(d);
            this.digits.listen(stopOnDigit!);
          }
        }
      : null;
    if (stopOnDigit) this.digits.listen(stopOnDigit);
    const timer = timeoutMs > 0 ? setTimeout(() => player.stop(), timeoutMs) : undefined;
    const signal = opts?.signal;
    const onAbort = (): void => player.stop();
    if (signal?.aborted) player.stop();
    else signal?.addEventListener('abort', onAbort, { once: true });
    await Promise.race([player.done, this.channel.ended]);
    signal?.removeEventListener('abort', onAbort);
    clearTimeout(timer);
    player.stop();
    if (stopOnDigit) this.digits.unlisten(stopOnDigit);
    if (ep.source === player) ep.source = null;
    if (this.player === player) this.player = null;
    if (this.channel.hungUp) return { completed: false };
    return digit !== undefined ? { completed: true, digit } : { completed: true };
  }

  /** silence until ms (0 = until hangup) or the signal; false when the call ended */
  private async waitUnless(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.channel.hungUp) return false;
    if (signal?.aborted) return true;
    let t: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const r = await Promise.race([
      new Promise<boolean>((res) => {
        if (ms > 0) t = setTimeout(() => res(true), ms);
        onAbort = () => res(true);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
      this.channel.ended.then(() => false),
    ]);
    clearTimeout(t);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    return r;
  }

  async wait(ms: number): Promise<boolean> {
    if (this.channel.hungUp) return false;
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([new Promise<boolean>((res) => (t = setTimeout(() => res(true), ms))), this.channel.ended.then(() => false)]);
    clearTimeout(t);
    return r;
  }

  /** Asterisk's Echo(): the caller hears itself until hangup or `ms` (0 = until hangup) */
  async echo(ms = 0): Promise<boolean> {
    if (this.channel.hungUp) return false;
    this.endpoint.echo = true;
    const ok = ms > 0 ? await this.wait(ms) : await this.channel.ended.then(() => false);
    this.endpoint.echo = false;
    return ok;
  }

  async record(o: RecordOptions): Promise<RecordResult> {
    if (this.channel.hungUp) return { durationMs: 0, reason: 'hangup' };
    if (o.beep) await this.play(['beep']);
    if (this.channel.hungUp) return { durationMs: 0, reason: 'hangup' };
    const writer = new WavWriter(o.path);
    const silence = new SilenceDetector();
    const stopDigits = o.stopDigits ?? '#';
    return new Promise<RecordResult>((resolve) => {
      let done = false;
      const finish = (reason: RecordResult['reason'], digit?: string): void => {
        if (done) return;
        done = true;
        off();
        clearTimeout(maxTimer);
        this.digits.unlisten(onDigit);
        // the trailing silence that ended the recording is not part of the message
        if (reason === 'silence') writer.trimEnd(o.silenceMs ?? 0);
        const durationMs = Math.round(writer.durationMs);
        writer.close();
        resolve(digit !== undefined ? { durationMs, reason, digit } : { durationMs, reason });
      };
      const off = this.endpoint.tapReceived((pcm) => {
        writer.write(pcm);
        if (o.silenceMs && silence.push(pcm, pcm.length / 8) >= o.silenceMs) finish('silence');
      });
      const onDigit: DigitListener = (d) => {
        if (d === null) return;
        if (stopDigits.includes(d)) finish('digit', d);
        else this.digits.listen(onDigit);
      };
      this.digits.listen(onDigit);
      const maxTimer = setTimeout(() => finish('max'), o.maxMs);
      void this.channel.ended.then(() => finish('hangup'));
    });
  }

  startMixMonitor(path: string): void {
    if (this.mixMonitor || this.channel.hungUp) return;
    this.mixMonitor = new MixMonitor(this.endpoint, path);
  }

  stopMixMonitor(): void {
    this.mixMonitor?.stop();
    this.mixMonitor = null;
  }

  /** the caller hears the room's mix of everyone else; what it says goes into the room */
  async confBridge(room: string): Promise<void> {
    const ch = this.channel;
    if (ch.hungUp) return;
    if (!ch.answered) await ch.answer();
    const mix = { frame: null as Int16Array | null };
    const p = new MixParticipant((f) => (mix.frame = f));
    const source = {
      nextFrame: (out: Int16Array): boolean => {
        const f = mix.frame;
        mix.frame = null;
        if (!f) return false;
        out.set(f);
        return true;
      },
    };
    const off = this.endpoint.tapReceived((pcm) => p.push(pcm));
    if (this.deps.mixers.count(room) === 0) await this.play(['conf-onlyperson']);
    this.deps.mixers.join(room, p);
    this.deps.log.info('conference-joined', { room, channel: ch.name, caller: ch.callerIdNum, members: this.deps.mixers.count(room) });
    this.endpoint.source = source;
    await ch.ended;
    off();
    this.deps.mixers.leave(room, p);
    this.deps.log.info('conference-left', { room, channel: ch.name, members: this.deps.mixers.count(room) });
  }
}
