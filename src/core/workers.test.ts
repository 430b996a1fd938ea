import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HANDOVER_TTL_MS, newWorkerKey, portShare, readHandover, readWorkerEnv, signHandover, type Handover } from './workers.js';

test('a hand-over signed with the workers key reads back, for its Call-ID, until it runs out', () => {
  const key = Buffer.from(newWorkerKey(), 'hex');
  const h: Handover = { worker: 1, app: 'park', arg: '701', account: '1001' };
  const now = 1_700_000_000_000;
  const v = signHandover(h, 'abc@palisade', now, key);
  assert.ok(v);
  assert.deepEqual(readHandover(v, 'abc@palisade', now, key), h);
  assert.deepEqual(readHandover(` ${v} `, 'abc@palisade', now + HANDOVER_TTL_MS, key), h, 'good to its last millisecond');
  // run out, another call's, another start's key, no key here
  assert.equal(readHandover(v, 'abc@palisade', now + HANDOVER_TTL_MS + 1, key), null);
  assert.equal(readHandover(v, 'abd@palisade', now, key), null);
  assert.equal(readHandover(v, 'abc@palisade', now, Buffer.from(newWorkerKey(), 'hex')), null);
  assert.equal(readHandover(v, 'abc@palisade', now, null), null);
  // any field changed breaks the signature: another worker, slot, caller, a later expiry
  const parts = v.split(';');
  for (const [i, x] of [
    [0, '0'],
    [1, 'pickup'],
    [2, '702'],
    [3, '1002'],
    [4, String(now + 10 * HANDOVER_TTL_MS)],
  ] as const) {
    const forged = parts.map((p, j) => (j === i ? x : p)).join(';');
    assert.equal(readHandover(forged, 'abc@palisade', now, key), null, `field ${i} changed`);
  }
  for (const bad of ['', 'garbage', `${v};x`, parts.slice(0, 5).join(';'), v.replace(/;[^;]+$/, ';')]) assert.equal(readHandover(bad, 'abc@palisade', now, key), null, bad);
  // a pickup for the caller's groups (no extension named) and a caller that proved none
  const g: Handover = { worker: 0, app: 'pickup', arg: '', account: '' };
  assert.deepEqual(readHandover(signHandover(g, 'x', now, key)!, 'x', now, key), g);
});

test('a hand-over is not signed without a key, nor with characters that could break the header', () => {
  const key = Buffer.from(newWorkerKey(), 'hex');
  assert.equal(signHandover({ worker: 1, app: 'park', arg: '701', account: '1001' }, 'c', 0, null), null);
  assert.equal(signHandover({ worker: 1, app: 'park', arg: '70;1', account: '1001' }, 'c', 0, key), null);
  assert.equal(signHandover({ worker: 1, app: 'pickup', arg: '1002', account: '1001\r\nX: y' }, 'c', 0, key), null);
});

test('the worker environment and the RTP shares', () => {
  assert.deepEqual(readWorkerEnv('1/2'), { index: 1, count: 2 });
  assert.equal(readWorkerEnv('2/2'), null);
  assert.equal(readWorkerEnv(undefined), null);
  assert.deepEqual(portShare(10000, 10011, 1, 2), { portMin: 10006, portMax: 10011 });
});
