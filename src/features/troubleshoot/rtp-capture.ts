// The RTP of one traced call, recorded through the relay session's tap
// (MediaFlow.tap): for each packet a party sends, the packet as it reached
// Palisade and as it left toward the other party. Headers only (RFC 3550
// §5.1: 12 bytes, CSRCs and the header extension) unless the administrator
// asked for payloads; at most `maxPackets` packets, the rest only counted.
import type { MediaFlow, RtpTap } from '../../media/rtp/index.js';
import type { TracedRtp } from './trace-types.js';

/** the length of the RTP header at the start of `p` (the whole packet when it is too short to tell) */
export function rtpHeaderLength(p: Buffer): number {
  if (p.length < 12) return p.length;
  let n = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10 && p.length >= n + 4) n += 4 + p.readUInt16BE(n + 2) * 4;
  return Math.min(n, p.length);
}

export class RtpCapture {
  readonly packets: TracedRtp[] = [];
  dropped = 0;
  bytes = 0;
  private count = 0;
  readonly tap: RtpTap;

  constructor(
    /** the relay's address as Palisade advertises it in SDP (what the parties send to) */
    private readonly relayAddress: string,
    private readonly maxPackets: number,
    readonly payload: boolean,
    now: () => number,
  ) {
    this.tap = (packet: Buffer, address: string, port: number, flow: MediaFlow) => {
      if (this.count >= this.maxPackets) {
        this.dropped++;
        return;
      }
      this.count++;
      const t = now();
      const data = Buffer.from(packet.subarray(0, this.payload ? packet.length : rtpHeaderLength(packet)));
      const length = packet.length;
      this.packets.push({ t, data, length, src: { address, port }, dst: { address: this.relayAddress, port: flow.socket.port } });
      const peer = flow.peer;
      if (peer.hasTarget && peer.sendAllowed) {
        this.packets.push({ t, data, length, src: { address: this.relayAddress, port: peer.socket.port }, dst: { address: peer.targetAddress, port: peer.targetPort } });
      }
      this.bytes += data.length + 64;
    };
  }
}
