// What `palisade cdr` and `palisade show call ID` print of a CDR row: the
// Asterisk fields an administrator reads first and the media figures the
// quality module stored with the call (docs/media-quality.md). Rows are
// plain objects so the control socket (and later the HTTP API) can send them.
import type { Cdr, CdrDisposition, CdrLegQuality } from '../../core/cdr.js';
import { CDR_DISPOSITIONS } from '../../core/cdr.js';

export interface CdrListArgs {
  limit?: number;
  src?: string;
  dst?: string;
  disposition?: CdrDisposition;
  flagged?: boolean;
  /** start >= since (epoch ms) */
  since?: number;
}

/** the control command's arguments, checked (they come from a socket) */
export function cdrListArgs(a: Record<string, unknown>): CdrListArgs {
  const out: CdrListArgs = {};
  if (a.limit !== undefined) {
    const n = Number(a.limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error('limit: a whole number from 1 to 10000');
    out.limit = n;
  }
  for (const k of ['src', 'dst'] as const) if (a[k] !== undefined) out[k] = String(a[k]);
  if (a.disposition !== undefined) {
    const d = String(a.disposition).toUpperCase();
    if (!(CDR_DISPOSITIONS as readonly string[]).includes(d)) throw new Error(`disposition: one of ${CDR_DISPOSITIONS.join(', ')}`);
    out.disposition = d as CdrDisposition;
  }
  if (a.flagged === true) out.flagged = true;
  if (a.since !== undefined) {
    const t = Number(a.since);
    if (!Number.isFinite(t)) throw new Error('since: epoch milliseconds');
    out.since = t;
  }
  return out;
}

const fig = (q: CdrLegQuality | null | undefined, k: keyof CdrLegQuality): number | null => (q ? q[k] : null);

/** one line of `palisade cdr` */
export function cdrListRow(c: Cdr): Record<string, unknown> {
  const q = c.quality;
  return {
    start: new Date(c.start).toISOString().replace('T', ' ').slice(0, 19),
    uniqueid: c.uniqueid,
    src: c.src,
    dst: c.dst,
    disposition: c.disposition,
    billsec: c.billsec,
    loss_a: fmt(fig(q?.a, 'lossPct'), '%'),
    loss_b: fmt(fig(q?.b, 'lossPct'), '%'),
    jitter_a: fmt(fig(q?.a, 'jitterMeanMs'), 'ms'),
    jitter_b: fmt(fig(q?.b, 'jitterMeanMs'), 'ms'),
    mos_a: fmt(fig(q?.a, 'mos'), ''),
    mos_b: fmt(fig(q?.b, 'mos'), ''),
    flags: q?.flags.join(',') ?? '',
  };
}

/** everything `palisade show call ID` says about one call */
export function callDetail(c: Cdr): { call: Record<string, unknown>; media: Array<Record<string, unknown>> } {
  const call: Record<string, unknown> = {
    uniqueid: c.uniqueid,
    src: c.src,
    dst: c.dst,
    clid: c.clid,
    context: c.dcontext,
    channel: c.channel,
    dstchannel: c.dstchannel,
    lastapp: c.lastapp,
    lastdata: c.lastdata,
    start: new Date(c.start).toISOString(),
    answer: c.answer === null ? '' : new Date(c.answer).toISOString(),
    end: new Date(c.end).toISOString(),
    duration: c.duration,
    billsec: c.billsec,
    disposition: c.disposition,
    cause: c.userfield,
    source_ip: c.sourceIp,
    security_verdict: c.securityVerdict,
    quality_flags: c.quality?.flags.join(',') || 'none',
  };
  const media: Array<Record<string, unknown>> = [];
  for (const [leg, q, who] of [
    ['a', c.quality?.a, 'from the caller'],
    ['b', c.quality?.b, 'from the callee'],
  ] as const) {
    if (!q) continue;
    media.push({
      stream: `${leg} (${who})`,
      packets: q.packets,
      lost: q.lost,
      loss: fmt(q.lossPct, '%'),
      jitter_mean: fmt(q.jitterMeanMs, 'ms'),
      jitter_max: fmt(q.jitterMaxMs, 'ms'),
      max_delta: fmt(q.maxDeltaMs, 'ms'),
      mos: fmt(q.mos, ''),
    });
  }
  return { call, media };
}

function fmt(x: number | null, unit: string): string {
  if (x === null) return '-';
  return `${Math.round(x * 100) / 100}${unit ? ` ${unit}` : ''}`;
}
