// G.711 µ-law and A-law (ITU-T G.711), table driven: decoding is one lookup
// per byte, encoding one lookup per sample in a 64 Ki table indexed by the
// 16-bit sample, and µ-law↔A-law transcoding a 256-byte table per direction
// (no per-sample branching on the RTP path).

/** reference encoder for one sample (Sun's g711.c algorithm); used to build the table */
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  const sign = (sample >> 8) & 0x80;
  if (sign) sample = -sample;
  if (sample > CLIP) sample = CLIP;
  sample += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (sample & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (sample >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawToLinear(u: number): number {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function linearToAlaw(sample: number): number {
  let v = sample >> 3; // 13-bit
  let mask: number;
  if (v >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    v = -v - 1;
  }
  let seg = 0;
  while (seg < 8 && v > ALAW_SEG_END[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f);
  return aval ^ mask;
}

function alawToLinear(a: number): number {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

export const ULAW_DECODE = new Int16Array(256);
export const ALAW_DECODE = new Int16Array(256);
/** indexed by sample + 32768 */
const ULAW_ENCODE = new Uint8Array(65536);
const ALAW_ENCODE = new Uint8Array(65536);
export const ULAW_TO_ALAW = new Uint8Array(256);
export const ALAW_TO_ULAW = new Uint8Array(256);

for (let i = 0; i < 256; i++) {
  ULAW_DECODE[i] = ulawToLinear(i);
  ALAW_DECODE[i] = alawToLinear(i);
}
for (let s = -32768; s < 32768; s++) {
  ULAW_ENCODE[s + 32768] = linearToUlaw(s);
  ALAW_ENCODE[s + 32768] = linearToAlaw(s);
}
// G.711 Appendix-style transcoding: decode and re-encode once, at start-up.
for (let i = 0; i < 256; i++) {
  ULAW_TO_ALAW[i] = ALAW_ENCODE[ULAW_DECODE[i]! + 32768]!;
  ALAW_TO_ULAW[i] = ULAW_ENCODE[ALAW_DECODE[i]! + 32768]!;
}

export function encodeUlaw(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = ULAW_ENCODE[pcm[i]! + 32768]!;
  return out;
}

export function encodeAlaw(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = ALAW_ENCODE[pcm[i]! + 32768]!;
  return out;
}

export function decodeUlaw(bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = ULAW_DECODE[bytes[i]!]!;
  return out;
}

export function decodeAlaw(bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_DECODE[bytes[i]!]!;
  return out;
}

/** in place is allowed (out === bytes) */
export function transcode(bytes: Uint8Array, table: Uint8Array, out: Uint8Array = new Uint8Array(bytes.length)): Uint8Array {
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}
