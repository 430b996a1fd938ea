// The CDR keeps what each party reported about the media it received:
// RTCP SR/RR loss and jitter, and from RTCP XR (RFC 3611 §4.7) its MOS and
// the round trip (migration 6 columns), and reads them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpStreamStats } from '../media/quality/rtp-stream-stats.js';
import { DEFAULT_QUALITY, judge, legQuality } from '../media/quality/call-quality.js';
import { cdrQuality, fromQualityRow, toQualityRow } from './cdr-quality.js';

function rtp(seq: number, ts: number): Buffer {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(0x11223344, 8);
  return b;
}

test('the CDR row carries the party’s RTCP loss and jitter and its XR MOS and round trip; NULL where it sent none', () => {
  const s = new RtpStreamStats();
  for (let i = 0; i < 50; i++) s.onRtp(rtp(i + 1, i * 160), i * 20);
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE((64 << 24) | 12, 12); // fraction lost 64/256
  rr.writeUInt32BE(80, 20); // 10 ms at 8 kHz
  const xr = Buffer.alloc(8 + 36);
  xr[0] = 0x80;
  xr[1] = 207;
  xr.writeUInt16BE(xr.length / 4 - 1, 2);
  xr[8] = 7;
  xr.writeUInt16BE(8, 10);
  xr[16] = 13; // loss rate
  xr.writeUInt16BE(42, 24); // round trip, ms
  xr[32] = 88; // R
  xr[34] = 41; // MOS-LQ ×10
  xr[35] = 40; // MOS-CQ ×10
  s.onRtcp(Buffer.concat([rr, xr]));
  const q = cdrQuality(judge(legQuality(s), legQuality(new RtpStreamStats()), DEFAULT_QUALITY))!;
  assert.equal(q.a!.farLossPct, 25, 'the RR’s fraction lost');
  assert.equal(q.a!.farJitterMs, 10);
  assert.equal(q.a!.farMos, 4.1);
  assert.equal(q.a!.farRttMs, 42);
  const row = toQualityRow(q);
  assert.equal(row.rtp_a_far_loss_pct, 25);
  assert.equal(row.rtp_a_far_jitter_ms, 10);
  assert.equal(row.rtp_a_far_mos, 4.1);
  assert.equal(row.rtp_a_far_rtt_ms, 42);
  assert.equal(row.rtp_b_far_mos, null);
  assert.deepEqual(fromQualityRow(row)!.a, q.a);

  const silent = new RtpStreamStats();
  for (let i = 0; i < 10; i++) silent.onRtp(rtp(i + 1, i * 160), i * 20);
  const none = toQualityRow(cdrQuality(judge(legQuality(silent), null, DEFAULT_QUALITY)));
  assert.equal(none.rtp_a_far_loss_pct, null, 'no report, no figure (not 0)');
  assert.equal(none.rtp_a_far_mos, null);
});
