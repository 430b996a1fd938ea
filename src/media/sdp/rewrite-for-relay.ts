// Rewrites a description received from one leg so that it can be sent to the
// other leg with Palisade's relay in the media path: the far side must send
// its RTP to the relay, and must see nothing of the first party's network.
import type { Sdp, SdpAttribute, SdpConnection, SdpMedia } from './sdp-types.js';
import { isUnspecifiedAddress, mediaAddress, parseRtcpAttribute } from './sdp-query.js';
import type { LegOrigin } from './leg-origin.js';
import { PalisadeError } from '../../core/errors.js';

export interface RelayEndpoint {
  address: string;
  /** 0 rejects (or keeps rejected) the m-line at the same index */
  port: number;
}

export interface RewriteOptions {
  /** increase the o= version even when nothing else would (a new offer, RFC 3264 §8) */
  sessionVersionBump?: boolean;
  /** address for the o= line; defaults to the first relay address */
  originAddress?: string;
  /**
   * the origin Palisade uses on the leg this description is sent to; when
   * given it replaces the o= line entirely and keeps its version sequence
   */
  origin?: LegOrigin;
  /**
   * SDES (RFC 4568): per m-line, the a=crypto value Palisade offers or answers
   * on the receiving leg (its own key), or null to drop the sender's a=crypto
   * lines. Absent: a=crypto lines pass as they are.
   */
  crypto?: Array<string | null>;
}

export class SdpRewriteError extends PalisadeError {
  declare readonly code: 'PAL_ERR_SDP_REWRITE';
  constructor(message: string) {
    super('PAL_ERR_SDP_REWRITE', message);
    this.name = 'SdpRewriteError';
  }
}

/** ICE attributes (RFC 8839 §5): the relay terminates the media path, so ICE ends there. */
const ICE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'candidate',
  'remote-candidates',
  'end-of-candidates',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-lite',
  'ice-mismatch',
  'ice-pacing',
]);

/** The username Palisade puts in o= so the far side never sees the sender's. */
export const PALISADE_ORIGIN_USER = 'palisade';

export function addrTypeOf(address: string): 'IP4' | 'IP6' {
  return address.indexOf(':') >= 0 ? 'IP6' : 'IP4';
}

function connectionFor(address: string): SdpConnection {
  return { netType: 'IN', addrType: addrTypeOf(address), address, suffix: '' };
}

function cloneSdp(sdp: Sdp): Sdp {
  return {
    version: sdp.version,
    origin: { ...sdp.origin },
    sessionName: sdp.sessionName,
    connection: sdp.connection === null ? null : { ...sdp.connection },
    attributes: sdp.attributes.map((a) => ({ ...a })),
    lines: sdp.lines.map((l) => ({ ...l })),
    media: sdp.media.map((m) => ({
      ...m,
      formats: m.formats.slice(),
      connection: m.connection === null ? null : { ...m.connection },
      attributes: m.attributes.map((a) => ({ ...a })),
      lines: m.lines.map((l) => ({ ...l })),
    })),
  };
}

function withoutIce(attrs: SdpAttribute[]): SdpAttribute[] {
  return attrs.filter((a) => !ICE_ATTRIBUTES.has(a.name));
}

/**
 * Returns a copy of `sdp` that points every stream at the relay.
 *
 * - m-line ports become the relay ports; a stream the sender rejected
 *   (port 0) or that `media` rejects stays port 0 (RFC 3264 §6, §8.2).
 * - c= lines become the relay address (IN IP4 or IN IP6 by its form), except
 *   that 0.0.0.0 is kept: it is how RFC 2543-era phones put a call on hold,
 *   and the far side must see the hold (RFC 3264 §8.4).
 * - a=rtcp (RFC 3605) becomes the relay port + 1 and the relay address.
 * - Direction attributes are untouched, so sendonly/inactive holds pass through.
 * - ICE attributes are removed: the relay answers with plain RTP.
 * - o= becomes Palisade's own origin for the receiving leg (see LegOrigin).
 */
export function rewriteForRelay(sdp: Sdp, media: RelayEndpoint[], opts: RewriteOptions = {}): Sdp {
  if (media.length !== sdp.media.length) {
    throw new SdpRewriteError(`relay endpoints (${media.length}) do not match m-lines (${sdp.media.length})`);
  }
  const out = cloneSdp(sdp);
  out.attributes = withoutIce(out.attributes);

  // Decide each stream's new address before touching c= lines, since a
  // media-level address may be inherited from the session level.
  const newAddress: Array<string | null> = out.media.map((_m, i) => {
    const original = mediaAddress(sdp, sdp.media[i]);
    if (original !== null && isUnspecifiedAddress(original)) return original;
    const relay = media[i].address;
    return relay.length > 0 ? relay : original;
  });

  const firstActive = out.media.findIndex((m, i) => m.port !== 0 && media[i].port !== 0);
  const sessionAddress = firstActive >= 0 ? newAddress[firstActive] : (newAddress.find((a) => a !== null) ?? null);
  if (out.connection !== null && sessionAddress !== null) out.connection = connectionFor(sessionAddress);
  const sessionConn = out.connection?.address ?? null;

  out.media.forEach((m: SdpMedia, i) => {
    const rejected = m.port === 0 || media[i].port === 0;
    m.port = rejected ? 0 : media[i].port;
    const addr = newAddress[i];
    // RFC 8866 §5.7: every m-line needs a c= when the session has none.
    if (addr !== null && (m.connection !== null || addr !== sessionConn)) m.connection = connectionFor(addr);
    m.attributes = withoutIce(m.attributes);
    if (opts.crypto !== undefined) {
      // The sender's key is for Palisade alone: never passed to the other party.
      const own = rejected ? null : (opts.crypto[i] ?? null);
      const at = m.attributes.findIndex((a) => a.name === 'crypto');
      m.attributes = m.attributes.filter((a) => a.name !== 'crypto');
      if (own !== null) m.attributes.splice(at >= 0 ? at : m.attributes.length, 0, { name: 'crypto', value: own });
    }
    // A rejected stream has no RTCP to point anywhere.
    if (rejected) m.attributes = m.attributes.filter((a) => a.name !== 'rtcp');
    for (const a of m.attributes) {
      if (a.name !== 'rtcp' || a.value === null) continue;
      const parsed = parseRtcpAttribute(a.value);
      const rtcpPort = m.port + 1;
      if (parsed === null || parsed.address === null || addr === null) a.value = String(rtcpPort);
      else a.value = `${rtcpPort} IN ${addrTypeOf(addr)} ${addr}`;
    }
  });

  // Not sessionAddress: that may be the 0.0.0.0 of a hold, which names no host.
  const originAddress = opts.originAddress ?? media.find((e) => e.address.length > 0)?.address ?? out.origin.address;
  if (opts.origin !== undefined) {
    opts.origin.stamp(out, { newVersion: opts.sessionVersionBump === true });
  } else {
    out.origin.username = PALISADE_ORIGIN_USER;
    out.origin.netType = 'IN';
    out.origin.addrType = addrTypeOf(originAddress);
    out.origin.address = originAddress;
    if (opts.sessionVersionBump === true) out.origin.sessionVersion = (BigInt(out.origin.sessionVersion) + 1n).toString();
  }
  return out;
}
