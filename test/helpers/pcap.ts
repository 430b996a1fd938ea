// A small reader for classic libpcap files (the format tshark -F pcap and
// the captures in shared/testdata use): Ethernet (with VLAN or PPPoE), Linux cooked (SLL) or raw
// IPv4 links, UDP datagrams only. Enough to feed captured RTP and SIP to
// Palisade's parsers in tests.
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  /** packet number in the file, from 1 (tshark's frame.number) */
  frame: number;
  timeMs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export function readPcapUdp(path: string): UdpDatagram[] {
  const buf = readFileSync(path);
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    le = true;
    nano = magic === 0xa1b23c4d;
  } else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) {
    le = false;
    nano = buf.readUInt32BE(0) === 0xa1b23c4d;
  } else throw new Error(`${path}: not a classic pcap file (pcapng is not supported)`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20);
  const out: UdpDatagram[] = [];
  let off = 24;
  let frame = 0;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const data = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    frame++;
    let ip = 0;
    if (linktype === 1) {
      let type = data.readUInt16BE(12);
      ip = 14;
      if (type === 0x8100) {
        type = data.readUInt16BE(16);
        ip = 18;
      }
      if (type === 0x8864) {
        // PPPoE session (RFC 2516): 6-byte header, then the 2-byte PPP protocol (0x0021 = IPv4)
        if (data.readUInt16BE(ip + 6) !== 0x0021) continue;
        ip += 8;
        type = 0x0800;
      }
      if (type !== 0x0800) continue;
    } else if (linktype === 113) {
      if (data.readUInt16BE(14) !== 0x0800) continue;
      ip = 16;
    } else if (linktype === 101 || linktype === 228) ip = 0;
    else throw new Error(`${path}: link type ${linktype} not supported`);
    if (data[ip]! >> 4 !== 4 || data[ip + 9] !== 17) continue;
    // fragments other than the first carry no UDP header
    if ((data.readUInt16BE(ip + 6) & 0x1fff) !== 0) continue;
    const ihl = (data[ip]! & 0x0f) * 4;
    const udp = ip + ihl;
    const len = data.readUInt16BE(udp + 4);
    out.push({
      frame,
      timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3),
      src: `${data[ip + 12]}.${data[ip + 13]}.${data[ip + 14]}.${data[ip + 15]}`,
      dst: `${data[ip + 16]}.${data[ip + 17]}.${data[ip + 18]}.${data[ip + 19]}`,
      srcPort: data.readUInt16BE(udp),
      dstPort: data.readUInt16BE(udp + 2),
      payload: data.subarray(udp + 8, Math.min(data.length, udp + len)),
    });
  }
  return out;
}
