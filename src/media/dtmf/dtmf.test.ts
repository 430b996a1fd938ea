// DTMF from real captures and real tones: RFC 4733 events from
// SIP_DTMF2.cap and SIP INFO from DTMFsipinfo.pcap, checked against what
// tshark reports on the same files; in-band tones made by sox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapUdp } from '../../../test/helpers/pcap.js';
import { sharedTestdata } from '../../../test/helpers/paths.js';
import { parseMessage } from '../../sip-message/parser.js';
import { parseSdp } from '../sdp/parse-sdp.js';
import { Rfc4733Receiver, dtmfPackets, DTMF_EVENTS } from './rfc4733.js';
import { parseDtmfInfo } from './sip-info-dtmf.js';
import { InbandDtmfDetector } from './inband-detector.js';
import { readWavSamples } from '../player/wav-file.js';

const pcaps = (name: string): string => join(sharedTestdata('pcaps'), name);

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

test('RFC 4733: the digits in SIP_DTMF2.cap, once each, as tshark sees them', () => {
  const file = pcaps('SIP_DTMF2.cap');
  const udp = readPcapUdp(file);
  // the telephone-event payload types from the SDP in the capture
  const eventPts = new Set<number>();
  for (const d of udp) {
    const r = parseMessage(d.payload);
    if (!r.ok || r.msg.body.length === 0) continue;
    try {
      for (const m of parseSdp(r.msg.body).media) {
        for (const a of m.attributes) if (a.name === 'rtpmap' && /telephone-event/i.test(a.value ?? '')) eventPts.add(Number(a.value!.split(' ')[0]));
      }
    } catch {
      // not SDP
    }
  }
  assert.ok(eventPts.size > 0, 'the capture negotiates telephone-event');
  const receivers = new Map<number, { rx: Rfc4733Receiver; digits: string; ends: number }>();
  for (const d of udp) {
    const p = d.payload;
    if (p.length < 16 || p[0]! >> 6 !== 2 || !eventPts.has(p[1]! & 0x7f)) continue;
    let r = receivers.get(d.srcPort);
    if (!r) {
      const entry = { rx: new Rfc4733Receiver(), digits: '', ends: 0 };
      entry.rx.onDigit = (e) => (entry.digits += e.digit);
      entry.rx.onEnd = () => entry.ends++;
      receivers.set(d.srcPort, entry);
      r = entry;
    }
    const cc = p[0]! & 0x0f;
    r.rx.receive(p.subarray(12 + cc * 4), p.readUInt32BE(4));
  }
  const ours = [...receivers.values()].map((r) => r.digits).join('');
  // tshark: one line per event packet; an event is a distinct (source, timestamp)
  const lines = tshark(['-r', file, '-Y', 'rtpevent', '-T', 'fields', '-e', 'udp.srcport', '-e', 'rtp.timestamp', '-e', 'rtpevent.event_id']).trim().split('\n');
  const seen = new Set<string>();
  let theirs = '';
  for (const l of lines) {
    const [port, ts, ev] = l.split('\t');
    if (seen.has(`${port}/${ts}`)) continue;
    seen.add(`${port}/${ts}`);
    theirs += DTMF_EVENTS[Number(ev)];
  }
  assert.ok(theirs.length >= 5, `tshark found events: ${theirs}`);
  assert.equal(ours, theirs);
  // every event ended exactly once although end packets are sent several times
  assert.equal(
    [...receivers.values()].reduce((n, r) => n + r.ends, 0),
    theirs.length,
  );
});

test('RFC 4733: retransmitted end packets and a late start do not repeat the digit', () => {
  const rx = new Rfc4733Receiver();
  const got: string[] = [];
  rx.onDigit = (e) => got.push(e.digit);
  const ticks = dtmfPackets('5', 100);
  for (const tick of ticks) for (const p of tick) rx.receive(p.payload, 1000);
  for (const p of ticks[ticks.length - 1]!) rx.receive(p.payload, 1000);
  for (const tick of dtmfPackets('7', 60)) for (const p of tick) rx.receive(p.payload, 5000);
  rx.receive(ticks[0]![0]!.payload, 1000); // a very late retransmission of the first event
  assert.deepEqual(got, ['5', '7']);
});

test('RFC 4733 send: marker on the first packet, growing durations, three end packets with the final duration', () => {
  const ticks = dtmfPackets('#', 100, 10);
  assert.equal(ticks.length, 5);
  assert.equal(ticks[0]![0]!.marker, true);
  assert.equal(ticks[0]![0]!.payload[0], 11);
  assert.deepEqual(
    ticks.slice(0, 4).map((t) => t[0]!.payload.readUInt16BE(2)),
    [160, 320, 480, 640],
  );
  const last = ticks[4]!;
  assert.equal(last.length, 3);
  for (const p of last) {
    assert.equal(p.payload[1]! & 0x80, 0x80);
    assert.equal(p.payload.readUInt16BE(2), 800);
    assert.equal(p.marker, false);
  }
});

test('SIP INFO: the digits of DTMFsipinfo.pcap, as tshark shows the bodies', () => {
  const file = pcaps('DTMFsipinfo.pcap');
  let ours = '';
  for (const d of readPcapUdp(file)) {
    const r = parseMessage(d.payload);
    if (!r.ok || !r.msg.isRequest || r.msg.method !== 'INFO') continue;
    const digit = parseDtmfInfo(r.msg.get('content-type'), r.msg.body.toString('utf8'));
    if (digit) ours += digit;
  }
  const verbose = tshark(['-r', file, '-Y', 'sip.Method == "INFO"', '-V']);
  const theirs = [...verbose.matchAll(/Signal=\s*([0-9*#A-D])/g)].map((m) => m[1]).join('');
  assert.ok(theirs.length >= 2, `tshark found INFO digits: ${theirs}`);
  assert.equal(ours, theirs);
  assert.equal(parseDtmfInfo('application/dtmf', '#\r\n'), '#');
  assert.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=11\r\nDuration=100'), '#');
  assert.equal(parseDtmfInfo('text/plain', 'Signal=1'), null);
});

test('in-band: sox-made tones 1234# (with twist and noise) decode to 1234#, each once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtmf-'));
  try {
    const tones: Record<string, [number, number]> = { '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], '4': [770, 1209], '#': [941, 1477], '0': [941, 1336] };
    const parts: string[] = [];
    let i = 0;
    for (const d of '1234#') {
      const [lo, hi] = tones[d]!;
      const f = join(dir, `d${i++}.wav`);
      // a long press (150 ms) with 3 dB twist, then 100 ms of quiet noise
      execFileSync(
        'sox',
        ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', f, 'synth', '0.15', 'sine', String(lo), 'sine', String(hi), 'remix', '1v0.3,2v0.42', 'pad', '0', '0.1'],
        { timeout: 10_000 },
      );
      parts.push(f);
    }
    const seq = join(dir, 'seq.wav');
    execFileSync('sox', [...parts, seq], { timeout: 10_000 });
    const noisy = join(dir, 'noisy.wav');
    execFileSync('sox', ['-m', seq, '|sox -n -r 8000 -c 1 -b 16 -e signed-integer -p synth 1.25 whitenoise vol 0.01', noisy], { timeout: 10_000 });
    const det = new InbandDtmfDetector();
    let got = '';
    det.onDigit = (d) => (got += d);
    const pcm = readWavSamples(noisy);
    for (let o = 0; o < pcm.length; o += 160) det.push(pcm.subarray(o, o + 160));
    assert.equal(got, '1234#');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in-band: a single tone, speech-like noise and silence report nothing', () => {
  const det = new InbandDtmfDetector();
  let got = '';
  det.onDigit = (d) => (got += d);
  const pcm = new Int16Array(8000);
  for (let i = 0; i < 4000; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 697 * i) / 8000)); // row tone only
  for (let i = 4000; i < 8000; i++) pcm[i] = Math.round((Math.random() - 0.5) * 8000);
  det.push(pcm);
  det.push(new Int16Array(1600));
  assert.equal(got, '');
});

test('in-band: a long press with a 25 ms dropout in the middle is still one digit; two presses 60 ms apart are two', () => {
  const det = new InbandDtmfDetector();
  let got = '';
  det.onDigit = (d) => (got += d);
  const tone = (ms: number): Int16Array =>
    Int16Array.from({ length: ms * 8 }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 852 * i) / 8000) + 6000 * Math.sin((2 * Math.PI * 1477 * i) / 8000)));
  det.push(tone(200));
  det.push(new Int16Array(200)); // 25 ms gap
  det.push(tone(200));
  det.push(new Int16Array(8 * 60));
  det.push(tone(120));
  det.push(new Int16Array(800));
  assert.equal(got, '99');
});
