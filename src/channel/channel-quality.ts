// A channel's media quality for its CDR: what Palisade's own RTP endpoint
// received from the caller (leg a), judged against the `quality:`
// thresholds and logged as `call-quality-poor` when it crosses one.
import { DEFAULT_QUALITY, judge, legQuality, logFigures, poorReasons, type QualityThresholds } from '../media/quality/call-quality.js';
import type { RtpStreamStats } from '../media/quality/rtp-stream-stats.js';
import type { Logger } from '../observability/logger.js';
import { cdrQuality, type CdrQuality } from '../storage/cdr-quality.js';

export function channelQuality(received: RtpStreamStats | null, t: QualityThresholds | undefined, log: Pick<Logger, 'warn'>, channel: string): CdrQuality | null {
  const th = t ?? DEFAULT_QUALITY;
  if (received === null || !th.enabled) return null;
  const q = judge(legQuality(received), null, th);
  if (q.a !== null && q.flags.length > 0) {
    log.warn('call-quality-poor', { channel, flags: q.flags, reasons: { a: poorReasons(q.a, th) }, a: logFigures(q.a) });
  }
  return cdrQuality(q);
}
