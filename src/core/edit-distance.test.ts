import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance } from './edit-distance.js';

test('editDistance counts insertions, deletions and substitutions', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('listen', 'listen'), 0);
  assert.equal(editDistance('lsten', 'listen'), 1, 'one insertion');
  assert.equal(editDistance('listenn', 'listen'), 1, 'one deletion');
  assert.equal(editDistance('lysten', 'listen'), 1, 'one substitution');
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('Playback', 'playback'), 1, 'case counts; callers that ignore it lower-case first');
});
