// The frame codec against a real capture (shared/testdata/pcaps/iax.pcap,
// 50 IAX2 frames: NEW, ACK, ACCEPT, ANSWER, then media) with tshark's
// dissector as the reference, and against frames built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readPcapUdp } from '../../test/helpers/pcap.js';
import { sharedTestdata } from '../../test/helpers/paths.js';
import { FrameType, Ie, IaxCmd, ControlCmd, Format } from './iax2-constants.js';
import { buildFull, buildMini, buildTrunk, compressSubclass, IeBuilder, Ies, Iax2ParseError, parseFrame, uncompressSubclass } from './iax2-frame.js';

const PCAP = join(sharedTestdata('pcaps'), 'iax.pcap');

interface TsharkRow {
  frame: number;
  packetType: number;
  src: number;
  dst: number | null;
  type: number | null;
  iax: number | null;
  oseq: number | null;
  iseq: number | null;
  ts: number;
}

/** what tshark's IAX2 dissector reads in each frame */
function tsharkRows(pcap: string): TsharkRow[] {
  const r = spawnSync(
    'tshark',
    [
      '-r',
      pcap,
      '-Y',
      'iax2',
      '-T',
      'fields',
      '-E',
      'separator=,',
      ...['frame.number', 'iax2.packet_type', 'iax2.src_call', 'iax2.dst_call', 'iax2.type', 'iax2.iax.subclass', 'iax2.oseqno', 'iax2.iseqno', 'iax2.timestamp'].flatMap((f) => [
        '-e',
        f,
      ]),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const n = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s.split(',')[0]));
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(','))
    .map((c) => ({
      frame: Number(c[0]),
      packetType: Number(c[1]),
      src: Number(c[2]),
      dst: n(c[3]),
      type: n(c[4]),
      iax: n(c[5]),
      oseq: n(c[6]),
      iseq: n(c[7]),
      ts: Number(c[8]),
    }));
}

test('every frame of iax.pcap parses, and the header fields agree with tshark', () => {
  const datagrams = readPcapUdp(PCAP);
  assert.equal(datagrams.length, 50);
  const rows = new Map(tsharkRows(PCAP).map((r) => [r.frame, r]));
  assert.equal(rows.size, 50, 'tshark decodes all 50 as IAX2');
  let full = 0;
  let mini = 0;
  for (const d of datagrams) {
    const f = parseFrame(d.payload);
    const t = rows.get(d.frame)!;
    if (f.kind === 'full') {
      full++;
      assert.equal(t.packetType, 1, `frame ${d.frame} is a full frame for tshark too`);
      assert.deepEqual([f.src, f.dst, f.type, f.oseq, f.iseq, f.ts], [t.src, t.dst, t.type, t.oseq, t.iseq, t.ts], `frame ${d.frame}`);
      if (f.type === FrameType.IAX) {
        assert.equal(f.subclass, t.iax, `frame ${d.frame} IAX subclass`);
        Ies.parse(f.data); // information elements are well formed
      }
    } else {
      assert.equal(f.kind, 'mini');
      mini++;
      assert.equal(t.packetType, 0, `frame ${d.frame} is a mini frame for tshark too`);
      assert.equal(f.src, t.src);
      assert.equal(f.ts, t.ts & 0xffff);
    }
  }
  // NEW, ACK, ACCEPT, ACK, ANSWER, ACK, voice, voice, ACK ... and the rest media
  assert.ok(full >= 9 && mini >= 30, `${full} full, ${mini} mini`);
  assert.equal(full + mini, 50);
});

test('the NEW of iax.pcap carries what tshark shows: version 2, called 442088205155, calling 447782267949, language en', () => {
  const d = readPcapUdp(PCAP)[0]!;
  const f = parseFrame(d.payload);
  assert.ok(f.kind === 'full' && f.type === FrameType.IAX && f.subclass === IaxCmd.NEW);
  const ies = Ies.parse(f.data);
  assert.equal(ies.u16(Ie.VERSION), 2);
  assert.equal(ies.str(Ie.CALLED_NUMBER), '442088205155');
  assert.equal(ies.str(Ie.CALLING_NUMBER), '447782267949');
  assert.equal(ies.str(Ie.CALLING_NAME), '');
  assert.equal(ies.str(Ie.LANGUAGE), 'en');
});

test('full frames round-trip, with the subclass compressed when it is a power of two above 127', () => {
  const data = new IeBuilder().u16(Ie.VERSION, 2).str(Ie.CALLED_NUMBER, '2001').u32(Ie.FORMAT, Format.ULAW).empty(Ie.CALLTOKEN).build();
  const b = buildFull({ src: 0x1234, dst: 0x0abc, retrans: true, ts: 123456, oseq: 7, iseq: 250, type: FrameType.IAX, subclass: IaxCmd.NEW }, data);
  const f = parseFrame(b);
  assert.ok(f.kind === 'full');
  assert.deepEqual([f.src, f.dst, f.retrans, f.ts, f.oseq, f.iseq, f.type, f.subclass], [0x1234, 0x0abc, true, 123456, 7, 250, FrameType.IAX, IaxCmd.NEW]);
  const ies = Ies.parse(f.data);
  assert.equal(ies.str(Ie.CALLED_NUMBER), '2001');
  assert.equal(ies.bytes(Ie.CALLTOKEN)?.length, 0);
  assert.equal(compressSubclass(0x100), 0x88); // G.729: 1 << 8
  assert.equal(uncompressSubclass(0x88), 0x100);
  assert.equal(uncompressSubclass(ControlCmd.STOP_SOUNDS), 0xff);
  assert.throws(() => compressSubclass(0x180), Iax2ParseError);
});

test('mini and trunk (meta) frames round-trip', () => {
  const m = parseFrame(buildMini(5, 0x12345, Buffer.alloc(160, 0xff)));
  assert.ok(m.kind === 'mini');
  assert.deepEqual([m.src, m.ts, m.data.length], [5, 0x2345, 160]);
  const t = parseFrame(
    buildTrunk(1000, [
      { src: 3, ts: 980, data: Buffer.alloc(160, 1) },
      { src: 4, ts: 990, data: Buffer.alloc(33, 2) },
    ]),
  );
  assert.ok(t.kind === 'trunk' && t.withTimestamps);
  assert.equal(t.ts, 1000);
  assert.deepEqual(
    t.entries.map((e) => [e.src, e.ts, e.data.length, e.data[0]]),
    [
      [3, 980, 160, 1],
      [4, 990, 33, 2],
    ],
  );
  // trunk frames without timestamps: call number, length, data
  const plain = Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 0, 3, 232]), Buffer.from([0, 7, 0, 2, 9, 9])]);
  const p = parseFrame(plain);
  assert.ok(p.kind === 'trunk' && !p.withTimestamps);
  assert.deepEqual(
    p.entries.map((e) => [e.src, e.ts, [...e.data]]),
    [[7, -1, [9, 9]]],
  );
});

test('malformed datagrams are refused with Iax2ParseError, never another exception', () => {
  const bad = [
    Buffer.alloc(0),
    Buffer.from([0x80]),
    Buffer.from([0x80, 1, 0, 0, 0, 0, 0]), // full frame cut short
    Buffer.from([0, 0, 9, 0, 0, 0, 0, 0]), // unknown meta command
    Buffer.from([0, 0, 1, 1, 0, 0, 0, 0, 0, 200, 0, 1]), // trunk entry runs past the end
  ];
  for (const b of bad) assert.throws(() => parseFrame(b), Iax2ParseError, b.toString('hex'));
  const f = parseFrame(buildFull({ src: 1, dst: 0, ts: 0, oseq: 0, iseq: 0, type: FrameType.IAX, subclass: IaxCmd.NEW }, Buffer.from([1, 10, 0x41])));
  assert.ok(f.kind === 'full');
  assert.throws(() => Ies.parse(f.data), Iax2ParseError);
  // random bytes: either a frame or Iax2ParseError
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    const len = (seed = (seed * 1103515245 + 12345) >>> 0) % 64;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    try {
      const fr = parseFrame(b);
      if (fr.kind === 'full' && fr.type === FrameType.IAX) Ies.parse(fr.data);
    } catch (err) {
      assert.ok(err instanceof Iax2ParseError, String(err));
    }
  }
});
