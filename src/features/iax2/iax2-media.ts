// The media endpoint of an IAX2 call (src/media/media-endpoint.ts): what
// the media services play is encoded each 20 ms tick of the shared media
// clock and sent as voice frames; voice received is decoded for the taps
// (recorders, MixMonitor, conference, a bridge); DTMF comes and goes as
// IAX2 DTMF frames. The codec is the format the call agreed (G.711 µ/A-law
// or GSM 06.10, src/media/codecs).
import { Format } from '../../iax2/iax2-constants.js';
import type { Iax2Call } from '../../iax2/iax2-call.js';
import { decoderFor, encoderFor, type CodecName, type FrameDecoder } from '../../media/codecs/codec-registry.js';
import { mediaClock, type MediaClock } from '../../media/media-clock.js';
import type { DigitSource, FrameSource, MediaEndpoint } from '../../media/media-endpoint.js';

export const FORMAT_CODEC: Record<number, CodecName> = { [Format.ULAW]: 'PCMU', [Format.ALAW]: 'PCMA', [Format.GSM]: 'GSM' };

export class Iax2Media implements MediaEndpoint {
  source: FrameSource | null = null;
  echo = false;
  private readonly frame = new Int16Array(160);
  private readonly rxTaps = new Set<(pcm: Int16Array) => void>();
  private readonly txTaps = new Set<(pcm: Int16Array) => void>();
  private readonly digitTaps = new Set<(digit: string, via: DigitSource) => void>();
  private encode: ((pcm: Int16Array) => Uint8Array) | null = null;
  private decoders = new Map<number, FrameDecoder>();
  private running = false;
  private readonly tickFn = (): void => this.tick();
  /** frames received and sent (for the channel-ended log line) */
  readonly stats = { received: 0, sent: 0 };

  constructor(
    private readonly call: Iax2Call,
    private readonly clock: MediaClock = mediaClock,
  ) {
    call.events.voice = (payload, format) => this.onVoice(payload, format);
    call.events.dtmf = (d) => {
      for (const t of this.digitTaps) t(d, 'info');
    };
  }

  get codec(): CodecName | null {
    return FORMAT_CODEC[this.call.format] ?? null;
  }

  /** join the shared clock: from now on the source is heard (answer, early media) */
  start(): void {
    if (this.running) return;
    const c = this.codec;
    this.encode = c ? encoderFor(c) : null;
    this.running = true;
    this.clock.add(this.tickFn);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clock.remove(this.tickFn);
  }

  tapReceived(fn: (pcm: Int16Array) => void): () => void {
    this.rxTaps.add(fn);
    return () => this.rxTaps.delete(fn);
  }

  tapSent(fn: (pcm: Int16Array) => void): () => void {
    this.txTaps.add(fn);
    return () => this.txTaps.delete(fn);
  }

  tapDigits(fn: (digit: string, via: DigitSource) => void): () => void {
    this.digitTaps.add(fn);
    return () => this.digitTaps.delete(fn);
  }

  sendDigits(digits: string): boolean {
    for (const d of digits) this.call.sendDtmf(d);
    return true;
  }

  private onVoice(payload: Buffer, format: number): void {
    this.stats.received++;
    if (this.echo) this.call.sendVoice(payload);
    if (this.rxTaps.size === 0) return;
    let dec = this.decoders.get(format);
    if (!dec) {
      const c = FORMAT_CODEC[format];
      const d = c ? decoderFor(c) : null;
      if (!d) return;
      dec = d;
      this.decoders.set(format, d);
    }
    const pcm = dec.decode(payload);
    for (const t of this.rxTaps) t(pcm);
  }

  private tick(): void {
    if (this.echo) return;
    const src = this.source;
    if (!src || !this.encode || !src.nextFrame(this.frame)) return;
    const out = this.encode(this.frame);
    if (out.length === 0) return;
    this.stats.sent++;
    this.call.sendVoice(out);
    for (const t of this.txTaps) t(this.frame);
  }

  close(): void {
    this.stop();
    this.source = null;
    this.rxTaps.clear();
    this.txTaps.clear();
    this.digitTaps.clear();
  }
}
