// Asterisk's MixMonitor(): what a leg receives and what it sends, mixed into
// one WAV in 20 ms steps every 200 ms. A side with nothing queued for a step
// is silence.
import type { MediaEndpoint } from '../media-endpoint.js';
import { WavWriter } from './wav-writer.js';

export class MixMonitor {
  private readonly writer: WavWriter;
  private readonly rx: Int16Array[] = [];
  private readonly tx: Int16Array[] = [];
  private readonly off: Array<() => void>;
  private readonly timer: NodeJS.Timeout;

  constructor(leg: MediaEndpoint, path: string) {
    this.writer = new WavWriter(path);
    this.off = [leg.tapReceived((p) => this.rx.push(p.slice())), leg.tapSent((p) => this.tx.push(p.slice()))];
    this.timer = setInterval(() => this.mix(), 200);
    this.timer.unref();
  }

  private mix(): void {
    const n = Math.max(this.rx.length, this.tx.length);
    for (let i = 0; i < n; i++) {
      const a = this.rx.shift();
      const b = this.tx.shift();
      const len = Math.max(a?.length ?? 0, b?.length ?? 0);
      const out = new Int16Array(len);
      for (let k = 0; k < len; k++) {
        const v = (a?.[k] ?? 0) + (b?.[k] ?? 0);
        out[k] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      this.writer.write(out);
    }
  }

  /** what is queued is written, the file closed */
  stop(): void {
    clearInterval(this.timer);
    this.mix();
    for (const f of this.off) f();
    this.writer.close();
  }
}
