// DTMF collection for the media services: queued keys, listeners first,
// terminators and the end of the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigitQueue } from './digit-queue.js';

test('a key nobody listens for is queued for the next read; a listener sees keys first', async () => {
  const q = new DigitQueue();
  q.push('5');
  const seen: Array<string | null> = [];
  q.listen((d) => void seen.push(d));
  q.push('7');
  assert.deepEqual(seen, ['7'], 'the listener got the new key');
  assert.equal(await q.waitDigit(10), '5', 'the queued key is still there');
  assert.equal(await q.waitDigit(10), null, 'nothing more: timeout');
});

test('take() removes only a key of the set asked for; keep() puts one back', async () => {
  const q = new DigitQueue();
  q.push('1');
  q.push('#');
  assert.equal(q.take('#*'), '#');
  assert.equal(q.take('#*'), undefined);
  q.keep('9');
  assert.equal(await q.readDigits({ maxDigits: 0, timeoutMs: 10 }), '19');
});

test('readDigits: initial keys count, a terminator ends input, maxDigits stops early', async () => {
  const q = new DigitQueue();
  for (const d of '23#4') q.push(d);
  assert.equal(await q.readDigits({ maxDigits: 0, timeoutMs: 10, initial: '1' }), '123');
  assert.equal(await q.readDigits({ maxDigits: 1, timeoutMs: 10 }), '4');
  assert.equal(await q.readDigits({ maxDigits: 0, timeoutMs: 10, initial: '#' }), '', 'a terminator typed first ends at once');
});

test('close(): every waiting read and listener gets null, and so does every later wait', async () => {
  const q = new DigitQueue();
  const waiting = q.waitDigit(10_000);
  const heard: Array<string | null> = [];
  q.listen((d) => void heard.push(d));
  q.close();
  assert.equal(await waiting, null);
  assert.deepEqual(heard, [null]);
  assert.equal(await q.waitDigit(10_000), null);
});
