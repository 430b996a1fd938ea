// The media-quality columns of the CDR (migration 5): for each leg, what
// Palisade received from that leg's party — packets, lost, loss %, mean and
// maximum jitter, maximum delta, estimated MOS — and the quality flags of
// the call; and (migration 6) what that party reported in RTCP about the
// stream it received: loss %, jitter, and from RTCP XR (RFC 3611) its own
// MOS and the round trip. Definitions in docs/media-quality.md. NULL where no media was
// relayed or received (direct media, unanswered calls).
import type { CallQuality, LegQuality } from '../media/quality/call-quality.js';
import type { CdrLegQuality, CdrQuality } from '../core/cdr.js';

// the record types are core/'s (core/cdr.ts), shared with the B2BUA and the channels
export type { CdrLegQuality, CdrQuality };

/** the columns, leg by leg, in the order rows are written (migration 5) */
export const CDR_QUALITY_COLUMNS = [
  'rtp_a_rx_packets',
  'rtp_a_rx_lost',
  'rtp_a_rx_loss_pct',
  'rtp_a_rx_jitter_mean_ms',
  'rtp_a_rx_jitter_max_ms',
  'rtp_a_rx_max_delta_ms',
  'rtp_a_rx_mos',
  'rtp_b_rx_packets',
  'rtp_b_rx_lost',
  'rtp_b_rx_loss_pct',
  'rtp_b_rx_jitter_mean_ms',
  'rtp_b_rx_jitter_max_ms',
  'rtp_b_rx_max_delta_ms',
  'rtp_b_rx_mos',
  'rtp_quality_flags',
] as const;

/** what each party reported in RTCP/RTCP XR about the stream it received (migration 6) */
export const CDR_FAR_END_COLUMNS = [
  'rtp_a_far_loss_pct',
  'rtp_a_far_jitter_ms',
  'rtp_a_far_mos',
  'rtp_a_far_rtt_ms',
  'rtp_b_far_loss_pct',
  'rtp_b_far_jitter_ms',
  'rtp_b_far_mos',
  'rtp_b_far_rtt_ms',
] as const;

export type CdrQualityColumn = (typeof CDR_QUALITY_COLUMNS)[number] | (typeof CDR_FAR_END_COLUMNS)[number];

/** every quality column, as the CDR repository writes them */
export const CDR_ALL_QUALITY_COLUMNS: readonly CdrQualityColumn[] = [...CDR_QUALITY_COLUMNS, ...CDR_FAR_END_COLUMNS];

/** column type per column: counts are integers, figures doubles, flags text */
export function cdrQualityColumnType(c: CdrQualityColumn): 'integer' | 'double precision' | 'varchar(64)' {
  if (c === 'rtp_quality_flags') return 'varchar(64)';
  return c.endsWith('_packets') || c.endsWith('_lost') ? 'integer' : 'double precision';
}

export type CdrQualityRow = { [K in CdrQualityColumn]: K extends 'rtp_quality_flags' ? string | null : number | null };

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

function legFields(q: LegQuality | null): CdrLegQuality | null {
  if (q === null) return null;
  const far = q.farEnd;
  const r3 = (x: number | null | undefined) => (x === null || x === undefined ? null : round(x, 3));
  return {
    farLossPct: far ? r3(far.reports > 0 ? far.fractionLost * 100 : (far.xr?.lossPct ?? null)) : null,
    farJitterMs: far && far.reports > 0 ? r3(far.jitterMs) : null,
    farMos: far?.xr?.mosLq ?? null,
    farRttMs: far?.xr?.roundTripMs ?? null,
    packets: q.packets,
    lost: q.lost,
    lossPct: round(q.lossPct, 3),
    jitterMeanMs: round(q.jitterMeanMs, 3),
    jitterMaxMs: round(q.jitterMaxMs, 3),
    maxDeltaMs: round(q.maxDeltaMs, 3),
    mos: round(q.mos, 2),
  };
}

/** A call's measured quality as the CDR stores it; null when nothing was measured. */
export function cdrQuality(q: CallQuality | null | undefined): CdrQuality | null {
  if (!q || (q.a === null && q.b === null && q.flags.length === 0)) return null;
  return { a: legFields(q.a), b: legFields(q.b), flags: q.flags };
}

export function toQualityRow(q: CdrQuality | null | undefined): CdrQualityRow {
  // one object literal: a fixed shape the engine builds fast (a row a call, on the call path)
  const a = q?.a ?? null;
  const b = q?.b ?? null;
  return {
    rtp_a_rx_packets: a?.packets ?? null,
    rtp_a_rx_lost: a?.lost ?? null,
    rtp_a_rx_loss_pct: a?.lossPct ?? null,
    rtp_a_rx_jitter_mean_ms: a?.jitterMeanMs ?? null,
    rtp_a_rx_jitter_max_ms: a?.jitterMaxMs ?? null,
    rtp_a_rx_max_delta_ms: a?.maxDeltaMs ?? null,
    rtp_a_rx_mos: a?.mos ?? null,
    rtp_a_far_loss_pct: a?.farLossPct ?? null,
    rtp_a_far_jitter_ms: a?.farJitterMs ?? null,
    rtp_a_far_mos: a?.farMos ?? null,
    rtp_a_far_rtt_ms: a?.farRttMs ?? null,
    rtp_b_rx_packets: b?.packets ?? null,
    rtp_b_rx_lost: b?.lost ?? null,
    rtp_b_rx_loss_pct: b?.lossPct ?? null,
    rtp_b_rx_jitter_mean_ms: b?.jitterMeanMs ?? null,
    rtp_b_rx_jitter_max_ms: b?.jitterMaxMs ?? null,
    rtp_b_rx_max_delta_ms: b?.maxDeltaMs ?? null,
    rtp_b_rx_mos: b?.mos ?? null,
    rtp_b_far_loss_pct: b?.farLossPct ?? null,
    rtp_b_far_jitter_ms: b?.farJitterMs ?? null,
    rtp_b_far_mos: b?.farMos ?? null,
    rtp_b_far_rtt_ms: b?.farRttMs ?? null,
    rtp_quality_flags: q?.flags.length ? q.flags.join(',').slice(0, 64) : null,
  } satisfies CdrQualityRow;
}

export function fromQualityRow(r: Partial<Record<CdrQualityColumn, unknown>>): CdrQuality | null {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const leg = (p: 'a' | 'b'): CdrLegQuality | null => {
    const packets = num(r[`rtp_${p}_rx_packets`]);
    if (packets === null) return null;
    return {
      packets,
      lost: num(r[`rtp_${p}_rx_lost`]) ?? 0,
      lossPct: num(r[`rtp_${p}_rx_loss_pct`]) ?? 0,
      jitterMeanMs: num(r[`rtp_${p}_rx_jitter_mean_ms`]) ?? 0,
      jitterMaxMs: num(r[`rtp_${p}_rx_jitter_max_ms`]) ?? 0,
      maxDeltaMs: num(r[`rtp_${p}_rx_max_delta_ms`]) ?? 0,
      mos: num(r[`rtp_${p}_rx_mos`]) ?? 0,
      farLossPct: num(r[`rtp_${p}_far_loss_pct`]),
      farJitterMs: num(r[`rtp_${p}_far_jitter_ms`]),
      farMos: num(r[`rtp_${p}_far_mos`]),
      farRttMs: num(r[`rtp_${p}_far_rtt_ms`]),
    };
  };
  const flags = typeof r.rtp_quality_flags === 'string' && r.rtp_quality_flags ? r.rtp_quality_flags.split(',') : [];
  const a = leg('a');
  const b = leg('b');
  return a === null && b === null && flags.length === 0 ? null : { a, b, flags };
}
