// Every prompt the shipped pieces play exists in the generated English set:
// the attendance example's dialplan and the voicemail applications. A name
// missing here would be a silent gap in a call on a fresh install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPOKEN_PROMPTS, TONE_PROMPTS } from '../../src/media/prompts/prompt-set.js';
import { PROMPTS } from '../../src/features/voicemail/prompts.js';
import { repoRoot } from '../helpers/paths.js';

const known = new Set([...Object.keys(SPOKEN_PROMPTS), ...Object.keys(TONE_PROMPTS)]);

test('the attendance example plays only generated prompts', () => {
  const conf = readFileSync(join(repoRoot(), 'examples', 'attendance', 'extensions.conf'), 'utf8');
  const used = new Set<string>();
  for (const line of conf.split('\n')) {
    const code = line.replace(/;.*$/, '');
    // Playback(a&b), Background(a), Read(VAR,prompt,...)
    for (const m of code.matchAll(/\b(Playback|Background)\(([^,)]*)/g)) for (const n of m[2]!.split('&')) used.add(n.trim());
    for (const m of code.matchAll(/\bRead\([^,]*,([^,)]*)/g)) if (m[1]!.trim()) used.add(m[1]!.trim());
  }
  assert.ok(used.size >= 6, `found the prompts: ${[...used].join(', ')}`);
  const missing = [...used].filter((n) => !n.includes('$') && !known.has(n));
  assert.deepEqual(missing, [], 'prompts the example uses that are not generated');
});

test('the voicemail applications play only generated prompts', () => {
  const missing = Object.values(PROMPTS).filter((n) => !known.has(n));
  assert.deepEqual(missing, []);
});

test('SayNumber and SayDigits have every word they need', () => {
  for (let i = 0; i <= 20; i++) assert.ok(known.has(`digits/${i}`), `digits/${i}`);
  for (const t of [30, 40, 50, 60, 70, 80, 90]) assert.ok(known.has(`digits/${t}`), `digits/${t}`);
  for (const w of ['hundred', 'thousand', 'million']) assert.ok(known.has(`digits/${w}`), w);
});
