// Questions the B2BUA and the relay ask of a description: where does each
// stream want to receive, in which direction, and is the call on hold.
import type { Sdp, SdpAttribute, SdpDirection, SdpMedia } from './sdp-types.js';

export interface MediaTarget {
  /** where the party wants to receive RTP (RFC 8866 §5.7: media-level c= overrides session-level) */
  address: string;
  port: number;
  /** RFC 3605 a=rtcp when present, else RTP port + 1 (RFC 3550 §11) */
  rtcpPort: number;
  /** RFC 3605 a=rtcp may name another address for RTCP */
  rtcpAddress: string;
  direction: SdpDirection;
  formats: string[];
  /** the party offers or accepted RTCP on the RTP port (RFC 5761) */
  rtcpMux: boolean;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

export function findAttribute(attrs: SdpAttribute[], name: string): SdpAttribute | undefined {
  for (const a of attrs) if (a.name === name) return a;
  return undefined;
}

/** RFC 8866 §6.7: a media-level direction overrides the session level; the default is sendrecv. */
export function mediaDirection(sdp: Sdp, m: SdpMedia): SdpDirection {
  for (const a of m.attributes) if (a.value === null && DIRECTIONS.has(a.name)) return a.name as SdpDirection;
  for (const a of sdp.attributes) if (a.value === null && DIRECTIONS.has(a.name)) return a.name as SdpDirection;
  return 'sendrecv';
}

/** 0.0.0.0 (RFC 2543 hold, still sent by many phones; RFC 3264 §8.4) or the IPv6 unspecified address. */
export function isUnspecifiedAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

/** The connection address that applies to m, or null when neither level has one. */
export function mediaAddress(sdp: Sdp, m: SdpMedia): string | null {
  return (m.connection ?? sdp.connection)?.address ?? null;
}

/** RFC 3605: a=rtcp:<port> [<nettype> <addrtype> <address>] */
export function parseRtcpAttribute(value: string): { port: number; address: string | null } | null {
  let i = 0;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  if (i === 0 || i > 5) return null;
  const port = Number(value.slice(0, i));
  if (port > 65535) return null;
  const rest = value.slice(i).trim();
  if (rest.length === 0) return { port, address: null };
  const parts = rest.split(' ').filter((p) => p.length > 0);
  return { port, address: parts.length === 3 ? parts[2] : null };
}

/**
 * Where each m-line wants to receive, in m-line order; null for a rejected
 * stream (port 0, RFC 3264 §6) or one with no connection address.
 */
export function mediaTargets(sdp: Sdp): Array<MediaTarget | null> {
  return sdp.media.map((m) => {
    if (m.port === 0) return null;
    const address = mediaAddress(sdp, m);
    if (address === null) return null;
    const rtcpAttr = findAttribute(m.attributes, 'rtcp');
    const rtcp = rtcpAttr?.value != null ? parseRtcpAttribute(rtcpAttr.value) : null;
    return {
      address,
      port: m.port,
      rtcpPort: rtcp?.port ?? m.port + 1,
      rtcpAddress: rtcp?.address ?? address,
      direction: mediaDirection(sdp, m),
      formats: m.formats.slice(),
      rtcpMux: findAttribute(m.attributes, 'rtcp-mux') !== undefined,
    };
  });
}

/**
 * Does a stream as the far end describes it (an offer, or an answer to
 * ours) put the call on hold: sendonly or inactive (RFC 3264 §8.4), or the
 * connection address 0.0.0.0 (RFC 2543's way, which older phones still
 * use)? The one rule for the relay (isHold), a leg we terminate
 * (media-leg.ts) and the hold a frame bridge passes on (channel/hold-link.ts).
 */
export function holdsBy(media: { direction: SdpDirection; address: string | null }): boolean {
  return media.direction === 'sendonly' || media.direction === 'inactive' || (media.address !== null && isUnspecifiedAddress(media.address));
}

function isHeld(sdp: Sdp, m: SdpMedia): boolean {
  return holdsBy({ direction: mediaDirection(sdp, m), address: mediaAddress(sdp, m) });
}

/**
 * True when the sender puts the call on hold: every active stream is
 * sendonly or inactive (RFC 3264 §8.4), or has the connection address
 * 0.0.0.0 (RFC 2543 style, still common). A description with no active
 * stream is not a hold.
 */
export function isHold(sdp: Sdp): boolean {
  let active = 0;
  for (const m of sdp.media) {
    if (m.port === 0) continue;
    active++;
    if (!isHeld(sdp, m)) return false;
  }
  return active > 0;
}
