// IAX2 frames on the wire (RFC 5456 §8): full frames (reliable, sequenced,
// 12-byte header), mini frames (voice, 4-byte header), and meta frames
// (trunk frames carrying several calls' voice; video mini frames). The
// parser reads the header fields in place and leaves the payload as a view
// of the datagram, so a mini frame costs no allocation beyond its small
// record; information elements are parsed only for IAX frames, which are
// not on the media path.
import { FrameType, META_TRUNK } from './iax2-constants.js';

export const FULL_HEADER = 12;
export const MINI_HEADER = 4;

export interface FullFrame {
  kind: 'full';
  /** the sender's call number (15 bits) */
  src: number;
  /** the receiver's call number (0 before it is known) */
  dst: number;
  /** R bit: this is a retransmission */
  retrans: boolean;
  /** ms since the sender's call (or registration) started */
  ts: number;
  oseq: number;
  iseq: number;
  type: number;
  /** uncompressed subclass (the C bit applied: 1 << n) */
  subclass: number;
  /** what follows the header: information elements for IAX frames, media for voice */
  data: Buffer;
}

export interface MiniFrame {
  kind: 'mini';
  src: number;
  /** low 16 bits of the sender's timestamp */
  ts: number;
  data: Buffer;
}

export interface TrunkEntry {
  /** the sender's call number the voice belongs to */
  src: number;
  /** low 16 bits of the call's timestamp (trunk frames with timestamps), else -1 */
  ts: number;
  data: Buffer;
}

export interface TrunkFrame {
  kind: 'trunk';
  /** the trunk's own timestamp (ms) */
  ts: number;
  /** cmddata bit 0: each entry carries its call's timestamp */
  withTimestamps: boolean;
  entries: TrunkEntry[];
}

export interface VideoMiniFrame {
  kind: 'video';
  src: number;
  ts: number;
  data: Buffer;
}

export type Iax2Frame = FullFrame | MiniFrame | TrunkFrame | VideoMiniFrame;

export class Iax2ParseError extends Error {}

/** RFC 5456 §8.1.1: the C bit means "subclass is a power of two"; 0xFF is Asterisk's -1 (stop indications) */
export function uncompressSubclass(c: number): number {
  if (c === 0xff) return 0xff;
  return c & 0x80 ? 2 ** (c & 0x1f) : c;
}

export function compressSubclass(v: number): number {
  if (v < 0x80 || v === 0xff) return v;
  const n = Math.log2(v);
  if (!Number.isInteger(n)) throw new Iax2ParseError(`subclass ${v} cannot be sent: not below 128 nor a power of two`);
  return 0x80 | n;
}

/** Parses one datagram. Throws Iax2ParseError on a frame too short or inconsistent. */
export function parseFrame(b: Buffer): Iax2Frame {
  if (b.length < 4) throw new Iax2ParseError(`datagram of ${b.length} bytes is shorter than any IAX2 frame`);
  const w0 = b.readUInt16BE(0);
  if (w0 & 0x8000) {
    if (b.length < FULL_HEADER) throw new Iax2ParseError(`full frame of ${b.length} bytes is shorter than its 12-byte header`);
    const w1 = b.readUInt16BE(2);
    return {
      kind: 'full',
      src: w0 & 0x7fff,
      dst: w1 & 0x7fff,
      retrans: (w1 & 0x8000) !== 0,
      ts: b.readUInt32BE(4),
      oseq: b[8]!,
      iseq: b[9]!,
      type: b[10]!,
      subclass: uncompressSubclass(b[11]!),
      data: b.subarray(FULL_HEADER),
    };
  }
  if (w0 !== 0) return { kind: 'mini', src: w0, ts: b.readUInt16BE(2), data: b.subarray(MINI_HEADER) };
  // RFC 5456 §8.1.3: a zero source call number marks a meta frame
  const w1 = b.readUInt16BE(2);
  if (w1 & 0x8000) {
    if (b.length < 6) throw new Iax2ParseError('video mini frame shorter than its 6-byte header');
    return { kind: 'video', src: w1 & 0x7fff, ts: b.readUInt16BE(4) & 0x7fff, data: b.subarray(6) };
  }
  const metacmd = b[2]!;
  const cmddata = b[3]!;
  if (metacmd !== META_TRUNK) throw new Iax2ParseError(`unknown meta command ${metacmd}`);
  if (b.length < 8) throw new Iax2ParseError('trunk frame shorter than its 8-byte header');
  return { kind: 'trunk', ts: b.readUInt32BE(4), withTimestamps: (cmddata & 1) === 1, entries: trunkEntries(b, (cmddata & 1) === 1) };
}

function trunkEntries(b: Buffer, withTs: boolean): TrunkEntry[] {
  const out: TrunkEntry[] = [];
  let o = 8;
  while (o < b.length) {
    if (withTs) {
      // length, call number, timestamp (Asterisk's ast_iax2_meta_trunk_mini)
      if (o + 6 > b.length) throw new Iax2ParseError(`trunk entry header cut short at byte ${o}`);
      const len = b.readUInt16BE(o);
      const src = b.readUInt16BE(o + 2) & 0x7fff;
      const ts = b.readUInt16BE(o + 4);
      if (o + 6 + len > b.length) throw new Iax2ParseError(`trunk entry of ${len} bytes runs past the frame`);
      out.push({ src, ts, data: b.subarray(o + 6, o + 6 + len) });
      o += 6 + len;
    } else {
      // call number, length (RFC 5456 §8.1.3.1, Figure 9)
      if (o + 4 > b.length) throw new Iax2ParseError(`trunk entry header cut short at byte ${o}`);
      const src = b.readUInt16BE(o) & 0x7fff;
      const len = b.readUInt16BE(o + 2);
      if (o + 4 + len > b.length) throw new Iax2ParseError(`trunk entry of ${len} bytes runs past the frame`);
      out.push({ src, ts: -1, data: b.subarray(o + 4, o + 4 + len) });
      o += 4 + len;
    }
  }
  return out;
}

export interface FullHeader {
  src: number;
  dst: number;
  retrans?: boolean;
  ts: number;
  oseq: number;
  iseq: number;
  type: number;
  subclass: number;
}

export function buildFull(h: FullHeader, data: Buffer | Uint8Array = EMPTY): Buffer {
  const b = Buffer.allocUnsafe(FULL_HEADER + data.length);
  writeFullHeader(b, h);
  b.set(data, FULL_HEADER);
  return b;
}

/** writes the 12-byte header into `b` (a retransmission rewrites the R bit and iseq in place) */
export function writeFullHeader(b: Buffer, h: FullHeader): void {
  b.writeUInt16BE(0x8000 | (h.src & 0x7fff), 0);
  b.writeUInt16BE((h.retrans ? 0x8000 : 0) | (h.dst & 0x7fff), 2);
  b.writeUInt32BE(h.ts >>> 0, 4);
  b[8] = h.oseq & 0xff;
  b[9] = h.iseq & 0xff;
  b[10] = h.type;
  b[11] = compressSubclass(h.subclass);
}

export function buildMini(src: number, ts: number, data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(MINI_HEADER + data.length);
  b.writeUInt16BE(src & 0x7fff, 0);
  b.writeUInt16BE(ts & 0xffff, 2);
  b.set(data, MINI_HEADER);
  return b;
}

/** a trunk meta frame with per-call timestamps (Asterisk's trunktimestamps format) */
export function buildTrunk(ts: number, entries: ReadonlyArray<{ src: number; ts: number; data: Uint8Array }>): Buffer {
  let len = 8;
  for (const e of entries) len += 6 + e.data.length;
  const b = Buffer.allocUnsafe(len);
  b.writeUInt16BE(0, 0);
  b[2] = META_TRUNK;
  b[3] = 1;
  b.writeUInt32BE(ts >>> 0, 4);
  let o = 8;
  for (const e of entries) {
    b.writeUInt16BE(e.data.length, o);
    b.writeUInt16BE(e.src & 0x7fff, o + 2);
    b.writeUInt16BE(e.ts & 0xffff, o + 4);
    b.set(e.data, o + 6);
    o += 6 + e.data.length;
  }
  return b;
}

const EMPTY = Buffer.alloc(0);

// ------------------------------------------------------------ information elements

/** RFC 5456 §8.6: id (1 byte), length (1 byte), data; parsed into a map (a repeated IE keeps its first value) */
export function parseIes(data: Buffer): Map<number, Buffer> {
  const ies = new Map<number, Buffer>();
  let o = 0;
  while (o < data.length) {
    if (o + 2 > data.length) throw new Iax2ParseError(`information element header cut short at byte ${o}`);
    const id = data[o]!;
    const len = data[o + 1]!;
    if (o + 2 + len > data.length) throw new Iax2ParseError(`information element ${id} of ${len} bytes runs past the frame`);
    if (!ies.has(id)) ies.set(id, data.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return ies;
}

/** typed reads of parsed IEs */
export class Ies {
  constructor(readonly map: Map<number, Buffer>) {}

  static parse(data: Buffer): Ies {
    return new Ies(parseIes(data));
  }

  has(id: number): boolean {
    return this.map.has(id);
  }

  str(id: number): string | undefined {
    return this.map.get(id)?.toString('utf8');
  }

  u8(id: number): number | undefined {
    const b = this.map.get(id);
    return b && b.length >= 1 ? b[0] : undefined;
  }

  u16(id: number): number | undefined {
    const b = this.map.get(id);
    return b && b.length >= 2 ? b.readUInt16BE(0) : undefined;
  }

  u32(id: number): number | undefined {
    const b = this.map.get(id);
    return b && b.length >= 4 ? b.readUInt32BE(0) : undefined;
  }

  /** FORMAT2/CAPABILITY2: a version byte then 64 bits (Asterisk); we keep the low 32 */
  u64low(id: number): number | undefined {
    const b = this.map.get(id);
    return b && b.length >= 9 ? b.readUInt32BE(5) : undefined;
  }

  bytes(id: number): Buffer | undefined {
    return this.map.get(id);
  }
}

export class IeBuilder {
  private readonly parts: Buffer[] = [];

  str(id: number, s: string): this {
    return this.bytes(id, Buffer.from(s, 'utf8'));
  }

  u8(id: number, v: number): this {
    return this.bytes(id, Buffer.from([v & 0xff]));
  }

  u16(id: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v & 0xffff);
    return this.bytes(id, b);
  }

  u32(id: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.bytes(id, b);
  }

  empty(id: number): this {
    return this.bytes(id, EMPTY);
  }

  bytes(id: number, data: Buffer): this {
    if (data.length > 255) throw new Iax2ParseError(`information element ${id} of ${data.length} bytes exceeds 255`);
    this.parts.push(Buffer.from([id, data.length]), data);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** true for frames the receiver must not acknowledge nor count in its iseq (RFC 5456 §7: ACK, INVAL, VNAK...) */
export function isUnsequenced(f: FullFrame): boolean {
  if (f.type !== FrameType.IAX) return false;
  // ACK (4), INVAL (10), VNAK (18), TXCNT (23), TXACC (24)
  return f.subclass === 4 || f.subclass === 10 || f.subclass === 18 || f.subclass === 23 || f.subclass === 24;
}
