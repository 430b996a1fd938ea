// An estimated MOS from the ITU-T G.107 E-model, simplified the way call
// quality monitors commonly do it (Cole & Rosenbluth, "Voice over IP
// performance monitoring", ACM SIGCOMM CCR 31(2), 2001):
//
//   R   = 93.2 − Id − Ie_eff                     (G.107 §7.1 with Is, A at default)
//   Id  = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)  (H: 1 when d > 177.3 ms, else 0)
//   Ie_eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)   (G.107 §7.4, BurstR = 1: random loss)
//   MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶ for 0 < R < 100   (G.107 Annex B, eq. B-4)
//
// d, the one-way delay, is not measured (no RTT without RTCP round trips);
// it is estimated as packetisation + a jitter buffer of twice the mean
// jitter + 10 ms of processing. Ppl is the loss in percent.
// docs/media-quality.md gives the full definition.

export interface CodecImpairment {
  /** equipment impairment factor */
  ie: number;
  /** packet-loss robustness factor */
  bpl: number;
}

/**
 * Ie and Bpl per static payload type, from ITU-T G.113 Appendix I (Tables
 * I.1 and I.3): G.711 with packet loss concealment Ie 0, Bpl 25.1; G.729A
 * Ie 11, Bpl 19.0; G.723.1 (6.3 kbit/s) Ie 15, Bpl 16.1; GSM 06.10 full rate
 * Ie 20 (G.113 gives no Bpl for it: 10 is assumed here). G.722 is wideband
 * (G.107.1 has its own scale) and is rated with G.711's narrowband values.
 */
const IMPAIRMENTS: Record<number, CodecImpairment> = {
  0: { ie: 0, bpl: 25.1 },
  8: { ie: 0, bpl: 25.1 },
  9: { ie: 0, bpl: 25.1 },
  3: { ie: 20, bpl: 10 },
  4: { ie: 15, bpl: 16.1 },
  18: { ie: 11, bpl: 19 },
};

const DEFAULT_IMPAIRMENT = IMPAIRMENTS[0]!;

export function codecImpairment(payloadType: number): CodecImpairment {
  return IMPAIRMENTS[payloadType] ?? DEFAULT_IMPAIRMENT;
}

/** G.107's R factor for one direction of a call. */
export function rFactor(opts: { lossPct: number; jitterMeanMs: number; ptimeMs: number; payloadType: number }): number {
  const { ie, bpl } = codecImpairment(opts.payloadType);
  const d = (opts.ptimeMs > 0 ? opts.ptimeMs : 20) + 2 * opts.jitterMeanMs + 10;
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, opts.lossPct));
  const ieEff = ie + ((95 - ie) * ppl) / (ppl + bpl);
  return 93.2 - id - ieEff;
}

/** G.107 Annex B: R to an estimated MOS (conversational quality, 1..4.5). */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

export function estimateMos(opts: { lossPct: number; jitterMeanMs: number; ptimeMs: number; payloadType: number }): number {
  return mosFromR(rFactor(opts));
}
