// One socket's worth of a relayed stream: the RTP (or RTCP) socket of one leg,
// where the leg's party should send to, and where that party is reached.
// Packets received here are sent out of the peer flow's socket (the other
// leg, same kind) to the peer's party. This is the hot path: one recv, one
// send, field reads and compares, no allocation of our own.
import type { RelaySocket } from './relay-socket.js';
import type { RtpStreamStats } from '../quality/rtp-stream-stats.js';

export interface FlowCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** from a source other than the latched one (hijack attempts, stray streams) */
  dropped: number;
  /** arrived while the other side had no place to send to (no SDP yet, or held with 0.0.0.0) */
  noTarget: number;
  /** SRTP/SRTCP packets that failed authentication or replay checks (never latched, never relayed) */
  srtpRejected: number;
}

/** an SRTP transform: protected ↔ plain, null when the packet must be dropped */
export type PacketTransform = (msg: Buffer) => Buffer | null;

/**
 * Sees each packet a flow accepted from its party (plain RTP, before it is
 * relayed), for call captures (src/features/troubleshoot). `flow` is the
 * receiving flow: its socket's port, its peer's target say where the packet
 * came in and goes out. Must not keep `packet` (copy what it needs) or throw.
 */
export type RtpTap = (packet: Buffer, address: string, port: number, flow: MediaFlow) => void;

export class MediaFlow implements FlowCounters {
  readonly socket: RelaySocket;
  /** the same kind of flow on the other leg; set once both exist */
  peer!: MediaFlow;
  private readonly now: () => number;

  /** from SDP: where the party said it receives; null when unknown or 0.0.0.0 */
  sdpAddress: string | null = null;
  sdpPort = 0;
  /** where packets for this party go: the latched source, or the SDP address until then */
  targetAddress = '';
  targetPort = 0;
  hasTarget = false;
  /** RFC 3264 §8.4: c=0.0.0.0 asks not to be sent media */
  sendAllowed = true;
  latched = false;
  /** latched to exactly the SDP address and port: nothing can move it any more */
  latchedToSdp = false;

  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  dropped = 0;
  noTarget = 0;
  srtpRejected = 0;
  lastActivity: number;
  /**
   * SRTP (src/media/srtp): `unprotect` turns what this party sends into plain
   * RTP, `protect` what goes to this party into SRTP. Both null for plain RTP,
   * which then costs two null checks and no allocation.
   */
  unprotect: PacketTransform | null = null;
  protect: PacketTransform | null = null;
  /** quality accounting of what this party sends (src/media/quality); null when switched off */
  quality: RtpStreamStats | null = null;
  /** this flow carries RTCP: its packets are the party's reports, not its stream */
  isRtcp = false;
  /** call captures (RelaySession.setTap); null costs one check per packet */
  tap: RtpTap | null = null;

  constructor(socket: RelaySocket, now: () => number) {
    this.socket = socket;
    this.now = now;
    this.lastActivity = now();
    socket.flow = this;
  }

  /**
   * Sets where the party said it receives. A different address from the
   * previous SDP (re-INVITE after a transfer, a new device) drops the latch
   * so that the new source can be learnt; the same address keeps it.
   */
  setSdp(address: string | null, port: number): void {
    if (address === this.sdpAddress && port === this.sdpPort) return;
    this.sdpAddress = address;
    this.sdpPort = port;
    this.sendAllowed = address !== null;
    this.latched = false;
    this.latchedToSdp = false;
    if (address !== null) {
      this.targetAddress = address;
      this.targetPort = port;
      this.hasTarget = true;
    } else {
      this.hasTarget = false;
    }
  }

  /**
   * Symmetric RTP (RFC 4961), "comedia" latching: send to where the party's
   * packets come from, which behind NAT is not the address in its SDP.
   * The first source is accepted, since nothing better is known; a source
   * that matches the SDP exactly may still take over from it (the real
   * party behind a reachable address beats whoever sprayed first), and once
   * latched to the SDP address nothing moves the stream. Every other source
   * is dropped and counted.
   */
  receive(msg: Buffer, address: string, port: number): void {
    // Authenticate before latching: a forged SRTP packet must not move the stream.
    const unprotect = this.unprotect;
    if (unprotect !== null) {
      const plain = unprotect(msg);
      if (plain === null) {
        this.srtpRejected++;
        return;
      }
      msg = plain;
    }
    if (this.latched) {
      if (port !== this.targetPort || address !== this.targetAddress) {
        if (this.latchedToSdp || port !== this.sdpPort || address !== this.sdpAddress) {
          this.dropped++;
          return;
        }
        this.latchTo(address, port, true);
      }
    } else {
      this.latchTo(address, port, port === this.sdpPort && address === this.sdpAddress);
    }
    const quality = this.quality;
    if (quality !== null) {
      if (this.isRtcp) quality.onRtcp(msg);
      else quality.onRtp(msg, performance.now());
    }
    const len = msg.length;
    this.packetsIn++;
    this.bytesIn += len;
    this.lastActivity = this.now();
    const tap = this.tap;
    if (tap !== null) tap(msg, address, port, this);

    const peer = this.peer;
    if (!peer.hasTarget || !peer.sendAllowed) {
      peer.noTarget++;
      return;
    }
    const protect = peer.protect;
    if (protect !== null) {
      const out = protect(msg);
      if (out === null) return;
      msg = out;
    }
    peer.socket.socket.send(msg, peer.targetPort, peer.targetAddress);
    peer.packetsOut++;
    peer.bytesOut += msg.length;
  }

  private latchTo(address: string, port: number, toSdp: boolean): void {
    this.targetAddress = address;
    this.targetPort = port;
    this.hasTarget = true;
    this.latched = true;
    this.latchedToSdp = toSdp;
  }

  counters(): FlowCounters {
    return {
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      dropped: this.dropped,
      noTarget: this.noTarget,
      srtpRejected: this.srtpRejected,
    };
  }
}
