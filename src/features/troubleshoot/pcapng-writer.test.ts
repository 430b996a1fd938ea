// The pcapng writer against the format (draft-ietf-opsawg-pcapng §3-4: block
// lengths repeated, 32-bit alignment, options, timestamps) and against real
// readers: capinfos and tshark open what it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINKTYPE_RAW, PcapngWriter } from './pcapng-writer.js';
import { udpPacket } from './ip-udp.js';

interface Block {
  type: number;
  length: number;
  body: Buffer;
}

function blocks(file: Buffer): Block[] {
  const out: Block[] = [];
  let at = 0;
  while (at < file.length) {
    const type = file.readUInt32LE(at);
    const length = file.readUInt32LE(at + 4);
    assert.equal(length % 4, 0, `block at ${at}: length ${length} not a multiple of 4`);
    assert.equal(file.readUInt32LE(at + length - 4), length, `block at ${at}: trailing length differs`);
    out.push({ type, length, body: file.subarray(at + 8, at + length - 4) });
    at += length;
  }
  assert.equal(at, file.length);
  return out;
}

function options(buf: Buffer): Array<{ code: number; value: Buffer }> {
  const out: Array<{ code: number; value: Buffer }> = [];
  let at = 0;
  while (at + 4 <= buf.length) {
    const code = buf.readUInt16LE(at);
    const len = buf.readUInt16LE(at + 2);
    if (code === 0) break;
    out.push({ code, value: buf.subarray(at + 4, at + 4 + len) });
    at += 4 + ((len + 3) & ~3);
  }
  return out;
}

const SIP = Buffer.from(
  'OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\n' +
    'Call-ID: c1@x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
);

function sample(): Buffer {
  const w = new PcapngWriter({ comment: 'a section comment', application: 'Palisade' });
  const ifc = w.addInterface(LINKTYPE_RAW, { name: 'palisade' });
  w.addPacket(ifc, { tsMicros: 1_700_000_000_123_456n, data: udpPacket({ address: '127.0.0.1', port: 5061 }, { address: '127.0.0.1', port: 5060 }, SIP), comment: 'odd' });
  w.addPacket(ifc, { tsMicros: 1_700_000_001_000_001n, data: udpPacket({ address: '::1', port: 5061 }, { address: '::1', port: 5060 }, SIP) });
  const rtpHeader = Buffer.from('80000001000000a0deadbeef', 'hex');
  const pkt = udpPacket({ address: '127.0.0.1', port: 40000 }, { address: '127.0.0.1', port: 41000 }, rtpHeader, 172);
  w.addPacket(ifc, { tsMicros: 1_700_000_001_020_001n, data: pkt, originalLength: pkt.length + 160 });
  return w.toBuffer();
}

test('every block repeats its length, is 32-bit aligned, and the section starts with the byte-order magic', () => {
  const b = blocks(sample());
  assert.deepEqual(
    b.map((x) => x.type),
    [0x0a0d0d0a, 1, 6, 6, 6],
  );
  const shb = b[0]!.body;
  assert.equal(shb.readUInt32LE(0), 0x1a2b3c4d);
  assert.equal(shb.readUInt16LE(4), 1);
  assert.equal(shb.readUInt16LE(6), 0);
  assert.equal(shb.readBigInt64LE(8), -1n);
  const so = options(shb.subarray(16));
  assert.deepEqual(
    so.map((o) => [o.code, o.value.toString()]),
    [
      [1, 'a section comment'],
      [4, 'Palisade'],
    ],
  );
  const idb = b[1]!.body;
  assert.equal(idb.readUInt16LE(0), LINKTYPE_RAW);
  const io = options(idb.subarray(8));
  assert.deepEqual(
    io.map((o) => o.code),
    [2, 9],
  );
  assert.equal(io[1]!.value[0], 6, 'if_tsresol: microseconds');
});

test('an Enhanced Packet Block carries the timestamp split in two 32-bit halves, captured and original lengths, and its comment', () => {
  const [, , first, , third] = blocks(sample());
  const e = first!.body;
  assert.equal(e.readUInt32LE(0), 0);
  const ts = (BigInt(e.readUInt32LE(4)) << 32n) | BigInt(e.readUInt32LE(8));
  assert.equal(ts, 1_700_000_000_123_456n);
  const cap = e.readUInt32LE(12);
  assert.equal(cap, 28 + SIP.length);
  assert.equal(e.readUInt32LE(16), cap);
  const opts = options(e.subarray(20 + ((cap + 3) & ~3)));
  assert.deepEqual(
    opts.map((o) => o.value.toString()),
    ['odd'],
  );
  const r = third!.body;
  assert.equal(r.readUInt32LE(12), 28 + 12);
  assert.equal(r.readUInt32LE(16), 28 + 172);
});

test('capinfos and tshark read the file: 3 packets, SIP decoded over IPv4 and IPv6, times to the microsecond, no malformed packets', (t) => {
  if (spawnSync('tshark', ['--version']).status !== 0) return t.skip('tshark not installed');
  const dir = mkdtempSync(join(tmpdir(), 'pal-pcapng-'));
  try {
    const f = join(dir, 'x.pcapng');
    writeFileSync(f, sample());
    const ci = spawnSync('capinfos', ['-c', '-t', '-E', '-M', f], { encoding: 'utf8' });
    assert.equal(ci.status, 0, ci.stderr);
    assert.match(ci.stdout, /File type:\s+pcapng/);
    assert.match(ci.stdout, /Number of packets:\s+3/);
    assert.match(ci.stdout, /File encapsulation:\s+rawip/);
    const fields = spawnSync(
      'tshark',
      ['-r', f, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'ip.version', '-e', 'ipv6.version', '-e', '_ws.col.Protocol', '-e', 'frame.comment'],
      { encoding: 'utf8' },
    );
    assert.equal(fields.status, 0, fields.stderr);
    const rows = fields.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, 3);
    assert.equal(rows[0]![0], '1700000000.123456000');
    assert.equal(rows[0]![3], 'SIP');
    assert.equal(rows[0]![4], 'odd');
    assert.equal(rows[1]![2], '6');
    assert.equal(rows[1]![3], 'SIP');
    const bad = spawnSync('tshark', ['-r', f, '-Y', '_ws.malformed || _ws.expert.severity >= "error"'], { encoding: 'utf8' });
    assert.equal(bad.stdout.trim(), '', 'malformed packets');
    const checks = spawnSync(
      'tshark',
      ['-r', f, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-e', 'ip.checksum.status', '-e', 'udp.checksum.status'],
      { encoding: 'utf8' },
    );
    const st = checks.stdout.trim().split('\n');
    assert.equal(st[0], '1\t1', 'IPv4 header and UDP checksums good (1 = good, 0 = bad, 2 = unverified)');
    assert.equal(st[1], '\t1', 'IPv6 UDP checksum good');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
