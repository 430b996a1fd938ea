// Writes a pcap of one G.711 A-law RTP stream for SIPp's play_pcap_audio,
// impaired the way a bad link would deliver it: packet i leaves at i·20 ms
// plus a pseudo-random offset in [0, jitterMs), lossPct % of the packets
// are missing, reorderPct % swap places with the next one, dupPct % are sent
// twice (a fixed seed, so a run can be repeated). RTP timestamps run on at
// +160. SIPp replays the file with these send times, so the stream reaching
// Palisade has real arrival jitter, sequence gaps, reordering, duplicates.
// With no impairment and a `toneHz`, it is the clean long stream the
// benches play (SIPp's own g711a.pcap lasts only 4.7 s).
import { writeFileSync } from 'node:fs';
import { encodeAlaw } from '../../src/media/codecs/codec-g711.js';

export interface ImpairedStream {
  seconds: number;
  jitterMs: number;
  lossPct?: number;
  reorderPct?: number;
  dupPct?: number;
  seed?: number;
  /** a sine tone of this frequency in every packet; A-law silence when absent */
  toneHz?: number;
}

export function writeJitterPcap(path: string, opts: ImpairedStream): string {
  const total = Math.round(opts.seconds * 50);
  const frame = 14 + 20 + 8 + 12 + 160;
  let seed = opts.seed ?? 1;
  const rnd = (): number => {
    // xorshift32: deterministic offsets
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  // which packet (by index) is sent in which 20 ms slot
  const order: number[] = [];
  for (let i = 0; i < total; i++) {
    if (i > 0 && rnd() * 100 < (opts.lossPct ?? 0)) continue;
    order.push(i);
    if (rnd() * 100 < (opts.dupPct ?? 0)) order.push(i);
  }
  for (let k = 1; k + 1 < order.length; k++) {
    if (rnd() * 100 < (opts.reorderPct ?? 0)) {
      [order[k], order[k + 1]] = [order[k + 1]!, order[k]!];
      k++;
    }
  }
  const out = Buffer.alloc(24 + order.length * (16 + frame));
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20); // Ethernet
  let off = 24;
  for (const [slot, i] of order.entries()) {
    const tUs = Math.round(Math.max(slot, i) * 20000 + rnd() * opts.jitterMs * 1000);
    out.writeUInt32LE(Math.floor(tUs / 1e6), off);
    out.writeUInt32LE(tUs % 1e6, off + 4);
    out.writeUInt32LE(frame, off + 8);
    out.writeUInt32LE(frame, off + 12);
    let p = off + 16;
    out.writeUInt16BE(0x0800, p + 12);
    p += 14;
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
    out[p] = 0x80;
    out[p + 1] = (i === 0 ? 0x80 : 0) | 8;
    out.writeUInt16BE((1000 + i) & 0xffff, p + 2);
    out.writeUInt32BE((5000 + i * 160) >>> 0, p + 4);
    out.writeUInt32BE(0x0a1b2c3d, p + 8);
    if (opts.toneHz === undefined)
      out.fill(0xd5, p + 12, p + 12 + 160); // A-law silence
    else {
      const pcm = new Int16Array(160);
      for (let k = 0; k < 160; k++) pcm[k] = Math.round(8000 * Math.sin((2 * Math.PI * opts.toneHz * (i * 160 + k)) / 8000));
      encodeAlaw(pcm, out.subarray(p + 12, p + 12 + 160));
    }
    off += 16 + frame;
  }
  writeFileSync(path, out);
  return path;
}
