import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReputationService, DEFAULT_REPUTATION } from './reputation-service.js';

test('a successful authentication is credited once per interval (replays buy nothing)', () => {
  let now = 0;
  const r = new ReputationService(DEFAULT_REPUTATION, () => now);
  for (let i = 0; i < 50; i++) r.authSucceeded('1001', '192.0.2.1');
  assert.equal(r.score('user:1001'), 6);
  assert.equal(r.score('ip:192.0.2.1'), 6);
  now += DEFAULT_REPUTATION.authCreditInterval * 1000;
  r.authSucceeded('1001', '192.0.2.1');
  assert.ok(r.score('user:1001') > 6);
});

test('a failed authentication counts against the address only (guessing cannot lock a user out)', () => {
  const r = new ReputationService();
  assert.equal(r.authFailed('198.51.100.1'), 4);
  assert.ok(r.refused('ip:198.51.100.1'));
  assert.equal(r.score('user:1001'), 5);
});

test('answered calls over 30 s are good for caller, callee and address; short calls in bulk are bad for the caller', () => {
  const r = new ReputationService();
  assert.equal(r.callEnded('1001', '1002', '10.0.0.1', 31), false);
  assert.equal(r.score('user:1001'), 6);
  assert.equal(r.score('user:1002'), 6);
  assert.equal(r.score('ip:10.0.0.1'), 6);
  assert.equal(r.callEnded('1003', '1002', '10.0.0.2', 30), false, 'exactly 30 s is not "longer than 30 s"');
  assert.equal(r.score('user:1003'), 5);
  const burst = [2, 3, 1, 4, 2].map((s) => r.callEnded('1004', '1002', '10.0.0.3', s));
  assert.deepEqual(burst, [false, false, false, false, true]);
  assert.equal(r.score('user:1004'), 4);
});

test('a wrong PIN during a call counts against the address like a failed digest, and a third as much against the calling extension', () => {
  const r = new ReputationService(DEFAULT_REPUTATION, () => 0);
  r.authSucceeded('1001', '198.51.100.7'); // the call's own INVITE
  for (let i = 0; i < 3; i++) r.pinFailed('198.51.100.7', '1001');
  assert.equal(r.score('ip:198.51.100.7'), 3.8, 'three full bad marks on the address');
  assert.equal(r.score('user:1001'), 5, 'a whole call of typos leaves the extension at 5');
  assert.equal(r.refused('user:1001'), false);
  r.pinFailed('198.51.100.7', '1001');
  assert.ok(r.refused('user:1001'), 'a fourth wrong PIN and the extension is refused');
  r.pinFailed('192.0.2.99');
  assert.equal(r.score('ip:192.0.2.99'), 4, 'an unauthenticated caller: the address only');
});
