import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secondsToMs, splitArgs } from './app-args.js';

test('arguments split at commas as Asterisk does: quotes, backslash escapes, nested brackets', () => {
  assert.deepEqual(splitArgs(''), []);
  assert.deepEqual(splitArgs('a'), ['a']);
  assert.deepEqual(splitArgs('a,,c'), ['a', '', 'c']);
  assert.deepEqual(splitArgs('SIP/1001&SIP/1002,20,rm'), ['SIP/1001&SIP/1002', '20', 'rm']);
  assert.deepEqual(splitArgs('"hello, world",x'), ['hello, world', 'x']);
  assert.deepEqual(splitArgs('a\\,b,c'), ['a,b', 'c']);
  assert.deepEqual(splitArgs('say \\"hi\\",2'), ['say "hi"', '2']);
  assert.deepEqual(splitArgs('sub,s,1(x,y),z'), ['sub', 's', '1(x,y)', 'z']);
  assert.deepEqual(splitArgs('[1,2],{3,4}'), ['[1,2]', '{3,4}']);
});

test('durations in seconds, fractions allowed, junk falls back to the default', () => {
  assert.equal(secondsToMs('1.5', 0), 1500);
  assert.equal(secondsToMs(' 10 ', 0), 10000);
  assert.equal(secondsToMs('', 7), 7);
  assert.equal(secondsToMs('abc', 7), 7);
  assert.equal(secondsToMs('-3', 7), 7);
  assert.equal(secondsToMs(undefined, 7), 7);
});
