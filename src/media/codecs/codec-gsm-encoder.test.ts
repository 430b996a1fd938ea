// The GSM 06.10 encoder against the reference, libgsm (through sox): the
// same 16-bit input must give the same 33-byte frames, bit for bit — speech
// from espeak-ng, tones, a sweep, full-scale noise and square waves that
// drive every saturation in the fixed-point arithmetic. And sox must decode
// our frames back to the input (correlation, SNR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GsmEncoder } from './codec-gsm-encoder.js';
import { GsmDecoder } from './codec-gsm.js';
import { CODECS, encoderFor } from './codec-registry.js';
import { readWavSamples } from '../player/wav-file.js';

const PCM = ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
const sox = (...args: string[]): void => void execFileSync('sox', args, { timeout: 20_000, stdio: ['ignore', 'ignore', 'pipe'] });

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gsm-enc-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** our frames for every whole 160 samples */
function encodeAll(pcm: Int16Array): Uint8Array {
  const enc = new GsmEncoder();
  const frames = Math.floor(pcm.length / 160);
  const out = new Uint8Array(frames * 33);
  for (let f = 0; f < frames; f++) enc.encodeFrame(pcm, out, f * 160, f * 33);
  return out;
}

/** libgsm's frames for the same samples (sox pads a last partial frame; it is not compared) */
function libgsmFrames(dir: string, pcm: Int16Array): Buffer {
  const raw = join(dir, 'in.raw');
  const gsm = join(dir, 'ref.gsm');
  writeFileSync(raw, pcm);
  sox('-D', '-t', 'raw', ...PCM, raw, gsm);
  return readFileSync(gsm);
}

function compareFrames(name: string, ours: Uint8Array, ref: Buffer): void {
  const frames = ours.length / 33;
  assert.ok(frames > 0 && ref.length >= ours.length, `${name}: ${frames} frames, libgsm ${ref.length / 33}`);
  for (let f = 0; f < frames; f++) {
    const a = Buffer.from(ours.subarray(f * 33, f * 33 + 33)).toString('hex');
    const b = ref.subarray(f * 33, f * 33 + 33).toString('hex');
    assert.equal(a, b, `${name}: frame ${f} differs from libgsm`);
  }
}

function quality(ref: Int16Array, got: Int16Array): { corr: number; snr: number } {
  const n = Math.min(ref.length, got.length);
  let dot = 0,
    ea = 0,
    eb = 0,
    noise = 0;
  for (let i = 0; i < n; i++) {
    dot += ref[i]! * got[i]!;
    ea += ref[i]! ** 2;
    eb += got[i]! ** 2;
    noise += (ref[i]! - got[i]!) ** 2;
  }
  return { corr: dot / Math.sqrt(ea * eb), snr: 10 * Math.log10(ea / Math.max(noise, 1)) };
}

function speech(dir: string): Int16Array {
  const wide = join(dir, 'speech-22k.wav');
  const wav = join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-w', wide, 'the quick brown fox jumps over the lazy dog, one two three four five'], { timeout: 20_000 });
  sox('-D', wide, ...PCM, wav);
  return readWavSamples(wav);
}

function synth(dir: string, name: string, ...effects: string[]): Int16Array {
  const wav = join(dir, `${name}.wav`);
  sox('-D', '-n', ...PCM, wav, ...effects);
  return readWavSamples(wav);
}

test('§4.2 encoder: speech gives the same frames as libgsm, bit for bit', () => {
  withDir((dir) => {
    const pcm = speech(dir);
    compareFrames('speech', encodeAll(pcm), libgsmFrames(dir, pcm));
  });
});

test('§4.2 encoder: tones, a sweep, silence, DC and full-scale signals (saturating arithmetic) match libgsm bit for bit', () => {
  withDir((dir) => {
    const signals: Record<string, Int16Array> = {
      tone: synth(dir, 'tone', 'synth', '2', 'sine', '700', 'vol', '0.5'),
      sweep: synth(dir, 'sweep', 'synth', '2', 'sine', '100-3900', 'vol', '0.99'),
      square: synth(dir, 'square', 'synth', '1', 'square', '200'),
      noise: synth(dir, 'noise', 'synth', '2', 'whitenoise'),
      quiet: synth(dir, 'quiet', 'synth', '1', 'pinknoise', 'vol', '0.001'),
      silence: synth(dir, 'silence', 'trim', '0', '0.5'),
      dc: synth(dir, 'dc', 'synth', '0.5', 'square', '25', 'vol', '0.5', 'dcshift', '-0.5'),
    };
    // and uniformly random samples over the whole 16-bit range, -32768 included
    let seed = 7;
    const rnd = new Int16Array(160 * 100);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    signals.random = rnd;
    for (const [name, pcm] of Object.entries(signals)) compareFrames(name, encodeAll(pcm), libgsmFrames(dir, pcm));
  });
});

test('RFC 3551 §4.5.8: every frame is 33 bytes starting with the 0xD signature, and sox decodes ours back to the input', (t) => {
  withDir((dir) => {
    const cases = { speech: speech(dir), tone: synth(dir, 'tone', 'synth', '2', 'sine', '700', 'vol', '0.5') };
    const floor: Record<string, { corr: number; snr: number }> = { speech: { corr: 0.9, snr: 8 }, tone: { corr: 0.99, snr: 20 } };
    for (const [name, pcm] of Object.entries(cases)) {
      const ours = encodeAll(pcm);
      for (let f = 0; f < ours.length / 33; f++) assert.equal(ours[f * 33]! >> 4, 0xd, `${name}: frame ${f} signature`);
      const gsm = join(dir, `${name}.gsm`);
      const back = join(dir, `${name}-back.wav`);
      writeFileSync(gsm, ours);
      sox(gsm, '-b', '16', '-e', 'signed-integer', back);
      const bySox = quality(pcm, readWavSamples(back));
      const byUs = quality(pcm, new GsmDecoder().decodePayload(ours));
      assert.ok(bySox.corr > floor[name]!.corr, `${name}: sox's decoding correlates ${bySox.corr.toFixed(3)} with the input`);
      assert.ok(bySox.snr > floor[name]!.snr, `${name}: SNR ${bySox.snr.toFixed(1)} dB`);
      // our decoder is bit-exact too: the same signal either way
      assert.equal(byUs.snr.toFixed(6), bySox.snr.toFixed(6));
      t.diagnostic(`${name}: decoded by sox, correlation ${bySox.corr.toFixed(3)}, SNR ${bySox.snr.toFixed(1)} dB`);
    }
  });
});

test('a payload encoder keeps what is left under 160 samples for the next call (10 and 30 ms G.711 peers)', () => {
  const pcm = new Int16Array(160 * 6);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(9000 * Math.sin(i * 0.11) + 3000 * Math.sin(i * 0.7));
  const whole = encodeAll(pcm);
  const enc = new GsmEncoder();
  const got: number[] = [];
  let at = 0;
  for (const n of [240, 80, 80, 240, 120, 200]) {
    const payload = enc.encode(pcm.subarray(at, at + n));
    assert.equal(payload.length % 33, 0);
    got.push(...payload);
    at += n;
  }
  assert.equal(at, pcm.length);
  assert.deepEqual(Uint8Array.from(got), whole);
});

test('registry: GSM is encoded as well as decoded; each encoder keeps its own state', () => {
  assert.equal(CODECS.GSM.encodes, true);
  const a = encoderFor('GSM')!;
  const b = encoderFor('GSM')!;
  const frame = new Int16Array(160).map((_, i) => Math.round(5000 * Math.sin(i / 3)));
  const a1 = Buffer.from(a(frame));
  const a2 = Buffer.from(a(frame));
  const b1 = Buffer.from(b(frame));
  assert.equal(a1.length, 33);
  assert.ok(a1.equals(b1), 'two fresh encoders agree');
  assert.ok(!a1.equals(a2), 'the second frame of a stream depends on the first (filter and LTP memory)');
});
