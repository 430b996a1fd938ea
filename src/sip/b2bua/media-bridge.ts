// Adapts the RTP relay and the SDP rewriter to what a call needs: for each
// SDP crossing the bridge, learn where its sender wants media and rewrite it
// so the other party sends to Palisade's relay instead.
import { RtpRelay, type RelaySession } from '../../media/rtp/index.js';
import { LegOrigin, mediaTargets, parseSdp, rewriteForRelay, serializeSdp } from '../../media/sdp/index.js';
import { SrtpLegs } from '../../media/srtp/index.js';
import type { MediaApi, RelayHandle } from './types.js';
import { RelayQuality } from '../../media/quality/relay-quality.js';
import { DEFAULT_QUALITY, type CallQuality, type QualityThresholds } from '../../media/quality/call-quality.js';
import type { Logger } from '../../observability/logger.js';

export interface MediaBridgeOptions {
  address: string;
  advertisedAddress: string;
  portMin: number;
  portMax: number;
  udpRecvBuffer?: number;
  /** end calls whose media stopped this long ago (0 = never) */
  inactivityTimeoutMs: number;
  /** the `quality:` section; defaults when absent */
  quality?: QualityThresholds;
  /** where call-quality-poor and one-way-audio go */
  qualityLog?: Pick<Logger, 'warn'>;
}

class CallRelay implements RelayHandle {
  private origins: Record<'a' | 'b', LegOrigin>;
  private readonly srtp = new SrtpLegs();
  private readonly monitor: RelayQuality;
  constructor(
    private readonly session: RelaySession,
    private readonly advertised: string,
    quality: { t: QualityThresholds; log: Pick<Logger, 'warn'> | null; call: string },
  ) {
    this.origins = { a: new LegOrigin({ address: advertised }), b: new LegOrigin({ address: advertised }) };
    this.monitor = new RelayQuality(session, quality.t, quality.log, quality.call);
  }

  answered(): void {
    this.monitor.answered();
  }

  quality(): CallQuality | null {
    return this.monitor.quality();
  }

  offerAnswer(from: 'a' | 'b', body: Buffer): Buffer {
    const to = from === 'a' ? 'b' : 'a';
    const sdp = parseSdp(body);
    const targets = mediaTargets(sdp);
    // One relayed stream per call (the first active m-line, normally audio);
    // further streams are declined with port 0 in what we pass on.
    const first = targets.findIndex((t) => t !== null);
    if (first >= 0) {
      const t = targets[first]!;
      this.session.setRemote(from, { address: t.address, port: t.port, rtcpPort: t.rtcpPort });
      noteRtpmaps(this.session.legs[from].quality, sdp.media[first]!.attributes);
    }
    const leg = this.session.legs[to];
    const endpoints = sdp.media.map((_m, i) => ({ address: this.advertised, port: i === first ? leg.port : 0 }));
    // SRTP is terminated here (src/media/srtp/srtp-legs.ts): each leg gets Palisade's own key
    const crypto = sdp.media.map((m, i) =>
      i === first
        ? this.srtp.onMedia(
            from,
            m.proto,
            m.attributes.filter((a) => a.name === 'crypto' && a.value !== null).map((a) => a.value!),
          )
        : null,
    );
    if (first >= 0) {
      for (const l of ['a', 'b'] as const) {
        const c = this.srtp.contexts(l);
        this.session.setSrtp(l, c.fromParty, c.toParty);
      }
    }
    const out = rewriteForRelay(sdp, endpoints, { origin: this.origins[to], crypto });
    return Buffer.from(serializeSdp(out), 'utf8');
  }

  /** whether party `leg` sends SRTP (known once its SDP has been seen) */
  isSecure(leg: 'a' | 'b'): boolean {
    return this.srtp.isSecure(leg);
  }

  describe(): string {
    // `palisade show calls`: which legs are SRTP (never the keys)
    const srtp = this.srtp.isSecure('a') || this.srtp.isSecure('b') ? ` srtp ${this.srtp.isSecure('a') ? 'a' : ''}${this.srtp.isSecure('b') ? 'b' : ''}` : '';
    return `relay ${this.advertised}:${this.session.legs.a.port}/${this.session.legs.b.port}${srtp}`;
  }

  onInactive(fn: () => void): void {
    this.session.on('inactive', fn);
  }

  close(): void {
    this.monitor.end();
    this.session.close();
  }
}

/** dynamic payload types (a=rtpmap:101 telephone-event/8000) for the stream statistics' clock */
function noteRtpmaps(q: RelaySession['legs']['a']['quality'], attributes: ReadonlyArray<{ name: string; value: string | null }>): void {
  for (const a of attributes) {
    if (a.name !== 'rtpmap' || a.value === null) continue;
    const sp = a.value.indexOf(' ');
    const pt = Number(a.value.slice(0, sp));
    const [name, rate] = a.value.slice(sp + 1).split('/');
    if (pt >= 96 && name) q.setPayloadType(pt, name, Number(rate) || 0);
  }
}

export interface MediaControl extends MediaApi {
  close(): Promise<void>;
  stats(): unknown;
  allocatePair: RtpRelay['allocatePair'];
  /** the thresholds in force (the `quality:` section once a module set it) */
  quality(): QualityThresholds;
  /** new thresholds and accounting for calls from now on */
  setQuality(t: QualityThresholds): void;
  /** the open relay session behind an RTP port seen in SDP (call captures; not for the packet path) */
  sessionAt: RtpRelay['findSession'];
}

export function createMediaApi(opts: MediaBridgeOptions): MediaControl {
  let thresholds = opts.quality ?? DEFAULT_QUALITY;
  const relay = new RtpRelay({
    address: opts.address,
    portMin: opts.portMin,
    portMax: opts.portMax,
    udpRecvBuffer: opts.udpRecvBuffer,
    inactivityTimeoutMs: opts.inactivityTimeoutMs,
    qualityAccounting: thresholds.enabled,
  });
  return {
    createRelay: (call = '') => new CallRelay(relay.createSession(), opts.advertisedAddress, { t: thresholds, log: opts.qualityLog ?? null, call }),
    quality: () => thresholds,
    setQuality: (t) => {
      thresholds = t;
      relay.accounting = t.enabled;
    },
    close: () => relay.close(),
    // Palisade-terminated endpoints (channels) draw from the same ports and pool
    allocatePair: () => relay.allocatePair(),
    stats: () => relay.stats(),
    // call captures attach to the relay session behind a port seen in SDP
    sessionAt: (port) => relay.findSession(port),
  };
}
