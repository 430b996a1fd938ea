// A pcapng file writer (draft-ietf-opsawg-pcapng, "PCAP Next Generation
// Dump File Format"): one Section Header Block, Interface Description Blocks,
// Enhanced Packet Blocks, each with options. Little-endian throughout; the
// byte-order magic tells readers so. Every block is a multiple of 4 bytes and
// repeats its total length at the end (§3.1).

/** §4.1 Section Header Block */
const SHB = 0x0a0d0d0a;
/** §4.2 Interface Description Block */
const IDB = 0x00000001;
/** §4.3 Enhanced Packet Block */
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** option codes (§3.5, §4.1, §4.2) */
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;

/** LINKTYPE_RAW: an IPv4 or IPv6 header first, told apart by its version nibble (tcpdump.org/linktypes.html) */
export const LINKTYPE_RAW = 101;

interface Option {
  code: number;
  value: Buffer;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function optionsLength(opts: readonly Option[]): number {
  if (opts.length === 0) return 0;
  return opts.reduce((n, o) => n + 4 + pad4(o.value.length), 0) + 4;
}

function writeOptions(b: Buffer, at: number, opts: readonly Option[]): number {
  if (opts.length === 0) return at;
  for (const o of opts) {
    b.writeUInt16LE(o.code, at);
    b.writeUInt16LE(o.value.length, at + 2);
    o.value.copy(b, at + 4);
    at += 4 + pad4(o.value.length);
  }
  b.writeUInt16LE(OPT_ENDOFOPT, at);
  b.writeUInt16LE(0, at + 2);
  return at + 4;
}

/** a block: type, total length, body, options, total length again */
function block(type: number, body: Buffer, opts: readonly Option[]): Buffer {
  const total = 12 + pad4(body.length) + optionsLength(opts);
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  writeOptions(b, 8 + pad4(body.length), opts);
  b.writeUInt32LE(total, total - 4);
  return b;
}

const text = (code: number, s: string): Option => ({ code, value: Buffer.from(s, 'utf8') });

export interface PcapngPacket {
  /** capture time, epoch microseconds */
  tsMicros: bigint;
  /** the bytes captured */
  data: Buffer;
  /** length on the wire (>= data.length; larger when only a header was kept) */
  originalLength?: number;
  comment?: string;
}

/** Collects blocks in memory; toBuffer() gives the file. */
export class PcapngWriter {
  private readonly blocks: Buffer[] = [];
  private interfaces = 0;

  constructor(section: { comment?: string; application?: string } = {}) {
    const body = Buffer.alloc(16);
    body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
    body.writeUInt16LE(1, 4); // major version
    body.writeUInt16LE(0, 6); // minor version
    body.writeBigInt64LE(-1n, 8); // section length not given (§4.1)
    const opts: Option[] = [];
    if (section.comment) opts.push(text(OPT_COMMENT, section.comment));
    if (section.application) opts.push(text(SHB_USERAPPL, section.application));
    this.blocks.push(block(SHB, body, opts));
  }

  /** adds an interface; returns its id for packets. Timestamps are in microseconds (if_tsresol 6). */
  addInterface(linkType: number, o: { name?: string; snapLength?: number } = {}): number {
    const body = Buffer.alloc(8);
    body.writeUInt16LE(linkType, 0);
    body.writeUInt16LE(0, 2);
    body.writeUInt32LE(o.snapLength ?? 0, 4); // 0: no limit
    const opts: Option[] = [];
    if (o.name) opts.push(text(IF_NAME, o.name));
    opts.push({ code: IF_TSRESOL, value: Buffer.from([6]) });
    this.blocks.push(block(IDB, body, opts));
    return this.interfaces++;
  }

  addPacket(interfaceId: number, p: PcapngPacket): void {
    if (interfaceId >= this.interfaces) throw new RangeError(`no interface ${interfaceId}`);
    const body = Buffer.alloc(20 + p.data.length);
    body.writeUInt32LE(interfaceId, 0);
    body.writeUInt32LE(Number(p.tsMicros >> 32n), 4);
    body.writeUInt32LE(Number(p.tsMicros & 0xffffffffn), 8);
    body.writeUInt32LE(p.data.length, 12);
    body.writeUInt32LE(Math.max(p.originalLength ?? p.data.length, p.data.length), 16);
    p.data.copy(body, 20);
    this.blocks.push(block(EPB, body, p.comment ? [text(OPT_COMMENT, p.comment)] : []));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.blocks);
  }
}
