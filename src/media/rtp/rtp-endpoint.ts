// An RTP/RTCP endpoint that Palisade terminates itself (a channel answered
// by the dialplan), on a socket pair from the relay's port pool. RFC 3550
// packetisation: sequence numbers, timestamps (+160 per 20 ms at 8 kHz),
// one SSRC, the marker bit on the first packet of a talkspurt (RFC 3551 §4.1);
// symmetric RTP (RFC 4961): once a packet arrives, we send back to its source.
// RTCP SR/RR every ~5 s (RFC 3550 §6.2, without the randomisation a
// two-party session does not need) and incoming reports are read.
import { randomBytes } from 'node:crypto';
import type { PacketSink, RelaySocket } from './relay-socket.js';
import { RtpStreamStats } from '../quality/rtp-stream-stats.js';

export interface RtpPacketInfo {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
}

export type PayloadHandler = (payload: Buffer, info: RtpPacketInfo) => void;

export interface RtcpReportInfo {
  type: 'SR' | 'RR';
  ssrc: number;
  /** from the report block about our stream, if any */
  fractionLost?: number;
  cumulativeLost?: number;
  jitter?: number;
}

export interface RtpEndpointStats {
  packetsSent: number;
  octetsSent: number;
  packetsReceived: number;
  /** RFC 3550 A.3 */
  lost: number;
  /** RFC 3550 A.8, in timestamp units */
  jitter: number;
  rtcpSent: number;
  rtcpReceived: number;
  malformed: number;
  dropped: number;
}

export interface SocketPair {
  rtp: RelaySocket;
  rtcp: RelaySocket;
  release(): void;
}

const RTCP_EVERY_TICKS = 250; // 5 s of 20 ms ticks

export class RtpEndpoint {
  readonly localAddress: string;
  readonly localPort: number;
  readonly ssrc: number;
  private seq: number;
  private ts: number;
  /** true when the previous tick sent no audio: the next audio packet starts a talkspurt */
  private gap = true;
  private remoteAddress = '';
  private remotePort = 0;
  private remoteRtcpPort = 0;
  private latched = false;
  private closed = false;
  private readonly handlers = new Map<number, PayloadHandler>();
  private readonly rtpSink: PacketSink;
  private readonly rtcpSink: PacketSink;
  private ticksSinceRtcp = 0;
  private readonly cname: string;
  onRtcp: ((r: RtcpReportInfo) => void) | null = null;
  /** what the far end sends, with Wireshark's definitions (src/media/quality): the CDR's rtp_a_rx_* */
  readonly quality = new RtpStreamStats();
  /** the first RTP packet from the far end (latching happened) */
  onFirstPacket: (() => void) | null = null;

  // receive statistics (RFC 3550 A.1, A.3, A.8)
  private remoteSsrc = 0;
  private baseSeq = -1;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private jitter = 0;
  private lastSrNtp = 0;
  private lastSrAt = 0;
  readonly stats: RtpEndpointStats = {
    packetsSent: 0,
    octetsSent: 0,
    packetsReceived: 0,
    lost: 0,
    jitter: 0,
    rtcpSent: 0,
    rtcpReceived: 0,
    malformed: 0,
    dropped: 0,
  };

  constructor(
    private readonly pair: SocketPair,
    localAddress: string,
    private readonly clockRate = 8000,
  ) {
    this.localAddress = localAddress;
    this.localPort = pair.rtp.port;
    const r = randomBytes(12);
    this.ssrc = r.readUInt32BE(0);
    // RFC 3550 §5.1: initial sequence number and timestamp are random
    this.seq = r.readUInt16BE(4);
    this.ts = r.readUInt32BE(6);
    this.cname = `palisade-${r.toString('hex', 10, 12)}@${localAddress}`;
    this.rtpSink = { receive: (msg, address, port) => this.onRtp(msg, address, port) };
    this.rtcpSink = { receive: (msg, address, port) => this.onRtcpPacket(msg, address, port) };
    pair.rtp.flow = this.rtpSink;
    pair.rtcp.flow = this.rtcpSink;
  }

  /** bound and ready to send (pooled sockets are ready at once) */
  async ready(): Promise<void> {
    await Promise.all([this.pair.rtp.ready, this.pair.rtcp.ready]);
  }

  /** where the far end said it receives (SDP c=/m=); latching may override it later */
  setRemote(address: string, port: number, rtcpPort = port + 1): void {
    this.remoteAddress = address;
    this.remotePort = port;
    this.remoteRtcpPort = rtcpPort;
    this.latched = false;
  }

  get remote(): { address: string; port: number; latched: boolean } {
    return { address: this.remoteAddress, port: this.remotePort, latched: this.latched };
  }

  on(payloadType: number, fn: PayloadHandler): void {
    this.handlers.set(payloadType, fn);
  }

  /** current RTP timestamp (the one the next audio packet carries) */
  get timestamp(): number {
    return this.ts;
  }

  /** one 20 ms tick without audio: time moves on, the next packet starts a talkspurt */
  skip(samples = 160): void {
    this.ts = (this.ts + samples) >>> 0;
    this.gap = true;
  }

  /** one audio frame; the timestamp advances by its sample count */
  sendAudio(payloadType: number, payload: Uint8Array, samples = 160): void {
    this.send(payloadType, payload, this.gap, this.ts);
    this.gap = false;
    this.ts = (this.ts + samples) >>> 0;
  }

  /** a packet with an explicit timestamp (RFC 4733 events keep the event's start timestamp) */
  send(payloadType: number, payload: Uint8Array, marker: boolean, timestamp: number): void {
    if (this.closed || this.remotePort === 0) return;
    // one buffer per packet: dgram sends asynchronously, so a reused header
    // could be rewritten before the kernel has it (back-to-back RFC 4733 end packets)
    const h = Buffer.allocUnsafe(12 + payload.length);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    h.writeUInt16BE(this.seq, 2);
    h.writeUInt32BE(timestamp >>> 0, 4);
    h.writeUInt32BE(this.ssrc, 8);
    this.seq = (this.seq + 1) & 0xffff;
    this.stats.packetsSent++;
    this.stats.octetsSent += payload.length;
    h.set(payload, 12);
    this.pair.rtp.socket.send(h, this.remotePort, this.remoteAddress);
  }

  /** call once per 20 ms tick (the channel does): paces RTCP */
  tick(): void {
    if (++this.ticksSinceRtcp >= RTCP_EVERY_TICKS) {
      this.ticksSinceRtcp = 0;
      this.sendRtcp();
    }
  }

  private onRtp(msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    // RFC 3550 §5.1: version 2, at least the fixed header
    if (msg.length < 12 || msg[0]! >> 6 !== 2) {
      this.stats.malformed++;
      return;
    }
    if (!this.latched) {
      // RFC 4961 symmetric RTP: answer where the packets come from (NAT)
      this.latched = true;
      this.remoteAddress = address;
      if (port !== this.remotePort) this.remoteRtcpPort = port + 1;
      this.remotePort = port;
      this.onFirstPacket?.();
    } else if (port !== this.remotePort || address !== this.remoteAddress) {
      this.stats.dropped++;
      return;
    }
    this.quality.onRtp(msg, performance.now());
    const cc = msg[0]! & 0x0f;
    let off = 12 + cc * 4;
    if (msg[0]! & 0x10) {
      if (msg.length < off + 4) return void this.stats.malformed++;
      off += 4 + msg.readUInt16BE(off + 2) * 4;
    }
    let end = msg.length;
    if (msg[0]! & 0x20) end -= msg[msg.length - 1]!;
    if (off > end) return void this.stats.malformed++;
    const info: RtpPacketInfo = {
      payloadType: msg[1]! & 0x7f,
      marker: (msg[1]! & 0x80) !== 0,
      seq: msg.readUInt16BE(2),
      timestamp: msg.readUInt32BE(4),
      ssrc: msg.readUInt32BE(8),
    };
    this.updateStats(info);
    const fn = this.handlers.get(info.payloadType);
    if (fn) fn(msg.subarray(off, end), info);
  }

  private updateStats(p: RtpPacketInfo): void {
    this.stats.packetsReceived++;
    if (p.ssrc !== this.remoteSsrc || this.baseSeq < 0) {
      this.remoteSsrc = p.ssrc;
      this.baseSeq = p.seq;
      this.maxSeq = p.seq;
      this.cycles = 0;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
      this.jitter = 0;
      this.transit = 0;
    }
    this.received++;
    const delta = (p.seq - this.maxSeq) & 0xffff;
    if (delta > 0 && delta < 0x8000) {
      if (p.seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = p.seq;
    }
    // RFC 3550 A.8 interarrival jitter
    const arrival = Math.round((performance.now() * this.clockRate) / 1000);
    const transit = arrival - p.timestamp;
    if (this.received > 1) {
      const d = Math.abs(transit - this.transit);
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
    const expected = this.cycles + this.maxSeq - this.baseSeq + 1;
    this.stats.lost = Math.max(0, expected - this.received);
    this.stats.jitter = this.jitter;
  }

  /** RFC 3550 §6.4: SR when we sent since the last report, else RR; always with SDES CNAME (§6.1) */
  sendRtcp(): void {
    if (this.closed || this.remoteRtcpPort === 0) return;
    const sender = this.stats.packetsSent > 0;
    const blocks = this.baseSeq >= 0 ? 1 : 0;
    const head = sender ? 28 : 8;
    const rep = Buffer.alloc(head + blocks * 24);
    rep[0] = 0x80 | blocks;
    rep[1] = sender ? 200 : 201;
    rep.writeUInt16BE(rep.length / 4 - 1, 2);
    rep.writeUInt32BE(this.ssrc, 4);
    if (sender) {
      const ms = Date.now() + 2208988800000; // NTP epoch 1900
      const secs = Math.floor(ms / 1000);
      rep.writeUInt32BE(secs >>> 0, 8);
      rep.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 0x100000000) >>> 0, 12);
      rep.writeUInt32BE(this.ts >>> 0, 16);
      rep.writeUInt32BE(this.stats.packetsSent >>> 0, 20);
      rep.writeUInt32BE(this.stats.octetsSent >>> 0, 24);
    }
    if (blocks) {
      const o = head;
      const expected = this.cycles + this.maxSeq - this.baseSeq + 1;
      const expInt = expected - this.expectedPrior;
      const recInt = this.received - this.receivedPrior;
      this.expectedPrior = expected;
      this.receivedPrior = this.received;
      const lostInt = expInt - recInt;
      const fraction = expInt <= 0 || lostInt <= 0 ? 0 : Math.floor((lostInt << 8) / expInt);
      const cumLost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
      rep.writeUInt32BE(this.remoteSsrc >>> 0, o);
      rep.writeUInt32BE((((fraction & 0xff) << 24) | (cumLost & 0xffffff)) >>> 0, o + 4);
      rep.writeUInt32BE((this.cycles + this.maxSeq) >>> 0, o + 8);
      rep.writeUInt32BE(Math.floor(this.jitter) >>> 0, o + 12);
      rep.writeUInt32BE(this.lastSrNtp >>> 0, o + 16);
      const dlsr = this.lastSrAt ? Math.floor(((Date.now() - this.lastSrAt) / 1000) * 65536) : 0;
      rep.writeUInt32BE(dlsr >>> 0, o + 20);
    }
    // SDES with one CNAME item, padded to a 32-bit boundary
    const cname = Buffer.from(this.cname, 'utf8');
    const sdesLen = Math.ceil((4 + 2 + cname.length + 1) / 4) * 4;
    const sdes = Buffer.alloc(4 + sdesLen);
    sdes[0] = 0x81;
    sdes[1] = 202;
    sdes.writeUInt16BE(sdes.length / 4 - 1, 2);
    sdes.writeUInt32BE(this.ssrc, 4);
    sdes[8] = 1;
    sdes[9] = cname.length;
    cname.copy(sdes, 10);
    this.stats.rtcpSent++;
    this.pair.rtcp.socket.send([rep, sdes], this.remoteRtcpPort, this.remoteAddress);
  }

  private onRtcpPacket(msg: Buffer, _address: string, _port: number): void {
    if (this.closed) return;
    this.quality.onRtcp(msg);
    let off = 0;
    // walk the compound packet (RFC 3550 §6.1)
    while (off + 8 <= msg.length) {
      if (msg[off]! >> 6 !== 2) return void this.stats.malformed++;
      const pt = msg[off + 1]!;
      const len = (msg.readUInt16BE(off + 2) + 1) * 4;
      if (off + len > msg.length) return void this.stats.malformed++;
      const count = msg[off]! & 0x1f;
      if (pt === 200 || pt === 201) {
        this.stats.rtcpReceived++;
        const ssrc = msg.readUInt32BE(off + 4);
        let blockOff = off + (pt === 200 ? 28 : 8);
        if (pt === 200 && len >= 28) {
          // middle 32 bits of the NTP timestamp, for LSR (RFC 3550 §6.4.1)
          this.lastSrNtp = ((msg.readUInt32BE(off + 8) & 0xffff) << 16) | (msg.readUInt32BE(off + 12) >>> 16);
          this.lastSrAt = Date.now();
        }
        const info: RtcpReportInfo = { type: pt === 200 ? 'SR' : 'RR', ssrc };
        for (let i = 0; i < count && blockOff + 24 <= off + len; i++, blockOff += 24) {
          if (msg.readUInt32BE(blockOff) !== this.ssrc) continue;
          info.fractionLost = msg[blockOff + 4]! / 256;
          const cl = msg.readUInt32BE(blockOff + 4) & 0xffffff;
          info.cumulativeLost = cl & 0x800000 ? cl - 0x1000000 : cl;
          info.jitter = msg.readUInt32BE(blockOff + 12);
        }
        this.onRtcp?.(info);
      }
      off += len;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // RFC 3550 §6.6 BYE could go here; the SIP BYE already ends the session.
    this.pair.release();
  }
}
