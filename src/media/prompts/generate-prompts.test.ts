// The prompt set made with the real espeak-ng and sox: 8 kHz mono 16-bit
// WAVs with speech in them, and a second run that makes nothing new.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrompts, promptsComplete } from './generate-prompts.js';
import { SPOKEN_PROMPTS, TONE_PROMPTS } from './prompt-set.js';
import { readWavSamples } from '../player/wav-file.js';

test('generates every prompt once, 8 kHz mono 16-bit, and regenerates only what changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prompts-gen-'));
  try {
    const total = Object.keys(SPOKEN_PROMPTS).length + Object.keys(TONE_PROMPTS).length;
    const first = await generatePrompts(dir);
    assert.equal(first.generated.length, total);
    assert.ok(promptsComplete(dir));
    for (const name of ['digits/7', 'vm-intro', 'attendance-welcome', 'beep', 'moh/default/melody']) {
      const info = execFileSync('soxi', [join(dir, `${name}.wav`)], { encoding: 'utf8' });
      assert.match(info, /Sample Rate\s*:\s*8000/);
      assert.match(info, /Channels\s*:\s*1/);
      assert.match(info, /Precision\s*:\s*16-bit/);
      const s = readWavSamples(join(dir, `${name}.wav`));
      let peak = 0;
      for (const v of s) peak = Math.max(peak, Math.abs(v));
      assert.ok(peak > 5000, `${name} is not silent`);
    }
    const again = await generatePrompts(dir);
    assert.equal(again.generated.length, 0);
    // a changed text (old manifest entry) is made again, nothing else
    const manifestPath = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
    m['goodbye'] = 'v0 say:bye';
    writeFileSync(manifestPath, JSON.stringify(m));
    assert.equal(promptsComplete(dir), false);
    assert.deepEqual((await generatePrompts(dir)).generated, ['goodbye']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
