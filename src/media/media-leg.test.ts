// Media legs on real loopback sockets with GSM 06.10: a leg that plays to a
// GSM phone sends payload type 3, and a GSM leg bridged to a µ-law leg
// transcodes both ways through PCM. The GSM side is libgsm (sox): its frames
// are what the "GSM phone" sends, and sox decodes what the phone receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { RtpRelay } from './rtp/rtp-relay.js';
import { MediaLeg } from './media-leg.js';
import { MediaClock } from './media-clock.js';
import { decodeUlaw, encodeUlaw } from './codecs/codec-g711.js';
import { readWavSamples } from './player/wav-file.js';
import type { CodecName } from './codecs/codec-registry.js';

const BASE = 46000 + (process.pid % 100) * 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Phone {
  sock: dgram.Socket;
  port: number;
  got: Buffer[];
}

async function phone(): Promise<Phone> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const p: Phone = { sock, port: (sock.address() as AddressInfo).port, got: [] };
  sock.on('message', (m) => p.got.push(m));
  return p;
}

function rtp(pt: number, seq: number, ts: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(12 + payload.length);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts, 4);
  h.writeUInt32BE(0x1234abcd, 8);
  h.set(payload, 12);
  return h;
}

function leg(relay: RtpRelay, clock: MediaClock, far: Phone, name: CodecName, pt: number): MediaLeg {
  const m = new MediaLeg(relay.allocatePair(), '127.0.0.1', 0, clock);
  m.configure({ address: '127.0.0.1', port: far.port, rtcpPort: far.port + 1, send: { name, pt }, receive: [{ name, pt }], dtmfPt: null, direction: 'sendrecv' });
  return m;
}

function tone(hz: number, n: number, amp = 8000): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / 8000)));
}

function correlation(a: Int16Array, b: Int16Array): number {
  const n = Math.min(a.length, b.length);
  let dot = 0,
    ea = 0,
    eb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    ea += a[i]! ** 2;
    eb += b[i]! ** 2;
  }
  return dot / Math.sqrt(ea * eb);
}

/** what a GSM phone received, as sox (libgsm) decodes it */
function soxDecode(dir: string, packets: Buffer[]): Int16Array {
  const gsm = join(dir, 'rx.gsm');
  const wav = join(dir, 'rx.wav');
  writeFileSync(gsm, Buffer.concat(packets.map((p) => p.subarray(12))));
  execFileSync('sox', [gsm, '-b', '16', '-e', 'signed-integer', wav], { timeout: 20_000 });
  return readWavSamples(wav);
}

test('a leg playing to a GSM phone sends payload type 3: 33-byte frames with the 0xD signature, timestamps +160, that libgsm decodes to the source', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leg-gsm-'));
  const relay = new RtpRelay({ address: '127.0.0.1', portMin: BASE, portMax: BASE + 9 });
  const clock = new MediaClock();
  const far = await phone();
  const m = leg(relay, clock, far, 'GSM', 3);
  try {
    await m.ep.ready();
    const src = tone(600, 160 * 25);
    let pos = 0;
    m.source = {
      nextFrame: (out) => {
        if (pos >= src.length) return false;
        out.set(src.subarray(pos, pos + 160));
        pos += 160;
        return true;
      },
    };
    m.start();
    await sleep(700);
    m.stop();
    const pkts = far.got.filter((p) => p.length > 12 && p[0]! >> 6 === 2 && (p[1]! & 0x7f) === 3);
    assert.equal(pkts.length, 25, `${far.got.length} packets received`);
    for (const [i, p] of pkts.entries()) {
      assert.equal(p.length - 12, 33);
      assert.equal(p[12]! >> 4, 0xd);
      if (i > 0) assert.equal((p.readUInt32BE(4) - pkts[i - 1]!.readUInt32BE(4)) >>> 0, 160);
    }
    const heard = soxDecode(dir, pkts);
    const c = correlation(src, heard);
    assert.ok(c > 0.98, `libgsm's decoding correlates ${c.toFixed(3)} with the source`);
    // a packet of garbage as payload type 3 (no 0xD signature) is decoded as silence, nothing throws
    far.sock.send(rtp(3, 1, 0, Buffer.alloc(33, 0x11)), m.port, '127.0.0.1');
    await sleep(50);
    assert.equal(m.ep.stats.packetsReceived, 1);
  } finally {
    m.close();
    far.sock.close();
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GSM leg bridged to a µ-law leg: libgsm frames reach the µ-law phone as µ-law, and 30 ms µ-law packets reach the GSM phone as whole GSM frames with consistent timestamps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leg-gsm-'));
  const relay = new RtpRelay({ address: '127.0.0.1', portMin: BASE, portMax: BASE + 9 });
  const clock = new MediaClock();
  const gsmPhone = await phone();
  const ulawPhone = await phone();
  const g = leg(relay, clock, gsmPhone, 'GSM', 3);
  const u = leg(relay, clock, ulawPhone, 'PCMU', 0);
  try {
    await Promise.all([g.ep.ready(), u.ep.ready()]);
    g.bridge(u);
    // the GSM phone: 1 s of 440 Hz as libgsm encodes it
    const src = join(dir, 'tone.wav');
    const frames = join(dir, 'tone.gsm');
    const ref = join(dir, 'ref.wav');
    execFileSync('sox', ['-D', '-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', src, 'synth', '1', 'sine', '440', 'vol', '0.3'], { timeout: 20_000 });
    execFileSync('sox', [src, frames], { timeout: 20_000 });
    execFileSync('sox', [frames, '-b', '16', '-e', 'signed-integer', ref], { timeout: 20_000 });
    const gsm = readFileSync(frames);
    for (let f = 0; f < gsm.length / 33; f++) {
      gsmPhone.sock.send(rtp(3, f, f * 160, gsm.subarray(f * 33, f * 33 + 33)), g.port, '127.0.0.1');
      await sleep(2);
    }
    // the µ-law phone: 1.2 s of 1000 Hz in 30 ms packets (240 samples)
    const talk = encodeUlaw(tone(1000, 240 * 40));
    for (let i = 0; i < 40; i++) {
      ulawPhone.sock.send(rtp(0, i, i * 240, talk.subarray(i * 240, i * 240 + 240)), u.port, '127.0.0.1');
      await sleep(2);
    }
    await sleep(100);
    const toUlaw = ulawPhone.got.filter((p) => (p[1]! & 0x7f) === 0);
    assert.equal(toUlaw.length, gsm.length / 33);
    const heardByUlaw = decodeUlaw(Buffer.concat(toUlaw.map((p) => p.subarray(12))));
    const cu = correlation(readWavSamples(ref), heardByUlaw);
    assert.ok(cu > 0.99, `the µ-law phone hears libgsm's decoding (correlation ${cu.toFixed(4)})`);
    const toGsm = gsmPhone.got.filter((p) => (p[1]! & 0x7f) === 3);
    // 40 × 240 samples = 60 whole frames, sent as they complete: one or two per
    // packet (RFC 3551 §4.5.8 allows several), each packet's timestamp counting
    // the samples of those before it
    let frameCount = 0;
    for (const [i, p] of toGsm.entries()) {
      assert.ok(p.length - 12 === 33 || p.length - 12 === 66, `payload of ${p.length - 12} bytes`);
      if (i > 0) assert.equal((p.readUInt32BE(4) - toGsm[i - 1]!.readUInt32BE(4)) >>> 0, ((toGsm[i - 1]!.length - 12) / 33) * 160);
      frameCount += (p.length - 12) / 33;
    }
    assert.equal(frameCount, 60);
    const cg = correlation(decodeUlaw(talk), soxDecode(dir, toGsm));
    assert.ok(cg > 0.98, `the GSM phone hears the µ-law phone (correlation ${cg.toFixed(3)})`);
  } finally {
    g.close();
    u.close();
    gsmPhone.sock.close();
    ulawPhone.sock.close();
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
