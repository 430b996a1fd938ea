// A channel's media quality for its CDR: what Palisade's own RTP endpoint
// received from the caller (leg a), judged against the `quality:`
// thresholds and logged as `call-quality-poor` when it crosses one.
import { DEFAULT_QUALITY, judge, legQuality, logFigures, OneWayWatch, poorReasons, type QualityThresholds } from '../media/quality/call-quality.js';
import type { RtpStreamStats } from '../media/quality/rtp-stream-stats.js';
import type { Logger } from '../observability/logger.js';
import { cdrQuality, type CdrQuality } from '../storage/cdr-quality.js';

export function channelQuality(
  received: RtpStreamStats | null,
  t: QualityThresholds | undefined,
  log: Pick<Logger, 'warn'>,
  channel: string,
  flags: string[] = [],
): CdrQuality | null {
  const th = t ?? DEFAULT_QUALITY;
  if (received === null || !th.enabled) return null;
  const q = judge(legQuality(received), null, th, flags);
  if (q.a !== null && q.flags.length > 0) {
    log.warn('call-quality-poor', { channel, flags: q.flags, reasons: { a: poorReasons(q.a, th) }, a: logFigures(q.a) });
  }
  return cdrQuality(q);
}

/**
 * One-way audio on a channel Palisade answers: Palisade sends (prompts,
 * music, the bridged callee's voice) but the caller's RTP never arrives —
 * a NAT, a firewall or a wrong address in the caller's SDP. Checked
 * `oneWayAfterS` after answer; the caller is leg a. Returns the stop.
 */
export function watchChannelOneWay(
  o: { received(): number; sent(): number; flags: string[] },
  t: QualityThresholds | undefined,
  log: Pick<Logger, 'warn'>,
  channel: string,
): () => void {
  const th = t ?? DEFAULT_QUALITY;
  if (!th.enabled || th.oneWayAfterS <= 0) return () => undefined;
  const watch = new OneWayWatch(
    (leg) => (leg === 'a' ? o.received() : o.sent()),
    (silent, heard) => {
      // Palisade itself silent (a recording, a pause) is no fault of the line
      if (silent !== 'a') return;
      o.flags.push('one-way-a');
      log.warn('one-way-audio', {
        channel,
        silent: 'a',
        silentParty: 'caller',
        heard: 'palisade',
        heardPackets: heard,
        detail: `the caller has sent no RTP ${th.oneWayAfterS}s after answer while Palisade has sent ${heard} packets`,
      });
    },
  );
  watch.start(th.oneWayAfterS);
  return () => watch.stop();
}
