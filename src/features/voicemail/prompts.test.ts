import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SPOKEN_PROMPTS, TONE_PROMPTS } from '../../media/prompts/prompt-set.js';
import { PROMPTS } from './prompts.js';

test('every prompt the voicemail applications play is in the generated prompt set (and the beep too)', () => {
  const missing = [...Object.values(PROMPTS), 'beep'].filter((n) => !(n in SPOKEN_PROMPTS) && !(n in TONE_PROMPTS));
  assert.deepEqual(missing, []);
});
