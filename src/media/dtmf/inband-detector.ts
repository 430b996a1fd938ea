// In-band DTMF detection with the Goertzel algorithm: 8 kHz PCM in blocks of
// 205 samples (the classic choice: bins fall near all eight tones). A block
// holds a digit when the strongest row and column tones carry most of the
// block's energy, pass the twist limits, and clearly beat the other tones
// of their group. A digit is reported once per press: two consecutive
// blocks must agree, and the press ends after two blocks without a digit.

const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];
const N = 205;
const RATE = 8000;

const COEFFS = [...ROWS, ...COLS].map((f) => 2 * Math.cos((2 * Math.PI * Math.round((N * f) / RATE)) / N));

export interface InbandOptions {
  /** minimum tone power (per block, samples scaled to [-1,1)) */
  minEnergy?: number;
  /** G.711/ITU Q.24: normal twist (column above row) ≤ 8 dB */
  normalTwistDb?: number;
  /** reverse twist (row above column) ≤ 4 dB */
  reverseTwistDb?: number;
}

export class InbandDtmfDetector {
  private readonly buf = new Float64Array(N);
  private fill = 0;
  private last = '';
  private reported = '';
  private readonly minEnergy: number;
  private readonly normalTwist: number;
  private readonly reverseTwist: number;
  onDigit: ((digit: string) => void) | null = null;

  constructor(o: InbandOptions = {}) {
    this.minEnergy = o.minEnergy ?? 1e-4;
    this.normalTwist = 10 ** ((o.normalTwistDb ?? 8) / 10);
    this.reverseTwist = 10 ** ((o.reverseTwistDb ?? 4) / 10);
  }

  /** feed 16-bit PCM at 8 kHz */
  push(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length; i++) {
      this.buf[this.fill++] = pcm[i]! / 32768;
      if (this.fill === N) {
        this.fill = 0;
        this.block();
      }
    }
  }

  private block(): void {
    const digit = this.classify();
    if (digit && digit === this.last && digit !== this.reported) {
      this.reported = digit;
      this.onDigit?.(digit);
    }
    // a press ends after two blocks (~50 ms) without a digit: one bad block in
    // the middle of a long press (a lost packet, a burst of noise) is not a new press
    if (digit) this.quiet = 0;
    else if (++this.quiet >= 2) this.reported = '';
    this.last = digit;
  }

  private quiet = 0;

  private classify(): string {
    const p = new Float64Array(8);
    let total = 0;
    for (let i = 0; i < N; i++) total += this.buf[i]! * this.buf[i]!;
    for (let k = 0; k < 8; k++) {
      const c = COEFFS[k]!;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < N; i++) {
        const s0 = this.buf[i]! + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      p[k] = s1 * s1 + s2 * s2 - c * s1 * s2;
    }
    let r = 0;
    let c = 4;
    for (let k = 1; k < 4; k++) if (p[k]! > p[r]!) r = k;
    for (let k = 5; k < 8; k++) if (p[k]! > p[c]!) c = k;
    const rp = p[r]!;
    const cp = p[c]!;
    // Goertzel power of a full-scale sine of amplitude A is about (A*N/2)^2
    const scale = (N / 2) * (N / 2);
    if (rp / scale < this.minEnergy || cp / scale < this.minEnergy) return '';
    if (cp > rp * this.normalTwist || rp > cp * this.reverseTwist) return '';
    // each tone at least 6 dB above the others of its group
    for (let k = 0; k < 4; k++) if (k !== r && p[k]! * 4 > rp) return '';
    for (let k = 4; k < 8; k++) if (k !== c && p[k]! * 4 > cp) return '';
    // the two tones hold most of the block's energy (no speech/music): energy of
    // a sine in the block is (A^2/2)*N, its Goertzel power (A*N/2)^2 → ratio N/2
    const toneEnergy = ((rp + cp) * 2) / N;
    if (toneEnergy < total * 0.6) return '';
    return KEYS[r]![c - 4]!;
  }
}
