// A relayed call: two legs, each with an RTP and an RTCP socket on the relay
// address. Party A sends to legs.a (port, port + 1), party B to legs.b; what
// arrives on one leg leaves through the other.
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { MediaFlow, type FlowCounters, type RtpTap } from './media-flow.js';
import type { RelaySocket } from './relay-socket.js';
import type { SrtpContext } from '../srtp/srtp-context.js';
import { PalisadeError } from '../../core/errors.js';
import { RtpStreamStats } from '../quality/rtp-stream-stats.js';

export type LegName = 'a' | 'b';

/** Where a party receives, from its SDP (see mediaTargets in media/sdp). */
export interface RemoteTarget {
  address: string;
  port: number;
  /** defaults to port + 1 (RFC 3550 §11) */
  rtcpPort?: number;
}

export class RtpRelayError extends PalisadeError {
  declare readonly code: 'PAL_ERR_RTP_REMOTE' | 'PAL_ERR_RTP_BIND' | 'PAL_ERR_RTP_CLOSED';
  constructor(code: 'PAL_ERR_RTP_REMOTE' | 'PAL_ERR_RTP_BIND' | 'PAL_ERR_RTP_CLOSED', message: string) {
    super(code, message);
    this.name = 'RtpRelayError';
  }
}

export interface LegStats {
  port: number;
  rtp: FlowCounters;
  rtcp: FlowCounters;
  /** where this leg's party is being sent to now (latched source or SDP), null when nowhere */
  rtpTarget: { address: string; port: number; latched: boolean } | null;
}

export class RelayLeg {
  readonly name: LegName;
  /** the relay address this leg's party sends to */
  readonly address: string;
  readonly rtp: MediaFlow;
  readonly rtcp: MediaFlow;
  /** what this leg's party sends, as received (its RTP stream and its RTCP reports) */
  readonly quality = new RtpStreamStats();

  constructor(name: LegName, address: string, rtp: MediaFlow, rtcp: MediaFlow, accounting = true) {
    this.name = name;
    this.address = address;
    this.rtp = rtp;
    this.rtcp = rtcp;
    rtcp.isRtcp = true;
    if (accounting) {
      rtp.quality = this.quality;
      rtcp.quality = this.quality;
    }
  }

  /** the port Palisade advertises to this leg's party */
  get port(): number {
    return this.rtp.socket.port;
  }

  get rtcpPort(): number {
    return this.rtcp.socket.port;
  }

  /** last packet received from this leg's party (RTP or RTCP), ms */
  get lastActivity(): number {
    return Math.max(this.rtp.lastActivity, this.rtcp.lastActivity);
  }

  stats(): LegStats {
    const f = this.rtp;
    return {
      port: this.port,
      rtp: f.counters(),
      rtcp: this.rtcp.counters(),
      rtpTarget: f.hasTarget && f.sendAllowed ? { address: f.targetAddress, port: f.targetPort, latched: f.latched } : null,
    };
  }
}

/** What a session needs from the relay that made it. */
export interface SessionOwner {
  releaseSession(session: RelaySession, sockets: RelaySocket[]): void;
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** IPv6 as Node reports packet sources (compressed, lower case), so SDP text compares equal. */
function canonicalAddress(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/**
 * Events: 'inactive' (no packet from either party for the relay's
 * inactivityTimeoutMs; emitted once until packets flow again).
 */
export class RelaySession extends EventEmitter {
  readonly id: number;
  readonly legs: { readonly a: RelayLeg; readonly b: RelayLeg };
  /** resolves when all four sockets are bound; rejects (PAL_ERR_RTP_BIND) when one cannot be */
  readonly ready: Promise<void>;
  readonly createdAt: number;
  /** set by the relay's inactivity check */
  inactiveSince = 0;
  private readonly owner: SessionOwner;
  private readonly family: 4 | 6;
  private isClosed = false;

  constructor(id: number, owner: SessionOwner, address: string, sockets: RelaySocket[], now: () => number, accounting = true) {
    super();
    this.id = id;
    this.owner = owner;
    this.family = address.indexOf(':') >= 0 ? 6 : 4;
    this.createdAt = now();
    const [aRtp, aRtcp, bRtp, bRtcp] = sockets.map((s) => new MediaFlow(s, now));
    aRtp.peer = bRtp;
    bRtp.peer = aRtp;
    aRtcp.peer = bRtcp;
    bRtcp.peer = aRtcp;
    this.legs = { a: new RelayLeg('a', address, aRtp, aRtcp, accounting), b: new RelayLeg('b', address, bRtp, bRtcp, accounting) };
    const pending = sockets.filter((s) => !s.bound);
    this.ready =
      pending.length === 0
        ? Promise.resolve()
        : Promise.all(pending.map((s) => s.ready)).then(
            () => undefined,
            (err: Error) => {
              throw new RtpRelayError('PAL_ERR_RTP_BIND', `cannot bind RTP socket: ${err.message}`);
            },
          );
    this.ready.catch(() => undefined);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** last packet from either party, ms (creation time before any) */
  get lastActivity(): number {
    return Math.max(this.legs.a.lastActivity, this.legs.b.lastActivity);
  }

  /**
   * Tells the relay where a party receives, from the SDP it sent. An address
   * of 0.0.0.0 (RFC 3264 §8.4 hold) or port 0 (stream rejected) stops
   * sending to that party until a new SDP says otherwise.
   */
  setRemote(leg: LegName, remote: RemoteTarget): void {
    if (this.isClosed) throw new RtpRelayError('PAL_ERR_RTP_CLOSED', `session ${this.id} is closed`);
    const l = this.legs[leg];
    if (l === undefined) throw new RtpRelayError('PAL_ERR_RTP_REMOTE', `no leg ${String(leg)}`);
    const rtcpPort = remote.rtcpPort ?? remote.port + 1;
    const family = isIP(remote.address);
    if (family === 0) throw new RtpRelayError('PAL_ERR_RTP_REMOTE', `not an IP address: ${remote.address}`);
    if (family !== this.family) {
      throw new RtpRelayError('PAL_ERR_RTP_REMOTE', `IPv${family} remote ${remote.address} on an IPv${this.family} relay`);
    }
    for (const p of [remote.port, rtcpPort]) {
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RtpRelayError('PAL_ERR_RTP_REMOTE', `bad port ${p}`);
    }
    const address = canonicalAddress(remote.address);
    if (isUnspecified(address) || remote.port === 0) {
      l.rtp.setSdp(null, 0);
      l.rtcp.setSdp(null, 0);
      return;
    }
    l.rtp.setSdp(address, remote.port);
    l.rtcp.setSdp(address, rtcpPort === 0 ? remote.port + 1 : rtcpPort);
  }

  /**
   * SRTP for one leg (RFC 3711, keys by SDES): `fromParty` decrypts what the
   * party sends (its own a=crypto key), `toParty` encrypts what Palisade sends
   * it (the key Palisade gave it). null for either direction means plain RTP.
   */
  setSrtp(leg: LegName, fromParty: SrtpContext | null, toParty: SrtpContext | null): void {
    const l = this.legs[leg];
    l.rtp.unprotect = fromParty ? (m) => fromParty.unprotectRtp(m) : null;
    l.rtcp.unprotect = fromParty ? (m) => fromParty.unprotectRtcp(m) : null;
    l.rtp.protect = toParty ? (m) => toParty.protectRtp(m) : null;
    l.rtcp.protect = toParty ? (m) => toParty.protectRtcp(m) : null;
  }

  /** a capture of both parties' RTP (troubleshooting), or null to stop it */
  setTap(tap: RtpTap | null): void {
    this.legs.a.rtp.tap = tap;
    this.legs.b.rtp.tap = tap;
  }

  /** Stops relaying and gives the ports back. Safe to call twice. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const { a, b } = this.legs;
    this.owner.releaseSession(this, [a.rtp.socket, a.rtcp.socket, b.rtp.socket, b.rtcp.socket]);
    this.removeAllListeners();
  }
}
