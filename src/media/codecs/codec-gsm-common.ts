// What the GSM 06.10 full-rate encoder and decoder share (ETSI EN 300 961,
// "RPE-LTP"): the standard's 16/32-bit fixed-point operations (§5.1), the
// RTP frame layout (RFC 3551 §4.5.8: a 0xD signature nibble, then 260 bits
// of parameters, most significant bit first), and the decoding steps the
// encoder runs too so that both ends rebuild the same signal: LAR decoding
// and interpolation (§4.2.8-4.2.9) and inverse APCM (§4.2.16). Bit-exact
// arithmetic matters: the encoder's long-term predictor works on its own
// reconstruction of what the decoder will have.

export const GSM_FRAME_BYTES = 33;
export const GSM_FRAME_SAMPLES = 160;

export const MIN_WORD = -32768;
export const MAX_WORD = 32767;
const MIN_LONG = -2147483648;
const MAX_LONG = 2147483647;

export const sat = (x: number): number => (x < MIN_WORD ? MIN_WORD : x > MAX_WORD ? MAX_WORD : x);
export const add = (a: number, b: number): number => sat(a + b);
export const sub = (a: number, b: number): number => sat(a - b);
/** 16-bit wrap, as an assignment to a C `word` does */
export const word = (x: number): number => (x << 16) >> 16;
/** |a| with abs(-32768) = 32767 */
export const abs = (a: number): number => (a < 0 ? (a === MIN_WORD ? MAX_WORD : -a) : a);
/** (a*b) >> 15, "mult" */
export const mult = (a: number, b: number): number => (a === MIN_WORD && b === MIN_WORD ? MAX_WORD : (a * b) >> 15);
/** (a*b + 2^14) >> 15 rounded, "mult_r" */
export const multR = (a: number, b: number): number => (a === MIN_WORD && b === MIN_WORD ? MAX_WORD : word((a * b + 16384) >> 15));
/** saturating 32-bit add, "L_add" */
export const lAdd = (a: number, b: number): number => {
  const s = a + b;
  return s < MIN_LONG ? MIN_LONG : s > MAX_LONG ? MAX_LONG : s;
};
export const asr = (a: number, n: number): number => (n >= 16 ? (a < 0 ? -1 : 0) : n <= -16 ? 0 : n < 0 ? word(a << -n) : a >> n);
export const asl = (a: number, n: number): number => (n >= 16 ? 0 : n <= -16 ? (a < 0 ? -1 : 0) : n < 0 ? asr(a, -n) : word(a << n));

/** left shifts that bring a non-zero 32-bit value into [2^30, 2^31) (or its negative), "norm" */
export function norm(a: number): number {
  if (a < 0) {
    if (a <= -1073741824) return 0;
    a = ~a;
  }
  return Math.clz32(a) - 1;
}

/** num/denum as a 15-bit fraction, 0 <= num <= denum, "div" */
export function div(num: number, denum: number): number {
  if (num === 0) return 0;
  let q = 0;
  for (let k = 0; k < 15; k++) {
    q <<= 1;
    num <<= 1;
    if (num >= denum) {
      num -= denum;
      q++;
    }
  }
  return q;
}

/** table 4.3b: decoded LTP gain */
export const QLB = [3277, 11469, 21299, 32767];
/** table 4.6: normalised mantissa of xmax */
const FAC = [18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767];
/** §4.2.8 LAR decoding constants per coefficient: B*2, MIC, INVA */
const LAR_B2 = [0, 0, 4096, -5120, 188, -3584, -682, -2288];
export const LAR_MIC = [-32, -32, -16, -16, -8, -8, -4, -4];
const LAR_INVA = [13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708];
const LAR_BITS = [6, 6, 5, 5, 4, 4, 3, 3];

/** the 76 parameters of one frame (table 1.1) */
export class GsmParams {
  readonly LARc = new Int16Array(8);
  /** per 5 ms sub-frame: LTP lag, LTP gain, RPE grid, block amplitude */
  readonly Nc = new Int16Array(4);
  readonly bc = new Int16Array(4);
  readonly Mc = new Int16Array(4);
  readonly xmaxc = new Int16Array(4);
  /** 4 × 13 RPE pulses */
  readonly xMc = new Int16Array(52);
}

// Bit cursor for packFrame/unpackFrame (module state instead of closures: no
// allocation per frame; both run to completion synchronously).
const NO_BITS = new Uint8Array(0);
let bitBuf: Uint8Array = NO_BITS;
let bitPos = 0;

function putBits(v: number, n: number): void {
  for (let i = n - 1; i >= 0; i--, bitPos++) {
    if ((v >> i) & 1) bitBuf[bitPos >> 3]! |= 0x80 >> (bitPos & 7);
  }
}

function getBits(n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++, bitPos++) v = (v << 1) | ((bitBuf[bitPos >> 3]! >> (7 - (bitPos & 7))) & 1);
  return v;
}

/** RFC 3551 §4.5.8 bit order: 0xD, LARc[0..7], then per sub-frame Nc, bc, Mc, xmaxc, xMc[0..12] */
export function packFrame(p: GsmParams, out: Uint8Array, off = 0): void {
  out.fill(0, off, off + GSM_FRAME_BYTES);
  bitBuf = out;
  bitPos = off * 8;
  putBits(0xd, 4);
  for (let i = 0; i < 8; i++) putBits(p.LARc[i]!, LAR_BITS[i]!);
  for (let j = 0; j < 4; j++) {
    putBits(p.Nc[j]!, 7);
    putBits(p.bc[j]!, 2);
    putBits(p.Mc[j]!, 2);
    putBits(p.xmaxc[j]!, 6);
    for (let i = 0; i < 13; i++) putBits(p.xMc[j * 13 + i]!, 3);
  }
  bitBuf = NO_BITS;
}

/** the inverse of packFrame; false when the signature nibble is not 0xD */
export function unpackFrame(frame: Uint8Array, p: GsmParams): boolean {
  bitBuf = frame;
  bitPos = 0;
  const ok = getBits(4) === 0xd;
  if (!ok) {
    bitBuf = NO_BITS;
    return false;
  }
  for (let i = 0; i < 8; i++) p.LARc[i] = getBits(LAR_BITS[i]!);
  for (let j = 0; j < 4; j++) {
    p.Nc[j] = getBits(7);
    p.bc[j] = getBits(2);
    p.Mc[j] = getBits(2);
    p.xmaxc[j] = getBits(6);
    for (let i = 0; i < 13; i++) p.xMc[j * 13 + i] = getBits(3);
  }
  bitBuf = NO_BITS;
  return true;
}

/** §4.2.8: coded LARs → decoded LARs (LARpp) */
export function decodeLars(LARc: Int16Array, LARpp: Int16Array): void {
  for (let i = 0; i < 8; i++) {
    let t = word(add(LARc[i]!, LAR_MIC[i]!) << 10);
    t = sub(t, LAR_B2[i]!);
    t = multR(LAR_INVA[i]!, t);
    LARpp[i] = add(t, t);
  }
}

/** the four stretches of a frame with their own interpolated coefficients (§4.2.9.1) */
export const SEGMENT_START = [0, 13, 27, 40];
export const SEGMENT_LENGTH = [13, 14, 13, 120];

/**
 * §4.2.9: the reflection coefficients for stretch `seg` of a frame,
 * interpolated between the previous frame's LARs and this one's (§4.2.9.1)
 * and converted back from LARs (§4.2.9.2).
 */
export function interpolatedRp(seg: number, prev: Int16Array, cur: Int16Array, rp: Int16Array): void {
  for (let i = 0; i < 8; i++) {
    const a = prev[i]!;
    const b = cur[i]!;
    let x: number;
    if (seg === 0) x = add(add(a >> 2, b >> 2), a >> 1);
    else if (seg === 1) x = add(a >> 1, b >> 1);
    else if (seg === 2) x = add(add(a >> 2, b >> 2), b >> 1);
    else x = b;
    const m = abs(x);
    const r = m < 11059 ? m << 1 : m < 20070 ? m + 11059 : add(m >> 2, 26112);
    rp[i] = x < 0 ? -r : r;
  }
}

/** §4.2.15: xmaxc → exponent and mantissa, returned as exp*8 + mant (exp = v >> 3, mant = v & 7) */
export function expMant(xmaxc: number): number {
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
  return exp * 8 + mant;
}

/** §4.2.16-4.2.17: inverse APCM of 13 pulses, placed on grid Mc of the 40-sample `ep` */
export function rpeDecode(xmaxc: number, Mc: number, xMc: Int16Array, off: number, ep: Int16Array, epOff = 0): void {
  const em = expMant(xmaxc);
  const temp1 = FAC[em & 7]!;
  const temp2 = sub(6, em >> 3);
  const temp3 = asl(1, sub(temp2, 1));
  ep.fill(0, epOff, epOff + 40);
  for (let i = 0; i < 13; i++) {
    let t = ((xMc[off + i]! << 1) - 7) << 12;
    t = multR(temp1, t);
    t = add(t, temp3);
    ep[epOff + Mc + 3 * i] = asr(t, temp2);
  }
}
