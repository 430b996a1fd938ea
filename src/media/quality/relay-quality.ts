// Quality watch over one relayed call: the one-way-audio check while the
// call is up, and at the end the per-leg figures judged against the
// thresholds, logged as `call-quality-poor` when a leg crosses one.
import type { Logger } from '../../observability/logger.js';
import type { RtpStreamStats } from './rtp-stream-stats.js';
import { judge, legQuality, logFigures, OneWayWatch, poorReasons, type CallQuality, type QualityLeg, type QualityThresholds } from './call-quality.js';

const ROLE: Record<QualityLeg, string> = { a: 'caller', b: 'callee' };

/** what it needs of a relay session (src/media/rtp/relay-session.ts): each leg's received-stream statistics */
export interface QualitySource {
  readonly legs: { readonly a: { readonly quality: RtpStreamStats }; readonly b: { readonly quality: RtpStreamStats } };
}

export class RelayQuality {
  private readonly watch: OneWayWatch;
  private readonly flags: string[] = [];
  private ended: CallQuality | null = null;

  constructor(
    private readonly session: QualitySource,
    private readonly t: QualityThresholds,
    private readonly log: Pick<Logger, 'warn'> | null,
    private readonly call: string,
  ) {
    this.watch = new OneWayWatch(
      (leg) => session.legs[leg].quality.packets,
      (silent, heard) => {
        this.flags.push(`one-way-${silent}`);
        const other = silent === 'a' ? 'b' : 'a';
        this.log?.warn('one-way-audio', {
          call,
          silent,
          silentParty: ROLE[silent],
          heard: other,
          heardPackets: heard,
          detail: `the ${ROLE[silent]} (leg ${silent}) has sent no RTP ${t.oneWayAfterS}s after answer while the ${ROLE[other]} has sent ${heard} packets`,
        });
      },
    );
  }

  /** the call was answered: watch for one-way audio */
  answered(): void {
    if (this.t.enabled) this.watch.start(this.t.oneWayAfterS);
  }

  /** the figures so far (final once the call ended) */
  quality(): CallQuality | null {
    if (this.ended) return this.ended;
    if (!this.t.enabled) return null;
    return judge(legQuality(this.session.legs.a.quality), legQuality(this.session.legs.b.quality), this.t, [...this.flags]);
  }

  /** the call ended: freeze the figures and log a poor call */
  end(): CallQuality | null {
    this.watch.stop();
    const q = this.quality();
    this.ended = q;
    if (q === null || !q.flags.some((f) => f.startsWith('poor-'))) return q;
    const reasons: Record<string, string> = {};
    for (const leg of ['a', 'b'] as const) {
      const l = q[leg];
      const why = l ? poorReasons(l, this.t) : null;
      if (why) reasons[leg] = why;
    }
    this.log?.warn('call-quality-poor', { call: this.call, flags: q.flags, reasons, a: logFigures(q.a), b: logFigures(q.b) });
    return q;
  }
}
