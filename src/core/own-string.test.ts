import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownString } from './own-string.js';

test('the same text, whatever its length', () => {
  for (const s of ['', 'a', '12 characters', 'sip:alice@example.com;transport=tcp', 'x'.repeat(5000)]) assert.equal(ownString(s), s);
});
