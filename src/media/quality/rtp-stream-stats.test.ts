// The stats engine on hand-built packet sequences: loss, reordering,
// duplicates, sequence wrap-around, jitter and delta on a known timeline,
// RTCP receiver reports, and the MOS estimate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpStreamStats } from './rtp-stream-stats.js';
import { estimateMos, mosFromR, rFactor } from './e-model.js';
import { judge, legQuality, OneWayWatch, DEFAULT_QUALITY } from './call-quality.js';

function rtp(seq: number, ts: number, opts: { pt?: number; marker?: boolean; ssrc?: number } = {}): Buffer {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b[1] = (opts.marker ? 0x80 : 0) | (opts.pt ?? 0);
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(opts.ssrc ?? 0x11223344, 8);
  return b;
}

/** feeds sequence numbers (20 ms, 160 samples apart by seq) at the given arrival times */
function feed(s: RtpStreamStats, seqs: number[], at: (i: number, seq: number) => number, base = 1000): void {
  seqs.forEach((seq, i) => {
    s.onRtp(rtp(seq, ((seq - base) & 0xffff) * 160 + 5000), at(i, seq));
  });
}

test('a clean 20 ms stream: no loss, zero jitter, max delta 20 ms, ptime 20, PCMU', () => {
  const s = new RtpStreamStats();
  const seqs = Array.from({ length: 100 }, (_, i) => 1000 + i);
  feed(s, seqs, (i) => i * 20);
  const q = s.snapshot();
  assert.equal(q.packets, 100);
  assert.equal(q.lost, 0);
  assert.equal(q.sequenceErrors, 0);
  assert.equal(q.jitterMeanMs, 0);
  assert.equal(q.maxDeltaMs, 20);
  assert.equal(q.ptimeMs, 20);
  assert.equal(q.codec, 'PCMU');
});

test('lost packets: expected − received over the sequence span, loss % of expected, one sequence error per gap', () => {
  const s = new RtpStreamStats();
  const seqs = Array.from({ length: 100 }, (_, i) => 1000 + i).filter((q) => q !== 1010 && q !== 1011 && q !== 1050);
  feed(s, seqs, (_i, seq) => (seq - 1000) * 20);
  const q = s.snapshot();
  assert.equal(q.packets, 97);
  assert.equal(q.expected, 100);
  assert.equal(q.lost, 3);
  assert.equal(q.lossPct, 3);
  assert.equal(q.sequenceErrors, 2);
  assert.equal(q.maxDeltaMs, 60, 'the gap over two lost packets');
});

test('reordering and duplicates are told apart; neither counts as loss', () => {
  const s = new RtpStreamStats();
  feed(s, [1000, 1001, 1003, 1002, 1004, 1004, 1005], (i) => i * 20);
  const q = s.snapshot();
  assert.equal(q.packets, 7);
  assert.equal(q.outOfOrder, 1);
  assert.equal(q.duplicates, 1);
  // Wireshark counts one more packet than expected when a duplicate arrives: lost −1
  assert.equal(q.lost, -1);
  assert.equal(q.sequenceErrors, 3, 'the jump, the late one, the duplicate');
});

test('sequence numbers wrap at 65535 without a loss or a cycle error', () => {
  const s = new RtpStreamStats();
  const seqs = Array.from({ length: 40 }, (_, i) => (65520 + i) & 0xffff);
  feed(s, seqs, (i) => i * 20, 65520);
  const q = s.snapshot();
  assert.equal(q.packets, 40);
  assert.equal(q.expected, 40);
  assert.equal(q.lost, 0);
  assert.equal(q.sequenceErrors, 0);
  assert.equal(q.duplicates + q.outOfOrder, 0);
});

test('loss across the wrap is still counted', () => {
  const s = new RtpStreamStats();
  const seqs = Array.from({ length: 40 }, (_, i) => (65520 + i) & 0xffff).filter((x) => x !== 65535 && x !== 0);
  feed(s, seqs, (_i, seq) => ((seq - 65520) & 0xffff) * 20, 65520);
  assert.equal(s.snapshot().lost, 2);
});

test('jitter: RFC 3550 A.8 J += (|D| − J)/16 in ms at the payload clock; max delta follows the late packet', () => {
  const s = new RtpStreamStats();
  // packet 2 arrives 8 ms late, everything else on time
  const arrivals = [0, 20, 48, 60, 80];
  feed(s, [1000, 1001, 1002, 1003, 1004], (i) => arrivals[i]!);
  const q = s.snapshot();
  const j2 = 8 / 16;
  const j3 = (15 * j2 + 8) / 16;
  const j4 = (15 * j3) / 16;
  assert.ok(Math.abs(q.jitterMaxMs - j3) < 1e-9, `max ${q.jitterMaxMs}`);
  assert.ok(Math.abs(q.jitterMeanMs - (0 + j2 + j3 + j4) / 4) < 1e-9, `mean ${q.jitterMeanMs}`);
  assert.equal(q.maxDeltaMs, 28);
});

test('a new SSRC keeps the earlier figures and restarts the sequence baseline', () => {
  const s = new RtpStreamStats();
  for (let i = 0; i < 10; i++) s.onRtp(rtp(100 + i, i * 160, { ssrc: 1 }), i * 20);
  for (let i = 0; i < 10; i++) if (i !== 5) s.onRtp(rtp(5000 + i, 9999 + i * 160, { ssrc: 2 }), 200 + i * 20);
  const q = s.snapshot();
  assert.equal(q.packets, 19);
  assert.equal(q.lost, 1);
});

test('RTCP RR: fraction lost, cumulative lost and jitter of the first report block', () => {
  const s = new RtpStreamStats();
  s.onRtp(rtp(1, 0, { pt: 8 }), 0);
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(0xaaaa, 4);
  rr.writeUInt32BE(0xbbbb, 8);
  rr.writeUInt32BE((64 << 24) | 12, 12); // fraction 64/256, 12 lost
  rr.writeUInt32BE(80, 20); // jitter 80 timestamp units = 10 ms at 8 kHz
  s.onRtcp(rr);
  const far = s.snapshot().farEnd!;
  assert.equal(far.reports, 1);
  assert.equal(far.fractionLost, 0.25);
  assert.equal(far.cumulativeLost, 12);
  assert.equal(far.jitterMs, 10);
});

/** an RTCP XR packet (RFC 3611) with a receiver reference time block (BT=4, passed over) and a VoIP Metrics block (BT=7) */
function xr(o: { loss: number; discard: number; rtt: number; esd: number; r: number; mosLq: number; mosCq: number }): Buffer {
  const b = Buffer.alloc(8 + 12 + 36);
  b[0] = 0x80;
  b[1] = 207;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(0xaaaa, 4);
  // BT=4 receiver reference time: 2 words of NTP timestamp
  b[8] = 4;
  b.writeUInt16BE(2, 10);
  let p = 20;
  b[p] = 7;
  b.writeUInt16BE(8, p + 2);
  b.writeUInt32BE(0xbbbb, p + 4);
  b[p + 8] = o.loss;
  b[p + 9] = o.discard;
  b.writeUInt16BE(o.rtt, p + 16);
  b.writeUInt16BE(o.esd, p + 18);
  b[p + 24] = o.r;
  b[p + 25] = 127;
  b[p + 26] = o.mosLq;
  b[p + 27] = o.mosCq;
  p += 36;
  return b;
}

test('RTCP XR (RFC 3611 §4.7): the VoIP Metrics block gives the party’s loss and discard rates, round trip, R factor and MOS; 127 means unavailable', () => {
  const s = new RtpStreamStats();
  s.onRtp(rtp(1, 0, { pt: 0 }), 0);
  s.onRtcp(xr({ loss: 13, discard: 5, rtt: 42, esd: 60, r: 88, mosLq: 41, mosCq: 40 }));
  let far = s.snapshot().farEnd!;
  assert.equal(far.reports, 0, 'no SR/RR was sent');
  assert.deepEqual(far.xr, { reports: 1, lossPct: (13 * 100) / 256, discardPct: (5 * 100) / 256, roundTripMs: 42, endSystemDelayMs: 60, rFactor: 88, mosLq: 4.1, mosCq: 4 });
  s.onRtcp(xr({ loss: 0, discard: 0, rtt: 0, esd: 0, r: 127, mosLq: 127, mosCq: 127 }));
  far = s.snapshot().farEnd!;
  assert.deepEqual(far.xr, { reports: 2, lossPct: 0, discardPct: 0, roundTripMs: null, endSystemDelayMs: null, rFactor: null, mosLq: null, mosCq: null });
  // a truncated block is not read
  const cut = xr({ loss: 200, discard: 0, rtt: 1, esd: 1, r: 1, mosLq: 10, mosCq: 10 }).subarray(0, 40);
  cut.writeUInt16BE(cut.length / 4 - 1, 2);
  s.onRtcp(cut);
  assert.equal(s.snapshot().farEnd!.xr!.reports, 2);
});

test('malformed packets are counted and ignored; switched off, nothing is counted', () => {
  const s = new RtpStreamStats();
  s.onRtp(Buffer.from([0x80, 0, 0]), 0);
  s.onRtp(Buffer.alloc(20), 0); // version 0
  assert.equal(s.snapshot().malformed, 2);
  assert.equal(s.packets, 0);
  const off = new RtpStreamStats();
  off.enabled = false;
  off.onRtp(rtp(1, 0), 0);
  assert.equal(off.packets, 0);
});

test('E-model: G.711 without loss ≈ 4.4; 10 % loss falls below the default 3.6; G.107 Annex B end points', () => {
  const clean = estimateMos({ lossPct: 0, jitterMeanMs: 0, ptimeMs: 20, payloadType: 0 });
  assert.ok(clean > 4.35 && clean < 4.45, String(clean));
  const lossy = estimateMos({ lossPct: 10, jitterMeanMs: 2, ptimeMs: 20, payloadType: 8 });
  assert.ok(lossy < 3.6 && lossy > 3, String(lossy));
  assert.ok(rFactor({ lossPct: 0, jitterMeanMs: 0, ptimeMs: 20, payloadType: 18 }) < rFactor({ lossPct: 0, jitterMeanMs: 0, ptimeMs: 20, payloadType: 0 }), 'G.729 Ie 11');
  assert.equal(mosFromR(0), 1);
  assert.equal(mosFromR(100), 4.5);
});

test('judge flags the leg past a threshold; the one-way watch names the silent side', () => {
  const good = new RtpStreamStats();
  const bad = new RtpStreamStats();
  for (let i = 0; i < 100; i++) {
    good.onRtp(rtp(i, i * 160), i * 20);
    if (i % 10 !== 3) bad.onRtp(rtp(i, i * 160), i * 20);
  }
  const q = judge(legQuality(good), legQuality(bad), DEFAULT_QUALITY);
  assert.deepEqual(q.flags, ['poor-b']);
  const got: string[] = [];
  const counts = { a: 50, b: 0 };
  const w = new OneWayWatch(
    (leg) => counts[leg],
    (silent) => got.push(silent),
  );
  assert.equal(w.check(), 'b');
  assert.equal(w.check(), 'b');
  assert.deepEqual(got, ['b'], 'reported once');
  const both = new OneWayWatch(
    () => 0,
    () => assert.fail('nobody sent: not one-way'),
  );
  assert.equal(both.check(), null);
});
