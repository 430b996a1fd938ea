import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Player } from './player.js';
import { parseWav, readWavSamples, WavFormatError } from './wav-file.js';
import { WavWriter } from '../recorder/wav-writer.js';
import { SilenceDetector } from '../recorder/silence-detector.js';
import { PromptStore } from '../prompts/prompt-store.js';
import { sayDigitsPrompts, sayNumberPrompts } from '../prompts/say.js';

test('player: 20 ms frames across items, zero-padded end, then finished; stop() interrupts', async () => {
  const p = new Player([new Int16Array(200).fill(1), new Int16Array(100).fill(2)]);
  const out = new Int16Array(160);
  assert.equal(p.nextFrame(out), true);
  assert.equal(p.nextFrame(out), true);
  assert.equal(out[39], 1);
  assert.equal(out[40], 2);
  assert.equal(out[139], 2);
  assert.equal(out[140], 0);
  assert.equal(p.nextFrame(out), false);
  assert.equal(await p.done, true);
  const loop = new Player([new Int16Array(100)], true);
  for (let i = 0; i < 10; i++) assert.equal(loop.nextFrame(out), true);
  loop.stop();
  assert.equal(await loop.done, false);
});

test('WAV: PCM, µ-law and A-law files from sox read alike; 16 kHz is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wav-'));
  try {
    const mk = (name: string, enc: string[]): string => {
      const f = join(dir, name);
      execFileSync('sox', ['-n', '-r', '8000', '-c', '1', ...enc, f, 'synth', '0.5', 'sine', '500', 'vol', '0.5'], { timeout: 10_000 });
      return f;
    };
    const pcm = readWavSamples(mk('pcm.wav', ['-b', '16', '-e', 'signed-integer']));
    const ulaw = readWavSamples(mk('ulaw.wav', ['-e', 'u-law']));
    const alaw = readWavSamples(mk('alaw.wav', ['-e', 'a-law']));
    assert.equal(pcm.length, 4000);
    assert.equal(ulaw.length, 4000);
    for (let i = 0; i < 4000; i += 97) {
      assert.ok(Math.abs(ulaw[i]! - pcm[i]!) < 600);
      assert.ok(Math.abs(alaw[i]! - pcm[i]!) < 600);
    }
    const wide = join(dir, 'wide.wav');
    execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', wide, 'synth', '0.1', 'sine', '500'], { timeout: 10_000 });
    assert.throws(() => readWavSamples(wide), WavFormatError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('WAV writer: a file not yet closed is readable up to the last flush (sox agrees); close fixes the header', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wavw-'));
  try {
    const f = join(dir, 'rec.wav');
    const w = new WavWriter(f);
    for (let i = 0; i < 60; i++) w.write(new Int16Array(160).fill(1000)); // 1.2 s
    // "crash" now: the file holds the first flushed second with a valid header
    const partial = readFileSync(f);
    assert.equal(partial.readUInt32LE(40), 16000);
    assert.equal(parseWav(partial).length, 8000);
    const soxi = execFileSync('soxi', ['-D', f], { encoding: 'utf8' });
    assert.equal(Number(soxi.trim()), 1);
    w.close();
    assert.equal(readWavSamples(f).length, 9600);
    assert.equal(w.durationMs, 1200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('silence detection: counts continuous quiet frames, resets on sound', () => {
  const s = new SilenceDetector();
  assert.equal(s.push(new Int16Array(160)), 20);
  assert.equal(s.push(new Int16Array(160).fill(50)), 40);
  assert.equal(s.push(new Int16Array(160).fill(3000)), 0);
  assert.equal(s.sound, true);
});

test('prompt store: the administrator folder overrides the generated set; names cannot escape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prompts-'));
  try {
    const gen = join(dir, 'gen');
    const custom = join(dir, 'custom');
    execFileSync('mkdir', ['-p', join(gen, 'digits'), custom]);
    const wav = (n: number): Buffer => {
      const h = Buffer.alloc(44 + n * 2);
      h.write('RIFF', 0);
      h.writeUInt32LE(36 + n * 2, 4);
      h.write('WAVEfmt ', 8);
      h.writeUInt32LE(16, 16);
      h.writeUInt16LE(1, 20);
      h.writeUInt16LE(1, 22);
      h.writeUInt32LE(8000, 24);
      h.writeUInt32LE(16000, 28);
      h.writeUInt16LE(2, 32);
      h.writeUInt16LE(16, 34);
      h.write('data', 36);
      h.writeUInt32LE(n * 2, 40);
      return h;
    };
    writeFileSync(join(gen, 'goodbye.wav'), wav(10));
    writeFileSync(join(gen, 'digits', '1.wav'), wav(20));
    writeFileSync(join(custom, 'goodbye.wav'), wav(30));
    let t = 0;
    const store = new PromptStore(gen, custom, () => t);
    assert.equal(store.load('goodbye').length, 30);
    assert.equal(store.load('digits/1').length, 20);
    assert.equal(store.resolve('../gen/goodbye'), null);
    assert.throws(() => store.load('nope'), /not found/);
    // cached: a play within a second does not look at the disk; forget() (the prompts API) or a second later does
    const replace = (n: number, mtime: number) => {
      writeFileSync(join(custom, 'goodbye.wav'), wav(n));
      utimesSync(join(custom, 'goodbye.wav'), mtime, mtime);
    };
    replace(40, 1_000_000);
    t += 500;
    assert.equal(store.load('goodbye').length, 30, 'within the second: the cached samples');
    store.forget('goodbye');
    assert.equal(store.load('goodbye').length, 40, 'forgotten: read again');
    replace(50, 2_000_000);
    t += 999;
    assert.equal(store.load('goodbye').length, 40);
    t += 1;
    assert.equal(store.load('goodbye').length, 50, 'a second on: the changed file is read');
    rmSync(join(custom, 'goodbye.wav'));
    t += 1000;
    assert.equal(store.load('goodbye').length, 10, 'the recording deleted: the generated prompt again');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SayDigits and SayNumber in English number grammar', () => {
  assert.deepEqual(sayDigitsPrompts('12*#'), ['digits/1', 'digits/2', 'digits/star', 'digits/pound']);
  assert.deepEqual(sayNumberPrompts(0), ['digits/0']);
  assert.deepEqual(sayNumberPrompts(15), ['digits/15']);
  assert.deepEqual(sayNumberPrompts(87), ['digits/80', 'digits/7']);
  assert.deepEqual(sayNumberPrompts(100), ['digits/1', 'digits/hundred']);
  assert.deepEqual(sayNumberPrompts(2005), ['digits/2', 'digits/thousand', 'digits/5']);
  assert.deepEqual(sayNumberPrompts(-1234567), [
    'digits/minus',
    'digits/1',
    'digits/million',
    'digits/2',
    'digits/hundred',
    'digits/30',
    'digits/4',
    'digits/thousand',
    'digits/5',
    'digits/hundred',
    'digits/60',
    'digits/7',
  ]);
});
