// The media-quality columns of the CDR (migration 5): for each leg, what
// Palisade received from that leg's party — packets, lost, loss %, mean and
// maximum jitter, maximum delta, estimated MOS — and the quality flags of
// the call. Definitions in docs/media-quality.md. NULL where no media was
// relayed or received (direct media, unanswered calls).
import type { CallQuality, LegQuality } from '../media/quality/call-quality.js';
import type { CdrLegQuality, CdrQuality } from '../core/cdr.js';

// the record types are core/'s (core/cdr.ts), shared with the B2BUA and the channels
export type { CdrLegQuality, CdrQuality };

/** the columns, leg by leg, in the order rows are written */
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

export type CdrQualityColumn = (typeof CDR_QUALITY_COLUMNS)[number];

/** column type per column: counts are integers, figures doubles, flags text */
export function cdrQualityColumnType(c: CdrQualityColumn): 'integer' | 'double precision' | 'varchar(64)' {
  if (c === 'rtp_quality_flags') return 'varchar(64)';
  return c.endsWith('_packets') || c.endsWith('_lost') ? 'integer' : 'double precision';
}

export type CdrQualityRow = { [K in CdrQualityColumn]: K extends 'rtp_quality_flags' ? string | null : number | null };

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

function legFields(q: LegQuality | null): CdrLegQuality | null {
  if (q === null) return null;
  return {
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
  const leg = (l: CdrLegQuality | null | undefined) =>
    [l?.packets, l?.lost, l?.lossPct, l?.jitterMeanMs, l?.jitterMaxMs, l?.maxDeltaMs, l?.mos].map((v) => (v === undefined ? null : v));
  const [a, b] = [leg(q?.a), leg(q?.b)];
  const values = [...a, ...b, q?.flags.length ? q.flags.join(',').slice(0, 64) : null];
  return Object.fromEntries(CDR_QUALITY_COLUMNS.map((c, i) => [c, values[i]])) as CdrQualityRow;
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
    };
  };
  const flags = typeof r.rtp_quality_flags === 'string' && r.rtp_quality_flags ? r.rtp_quality_flags.split(',') : [];
  const a = leg('a');
  const b = leg('b');
  return a === null && b === null && flags.length === 0 ? null : { a, b, flags };
}
