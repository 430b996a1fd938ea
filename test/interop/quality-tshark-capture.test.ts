// Palisade's per-stream quality figures against tshark's RTP stream analysis
// (`tshark -z rtp,streams`) on the shared real captures: each RTP packet of a
// capture is fed, with its capture time, to RtpStreamStats, and every stream
// tshark lists must come out with the same packets, lost, max delta, mean
// and max jitter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPcapUdp } from '../helpers/pcap.js';
import { tsharkRtpStreams, type TsharkStream } from '../helpers/rtp-streams.js';
import { RtpStreamStats } from '../../src/media/quality/rtp-stream-stats.js';
import { writeJitterPcap } from '../helpers/jitter-pcap.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const PCAPS = '/work/shared/testdata/pcaps';

function key(src: string, sp: number, dst: string, dp: number, ssrc: number): string {
  return `${src}:${sp}>${dst}:${dp}#${ssrc >>> 0}`;
}

/** Our figures for each stream tshark found, fed the same packets. */
function ours(pcap: string, streams: TsharkStream[], dynamic: Record<number, [string, number]> = {}): Map<string, RtpStreamStats> {
  const stats = new Map<string, RtpStreamStats>();
  for (const s of streams) {
    const st = new RtpStreamStats();
    for (const [pt, [name, rate]] of Object.entries(dynamic)) st.setPayloadType(Number(pt), name, rate);
    stats.set(key(s.src, s.srcPort, s.dst, s.dstPort, s.ssrc), st);
  }
  for (const d of readPcapUdp(pcap)) {
    if (d.payload.length < 12) continue;
    const st = stats.get(key(d.src, d.srcPort, d.dst, d.dstPort, d.payload.readUInt32BE(8)));
    st?.onRtp(d.payload, d.timeMs);
  }
  return stats;
}

const CASES: Array<{ file: string; dynamic?: Record<number, [string, number]>; opts?: string[] }> = [
  { file: 'sip-rtp-g711.pcap' },
  { file: 'SIP_DTMF2.cap', dynamic: { 96: ['telephone-event', 8000] } },
  { file: 'aaa.pcap', opts: ['-o', 'rtp.heuristic_rtp:TRUE'] },
];

for (const c of CASES) {
  test(`${c.file}: packets, lost, max delta, mean and max jitter as tshark -z rtp,streams reports them`, {
    skip: !existsSync(join(PCAPS, c.file)) && 'shared captures not present',
  }, () => {
    const pcap = join(PCAPS, c.file);
    const streams = tsharkRtpStreams(pcap, c.opts ?? []);
    assert.ok(streams.length > 0, 'tshark found RTP streams');
    const mine = ours(pcap, streams, c.dynamic);
    for (const s of streams) {
      const q = mine.get(key(s.src, s.srcPort, s.dst, s.dstPort, s.ssrc))!.snapshot();
      const what = `${c.file} 0x${s.ssrc.toString(16)}`;
      assert.equal(q.packets, s.packets, `${what} packets`);
      assert.equal(q.lost, s.lost, `${what} lost`);
      // tshark prints three decimals
      assert.ok(Math.abs(q.maxDeltaMs - s.maxDeltaMs) <= 0.0015, `${what} max delta ${q.maxDeltaMs} vs ${s.maxDeltaMs}`);
      assert.ok(Math.abs(q.jitterMeanMs - s.meanJitterMs) <= 0.0015, `${what} mean jitter ${q.jitterMeanMs} vs ${s.meanJitterMs}`);
      assert.ok(Math.abs(q.jitterMaxMs - s.maxJitterMs) <= 0.0015, `${what} max jitter ${q.jitterMaxMs} vs ${s.maxJitterMs}`);
    }
  });
}

test('impaired streams (loss, reordering, duplicates, send jitter): the same figures as tshark on the same file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-quality-'));
  try {
    for (const seed of [3, 5, 7, 11]) {
      const pcap = join(dir, `impaired-${seed}.pcap`);
      writeJitterPcap(pcap, { seconds: 5, jitterMs: 30, lossPct: 10, reorderPct: 3, dupPct: 2, seed });
      const streams = tsharkRtpStreams(pcap, ['-d', 'udp.port==6000,rtp']);
      assert.equal(streams.length, 1);
      const s = streams[0]!;
      const q = ours(pcap, streams).values().next().value!.snapshot();
      assert.deepEqual(
        [q.packets, q.lost, q.maxDeltaMs.toFixed(3), q.jitterMeanMs.toFixed(3), q.jitterMaxMs.toFixed(3)],
        [s.packets, s.lost, s.maxDeltaMs.toFixed(3), s.meanJitterMs.toFixed(3), s.maxJitterMs.toFixed(3)],
        `seed ${seed}`,
      );
      assert.ok(q.duplicates > 0 && q.outOfOrder > 0, 'the file has duplicates and reordering');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
