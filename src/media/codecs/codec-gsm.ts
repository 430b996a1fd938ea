// GSM 06.10 full-rate decoder (ETSI EN 300 961, "RPE-LTP"), as carried in
// RTP payload type 3 (RFC 3551 §4.5.8): 33-byte frames of 260 bits after a
// 4-bit 0xD signature, each decoding to 160 samples at 8 kHz. A straight
// fixed-point rendering of the standard's decoder (§4.3): RPE decoding,
// long-term synthesis, short-term synthesis with interpolated reflection
// coefficients, de-emphasis. Decoding only; Palisade never encodes GSM.
import { PalisadeError } from '../../core/errors.js';

const MIN = -32768;
const MAX = 32767;

const sat = (x: number): number => (x < MIN ? MIN : x > MAX ? MAX : x);
const add = (a: number, b: number): number => sat(a + b);
const sub = (a: number, b: number): number => sat(a - b);
/** 16-bit wrap, as a C `word` assignment does */
const word = (x: number): number => (x << 16) >> 16;
/** (a*b + 2^14) >> 15 rounded multiply (§4.3 "mult_r") */
const multR = (a: number, b: number): number => (a === MIN && b === MIN ? MAX : word((a * b + 16384) >> 15));
const asr = (a: number, n: number): number => (n >= 16 ? (a < 0 ? -1 : 0) : n <= -16 ? 0 : n < 0 ? word(a << -n) : a >> n);
const asl = (a: number, n: number): number => (n >= 16 ? 0 : n <= -16 ? (a < 0 ? -1 : 0) : n < 0 ? asr(a, -n) : word(a << n));

/** table 4.3b: decoded LTP gain */
const QLB = [3277, 11469, 21299, 32767];
/** table 4.6: normalised mantissa of xmax */
const FAC = [18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767];
/** §4.2.8 LAR decoding constants per coefficient: B*2, MIC, INVA */
const LAR_B2 = [0, 0, 4096, -5120, 188, -3584, -682, -2288];
const LAR_MIC = [-32, -32, -16, -16, -8, -8, -4, -4];
const LAR_INVA = [13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708];
const LAR_BITS = [6, 6, 5, 5, 4, 4, 3, 3];

export const GSM_FRAME_BYTES = 33;
export const GSM_FRAME_SAMPLES = 160;

export class GsmFormatError extends PalisadeError {
  declare readonly code: 'PAL_ERR_GSM_FRAME';
  constructor(message: string) {
    super('PAL_ERR_GSM_FRAME', message);
  }
}

interface Params {
  LARc: number[];
  Nc: number[];
  bc: number[];
  Mc: number[];
  xmaxc: number[];
  xMc: number[]; // 4 × 13
}

/** unpacks one 33-byte frame, most significant bit first */
function unpack(frame: Uint8Array): Params {
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = (v << 1) | ((frame[bit >> 3]! >> (7 - (bit & 7))) & 1);
    return v;
  };
  if (read(4) !== 0xd) throw new GsmFormatError('GSM frame without the 0xD signature');
  const p: Params = { LARc: LAR_BITS.map((b) => read(b)), Nc: [], bc: [], Mc: [], xmaxc: [], xMc: [] };
  for (let j = 0; j < 4; j++) {
    p.Nc.push(read(7));
    p.bc.push(read(2));
    p.Mc.push(read(2));
    p.xmaxc.push(read(6));
    for (let i = 0; i < 13; i++) p.xMc.push(read(3));
  }
  return p;
}

export class GsmDecoder {
  /** reconstructed short-term residual: dp0[0..119] history, [120..159] current */
  private readonly dp0 = new Int16Array(280);
  private readonly LARpp = [new Int16Array(8), new Int16Array(8)];
  private j = 0;
  private nrp = 40;
  private readonly v = new Int16Array(9);
  private msr = 0;

  /** one 33-byte frame → 160 samples */
  decodeFrame(frame: Uint8Array, out: Int16Array = new Int16Array(GSM_FRAME_SAMPLES)): Int16Array {
    if (frame.length < GSM_FRAME_BYTES) throw new GsmFormatError(`GSM frame of ${frame.length} bytes; expected 33`);
    const p = unpack(frame);
    const wt = new Int16Array(160);
    const erp = new Int16Array(40);
    for (let j = 0; j < 4; j++) {
      this.rpeDecoding(p.xmaxc[j]!, p.Mc[j]!, p.xMc, j * 13, erp);
      this.longTermSynthesis(p.Nc[j]!, p.bc[j]!, erp);
      for (let k = 0; k < 40; k++) wt[j * 40 + k] = this.dp0[120 + k]!;
    }
    this.shortTermSynthesis(p.LARc, wt, out);
    // §4.3.5 de-emphasis, truncation and upscaling
    let msr = this.msr;
    for (let k = 0; k < 160; k++) {
      msr = add(out[k]!, multR(msr, 28180));
      out[k] = word(add(msr, msr) & 0xfff8);
    }
    this.msr = msr;
    return out;
  }

  /** an RTP payload of one or more whole frames (RFC 3551 §4.5.8) */
  decodePayload(payload: Uint8Array): Int16Array {
    const frames = Math.floor(payload.length / GSM_FRAME_BYTES);
    const out = new Int16Array(frames * GSM_FRAME_SAMPLES);
    for (let f = 0; f < frames; f++) {
      this.decodeFrame(payload.subarray(f * 33, f * 33 + 33), out.subarray(f * 160, f * 160 + 160));
    }
    return out;
  }

  /** §4.2.15-17: xmaxc → exponent/mantissa, inverse APCM, grid positioning */
  private rpeDecoding(xmaxc: number, Mc: number, xMc: number[], off: number, erp: Int16Array): void {
    let exp = 0;
    if (xmaxc > 15) exp = (xmaxc >> 3) - 1;
    let mant = xmaxc - (exp << 3);
    if (mant === 0) {
      exp = -4;
      mant = 7;
    } else {
      while (mant <= 7) {
        mant = (mant << 1) | 1;
        exp--;
      }
      mant -= 8;
    }
    const temp1 = FAC[mant]!;
    const temp2 = sub(6, exp);
    const temp3 = asl(1, sub(temp2, 1));
    erp.fill(0);
    for (let i = 0; i < 13; i++) {
      let t = ((xMc[off + i]! << 1) - 7) << 12;
      t = multR(temp1, t);
      t = add(t, temp3);
      erp[Mc + 3 * i] = asr(t, temp2);
    }
  }

  /** §4.3.2 */
  private longTermSynthesis(Ncr: number, bcr: number, erp: Int16Array): void {
    const dp = this.dp0;
    const Nr = Ncr < 40 || Ncr > 120 ? this.nrp : Ncr;
    this.nrp = Nr;
    const brp = QLB[bcr]!;
    for (let k = 0; k < 40; k++) {
      dp[120 + k] = add(erp[k]!, multR(brp, dp[120 + k - Nr]!));
    }
    for (let k = 0; k < 120; k++) dp[k] = dp[40 + k]!;
  }

  /** §4.3.3-4.3.4 (with §4.2.8-4.2.9 LAR decoding and interpolation) */
  private shortTermSynthesis(LARc: number[], wt: Int16Array, s: Int16Array): void {
    const cur = this.LARpp[this.j]!;
    this.j ^= 1;
    const prev = this.LARpp[this.j]!;
    for (let i = 0; i < 8; i++) {
      let t = word(add(LARc[i]!, LAR_MIC[i]!) << 10);
      t = sub(t, LAR_B2[i]!);
      t = multR(LAR_INVA[i]!, t);
      cur[i] = add(t, t);
    }
    const LARp = new Int16Array(8);
    const segment = (kind: number, from: number, n: number): void => {
      for (let i = 0; i < 8; i++) {
        const a = prev[i]!;
        const b = cur[i]!;
        if (kind === 0) LARp[i] = add(add(a >> 2, b >> 2), a >> 1);
        else if (kind === 1) LARp[i] = add(a >> 1, b >> 1);
        else if (kind === 2) LARp[i] = add(add(a >> 2, b >> 2), b >> 1);
        else LARp[i] = b;
      }
      // §4.2.9.2 LARp → reflection coefficients rp
      for (let i = 0; i < 8; i++) {
        const x = LARp[i]!;
        const m = x < 0 ? (x === MIN ? MAX : -x) : x;
        const r = m < 11059 ? m << 1 : m < 20070 ? m + 11059 : add(m >> 2, 26112);
        LARp[i] = x < 0 ? -r : r;
      }
      const v = this.v;
      for (let k = from; k < from + n; k++) {
        let sri = wt[k]!;
        for (let i = 7; i >= 0; i--) {
          sri = sub(sri, multR(LARp[i]!, v[i]!));
          v[i + 1] = add(v[i]!, multR(LARp[i]!, sri));
        }
        s[k] = sri;
        v[0] = sri;
      }
    };
    segment(0, 0, 13);
    segment(1, 13, 14);
    segment(2, 27, 13);
    segment(3, 40, 120);
  }
}
