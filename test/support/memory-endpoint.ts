// A MediaEndpoint in memory (src/media/media-endpoint.ts) for tests of
// code that works on any technology's endpoint: tick() plays one 20 ms
// frame period — what its source yields is "sent" (and seen by tapSent),
// receive()/receiveDigit() play the far end.
import type { DigitSource, FrameSource, MediaEndpoint } from '../../src/media/media-endpoint.js';
import type { CodecName } from '../../src/media/codecs/codec-registry.js';

export class MemoryEndpoint implements MediaEndpoint {
  codec: CodecName | null = 'PCMU';
  source: FrameSource | null = null;
  echo = false;
  /** frames sent so far (copies) */
  readonly sent: Int16Array[] = [];
  /** digits sendDigits() was asked to send */
  readonly digitsSent: string[] = [];
  /** false: the far end cannot take DTMF */
  canSendDigits = true;
  private readonly rx = new Set<(pcm: Int16Array) => void>();
  private readonly tx = new Set<(pcm: Int16Array) => void>();
  private readonly dg = new Set<(d: string, via: DigitSource) => void>();
  private readonly frame = new Int16Array(160);

  tapReceived(fn: (pcm: Int16Array) => void): () => void {
    this.rx.add(fn);
    return () => this.rx.delete(fn);
  }
  tapSent(fn: (pcm: Int16Array) => void): () => void {
    this.tx.add(fn);
    return () => this.tx.delete(fn);
  }
  tapDigits(fn: (digit: string, via: DigitSource) => void): () => void {
    this.dg.add(fn);
    return () => this.dg.delete(fn);
  }
  sendDigits(digits: string): boolean {
    if (!this.canSendDigits) return false;
    this.digitsSent.push(digits);
    return true;
  }

  /** the far end sent one frame (the same buffer is reused, as the RTP decoder does) */
  receive(value: number): void {
    this.frame.fill(value);
    for (const t of this.rx) t(this.frame);
  }
  receiveDigit(d: string): void {
    for (const t of this.dg) t(d, 'rfc4733');
  }
  /** one 20 ms tick: send the source's next frame, if any */
  tick(): boolean {
    const out = new Int16Array(160);
    if (!this.source?.nextFrame(out)) return false;
    this.sent.push(out);
    for (const t of this.tx) t(out);
    return true;
  }
  get tapCount(): number {
    return this.rx.size + this.dg.size;
  }
}
