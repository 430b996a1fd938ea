// Writes a pcap of one continuous G.711 A-law RTP stream (a 440 Hz tone,
// 20 ms packets, sequence numbers and timestamps running on) for SIPp's
// play_pcap_audio: SIPp's own g711a.pcap lasts 4.7 s, too short to keep
// media flowing on every call of a long bench.
import { writeFileSync } from 'node:fs';

/** ITU-T G.711 A-law encoding of one 16-bit sample */
function alaw(sample) {
  let s = sample >> 3; // 13-bit magnitude domain
  let mask;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  const segEnd = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = 0;
  while (seg < 8 && s > segEnd[seg]) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (s >> 1) & 0xf : (s >> seg) & 0xf;
  return aval ^ mask;
}

export function writeRtpPcap(path, seconds) {
  const packets = Math.round(seconds * 50);
  const frame = 14 + 20 + 8 + 12 + 160;
  const out = Buffer.alloc(24 + packets * (16 + frame));
  // pcap global header: magic, v2.4, snaplen 65535, Ethernet
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20);
  const ssrc = 0x5a17ade5;
  let off = 24;
  let phase = 0;
  for (let i = 0; i < packets; i++) {
    const tUs = i * 20000;
    out.writeUInt32LE(Math.floor(tUs / 1e6), off);
    out.writeUInt32LE(tUs % 1e6, off + 4);
    out.writeUInt32LE(frame, off + 8);
    out.writeUInt32LE(frame, off + 12);
    let p = off + 16;
    // Ethernet: zero MACs, IPv4
    out.writeUInt16BE(0x0800, p + 12);
    p += 14;
    // IPv4 127.0.0.1 -> 127.0.0.1, UDP (SIPp rewrites addresses and ports)
    out[p] = 0x45;
    out.writeUInt16BE(20 + 8 + 12 + 160, p + 2);
    out[p + 8] = 64;
    out[p + 9] = 17;
    out.writeUInt32BE(0x7f000001, p + 12);
    out.writeUInt32BE(0x7f000001, p + 16);
    p += 20;
    out.writeUInt16BE(6000, p);
    out.writeUInt16BE(6000, p + 2);
    out.writeUInt16BE(8 + 12 + 160, p + 4);
    p += 8;
    // RTP: v2, PT 8 (PCMA), marker on the first packet
    out[p] = 0x80;
    out[p + 1] = 8 | (i === 0 ? 0x80 : 0);
    out.writeUInt16BE(i & 0xffff, p + 2);
    out.writeUInt32BE((i * 160) >>> 0, p + 4);
    out.writeUInt32BE(ssrc, p + 8);
    p += 12;
    for (let k = 0; k < 160; k++) {
      out[p + k] = alaw(Math.round(8000 * Math.sin(phase)));
      phase += (2 * Math.PI * 440) / 8000;
    }
    off += 16 + frame;
  }
  writeFileSync(path, out);
  return path;
}
