import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseWav, makeToneWav, readWav, soxStat } from './audio.js';

test('tone WAVs are measured: duration, RMS, frequency (Goertzel, zero crossings, sox)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audio-test-'));
  try {
    for (const hz of [440, 1000, 2750]) {
      const f = join(dir, `t${hz}.wav`);
      makeToneWav(f, hz, 2);
      const pcm = readWav(f);
      assert.equal(pcm.sampleRate, 8000);
      assert.equal(pcm.samples.length, 16000);
      const a = analyseWav(f);
      assert.equal(a.durationSec, 2);
      assert.ok(Math.abs(a.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${a.rms}`);
      assert.equal(a.activeSec, 2);
      assert.ok(Math.abs(a.dominantHz - hz) <= 1, `${hz}: goertzel ${a.dominantHz}`);
      assert.ok(Math.abs(a.zeroCrossingHz - hz) <= hz * 0.01, `${hz}: zero crossings ${a.zeroCrossingHz}`);
      const s = soxStat(f);
      assert.equal(s.lengthSec, 2);
      assert.ok(Math.abs(s.rmsAmplitude - a.rms) < 0.001, `${hz}: sox rms ${s.rmsAmplitude}`);
      // sox's "rough frequency" is only trustworthy well below Nyquist
      // (it says ~2245 for 2750 Hz), which is why the TS estimators exist.
      if (hz <= 1000) assert.ok(Math.abs(s.roughFrequency - hz) <= hz * 0.1, `${hz}: sox ${s.roughFrequency}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('silence is inactive, and the frequency comes from the loud stretch only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audio-test-'));
  try {
    const silent = join(dir, 'silent.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', silent, 'trim', '0', '1']);
    const s = analyseWav(silent);
    assert.equal(s.activeSec, 0);
    assert.equal(s.dominantHz, 0);
    // sox dithers, so "silence" is a few LSBs of noise.
    assert.ok(s.rms < 0.001, `silence rms ${s.rms}`);

    const tone = join(dir, 'tone.wav');
    const mixed = join(dir, 'mixed.wav');
    makeToneWav(tone, 700, 1.5);
    execFileSync('sox', [silent, tone, mixed]);
    const m = analyseWav(mixed);
    assert.equal(m.durationSec, 2.5);
    assert.equal(m.activeSec, 1.5);
    assert.ok(Math.abs(m.dominantHz - 700) <= 1, `goertzel ${m.dominantHz}`);
    assert.ok(m.segmentRms.slice(0, 10).every((r) => r < 0.001));
    assert.ok(m.segmentRms.slice(10).every((r) => r > 0.3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
