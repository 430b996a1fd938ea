// Every prompt the shipped dialplans and the voicemail applications play is
// in the generated English set, so a fresh install says all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { SPOKEN_PROMPTS, TONE_PROMPTS } from '../../src/media/prompts/prompt-set.js';
import { PROMPTS } from '../../src/features/voicemail/prompts.js';

const generated = new Set([...Object.keys(SPOKEN_PROMPTS), ...Object.keys(TONE_PROMPTS)]);

test('the voicemail applications\' prompts are all generated', () => {
  const missing = Object.values(PROMPTS).filter((p) => !generated.has(p));
  assert.deepEqual(missing, []);
});

test('the examples\' dialplans only play generated prompts', () => {
  const examples = join(repoRoot(), 'examples');
  const missing: string[] = [];
  for (const ex of readdirSync(examples)) {
    let text: string;
    try {
      text = readFileSync(join(examples, ex, 'extensions.conf'), 'utf8');
    } catch {
      continue;
    }
    // Playback(a&b), Background(a), Read(VAR,prompt,...)
    for (const m of text.matchAll(/\b(Playback|Background|Read)\(([^)]*)\)/g)) {
      const args = m[2]!.split(',');
      const files = m[1] === 'Read' ? [args[1] ?? ''] : [args[0] ?? ''];
      for (const f of files.flatMap((x) => x.split('&')).map((x) => x.trim())) {
        if (f && !f.includes('$') && !generated.has(f)) missing.push(`${ex}: ${f}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
