import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPin } from './index.js';

test('checkPin refuses runs, repeats, common PINs and the mailbox number', () => {
  for (const bad of ['1234', '4321', '1111', '0000', '2468', '9876', '121212', '123123', '2580', '123456', '654321']) {
    const v = checkPin(bad, { mailbox: '7561' });
    assert.equal(v.ok, false, bad);
  }
  const mb = checkPin('7561', { mailbox: '7561' });
  assert.deepEqual(mb, { ok: false, reason: 'is the mailbox number' });
  const contains = checkPin('975610', { mailbox: '7561' });
  assert.equal(contains.ok, false);
  assert.ok(!contains.ok && contains.reason.includes('mailbox number'));
});

test('checkPin enforces digits only and the configurable minimum length', () => {
  assert.deepEqual(checkPin('12a4'), { ok: false, reason: 'must contain digits only' });
  assert.deepEqual(checkPin(''), { ok: false, reason: 'must be at least 4 digits' });
  assert.deepEqual(checkPin('3829', { minLength: 6 }), { ok: false, reason: 'must be at least 6 digits' });
  assert.deepEqual(checkPin('1234567890123'), { ok: false, reason: 'must be at most 12 digits' });
  assert.deepEqual(checkPin('3829'), { ok: true });
  assert.deepEqual(checkPin('382915', { mailbox: '1001', minLength: 6 }), { ok: true });
});

test('admin password policy: defaults, the account name, weak and strong', async () => {
  const { checkAdminPassword, generateSecret } = await import('./index.js');
  assert.deepEqual(checkAdminPassword('admin'), { ok: false, reason: 'is a vendor default password' });
  assert.deepEqual(checkAdminPassword('eLaStIx.2oo7'), { ok: false, reason: 'is a vendor default password' });
  assert.deepEqual(checkAdminPassword('Xk4#operator9Lm2', { username: 'operator' }), { ok: false, reason: 'contains the account name' });
  const weak = checkAdminPassword('Summer2024!');
  assert.equal(weak.ok, false);
  assert.deepEqual(checkAdminPassword('v8#Lq2mZx!Rw', { username: 'alice' }), { ok: true });
  assert.deepEqual(checkAdminPassword(generateSecret(), { username: 'alice' }), { ok: true });
});
