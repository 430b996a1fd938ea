// The GSM 06.10 decoder against sox (libgsm): sox encodes speech from
// espeak-ng to a .gsm file (raw 33-byte frames) and decodes it; our decode
// of the same frames must match sox's, sample for sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GsmDecoder, GsmFormatError } from './codec-gsm.js';
import { readWavSamples } from '../player/wav-file.js';
import { codecByName, codecByStaticPt } from './codec-registry.js';

test('GSM frames made by sox decode exactly as sox decodes them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gsm-'));
  try {
    const speech = join(dir, 'speech.wav');
    execFileSync('espeak-ng', ['-w', speech, 'the quick brown fox jumps over the lazy dog'], { timeout: 20_000 });
    const gsm = join(dir, 'speech.gsm');
    execFileSync('sox', [speech, '-r', '8000', '-c', '1', gsm], { timeout: 20_000 });
    const ref = join(dir, 'ref.wav');
    execFileSync('sox', [gsm, '-b', '16', '-e', 'signed-integer', ref], { timeout: 20_000 });
    const frames = readFileSync(gsm);
    assert.equal(frames.length % 33, 0);
    const ours = new GsmDecoder().decodePayload(frames);
    const theirs = readWavSamples(ref);
    assert.equal(ours.length, (frames.length / 33) * 160);
    const n = Math.min(ours.length, theirs.length);
    let dot = 0,
      ea = 0,
      eb = 0,
      noise = 0;
    for (let i = 0; i < n; i++) {
      dot += ours[i]! * theirs[i]!;
      ea += ours[i]! ** 2;
      eb += theirs[i]! ** 2;
      noise += (ours[i]! - theirs[i]!) ** 2;
    }
    const corr = dot / Math.sqrt(ea * eb);
    const snr = 10 * Math.log10(eb / Math.max(noise, 1));
    assert.ok(eb > 0 && ea > 0, 'audio is not silent');
    assert.ok(corr > 0.99, `correlation ${corr}`);
    assert.ok(snr > 30, `SNR ${snr} dB`);
    // bit-exact with libgsm: every sample
    assert.equal(n, ours.length);
    for (let i = 0; i < n; i++) if (ours[i] !== theirs[i]) assert.fail(`sample ${i}: ${ours[i]} here, ${theirs[i]} from libgsm`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a frame without the 0xD signature is refused; in an RTP payload it is silence, not an exception', () => {
  assert.throws(() => new GsmDecoder().decodeFrame(new Uint8Array(33)), GsmFormatError);
  const d = new GsmDecoder();
  const payload = new Uint8Array(66).fill(0x5a);
  payload[33] = 0xd0;
  const pcm = d.decodePayload(payload);
  assert.equal(pcm.length, 320);
  assert.ok(pcm.subarray(0, 160).every((x) => x === 0));
  assert.equal(d.badFrames, 1);
});

test('registry: PCMU/PCMA/GSM by static payload type; G.722 and Opus recognised but pass-through', () => {
  assert.equal(codecByStaticPt(0)?.name, 'PCMU');
  assert.equal(codecByStaticPt(8)?.name, 'PCMA');
  assert.equal(codecByStaticPt(3)?.name, 'GSM');
  assert.equal(codecByName('g722')?.decodes, false);
  assert.equal(codecByName('opus')?.decodes, false);
  assert.equal(codecByName('opus')?.clockRate, 48000);
});
