import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSecret, generatePin, generateSecret } from './index.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

const sip = (s: string, extension = '1001', name = 'Alice Smith') => checkSecret(s, { kind: 'sip', extension, name });

test('SIP secrets shorter than 12 characters are rejected', () => {
  const v = sip('xK4#mQ2!pL9');
  assert.equal(v.ok, false);
  assert.ok(v.reasons.some((r) => r.includes('shorter than 12')));
});

test('common passwords are rejected, also with l33t and decoration', () => {
  assert.ok(COMMON_PASSWORDS.size >= 300);
  for (const s of ['passwordpassword', 'Password2024!', 'P@ssw0rd!!!!', 'qwertyuiop123', 'Asterisk123!', 'freepbx12345']) {
    const v = sip(s);
    assert.equal(v.ok, false, s);
    assert.ok(v.reasons.includes('is a commonly used password'), `${s}: ${v.reasons.join(', ')}`);
  }
});

test('numeric runs (1234, 1111, 2468, 7890) are rejected', () => {
  for (const [s, run] of [
    ['Xq9#kLmw1234', '1234'],
    ['Xq9#kLmw1111', '1111'],
    ['Xq9#kLmw2468', '2468'],
    ['Xq9#kLmw7890', '7890'],
    ['Xq9#kLmw9876', '9876'],
  ] as const) {
    const v = sip(s);
    assert.equal(v.ok, false, s);
    assert.ok(v.reasons.includes(`contains the sequence ${run}`), `${s}: ${v.reasons.join(', ')}`);
  }
  assert.equal(sip('123456789012').ok, false);
});

test('the extension number or the owner name inside the secret is rejected', () => {
  assert.ok(sip('Zq#8vLw1001kP').reasons.includes('contains the extension number'));
  assert.ok(sip('Zq#8vLw1001kP', '1001').reasons.length > 0);
  assert.ok(sip('Zq#8vLw1001kP', '1001').reasons.includes('contains the extension number'));
  assert.ok(sip('Zq#8vLw1001kP'.replace('1001', '1006'), '1006').reasons.includes('contains the extension number'));
  assert.ok(sip('Zq#8vLwSMITHkP').reasons.includes('contains the name'));
  assert.ok(sip('Zq#8v@l1cekP9').reasons.includes('contains the name'));
});

test('repetitions are rejected', () => {
  assert.equal(sip('abcabcabcabc').ok, false);
  assert.equal(sip('zzzzzzzzzzzzzzzz').ok, false);
});

test('the strength estimate demands score >= 3 and gives 4 to random 20-character secrets', () => {
  const weak = sip('abcdefghijkm');
  assert.equal(weak.ok, false);
  assert.ok(weak.score < 3);
  const lowerOnly = sip('kqmvwzrtplxb');
  assert.equal(lowerOnly.ok, false, 'twelve random lower-case letters are ~56 bits');
  assert.ok(lowerOnly.reasons[0]!.includes('too easy to guess'));
  const good = sip('xk4Lm9Qz2Wp8');
  assert.deepEqual(good, { ok: true, reasons: [], score: 3 });
  assert.equal(sip('correcthorsebatterystaple').ok, true);
  for (let i = 0; i < 50; i++) assert.equal(sip(generateSecret()).score, 4);
});

test('admin passwords follow the same rules', () => {
  assert.equal(checkSecret('admin', { kind: 'admin' }).ok, false);
  assert.equal(checkSecret('changeme123!', { kind: 'admin' }).ok, false);
  assert.equal(checkSecret('v8#Lq2mZx!Rw', { kind: 'admin' }).ok, true);
});

test('generateSecret is 20 URL-safe unambiguous characters and never repeats', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = generateSecret();
    assert.match(s, /^[A-HJ-NP-Za-km-z2-9]{20}$/);
    assert.equal(encodeURIComponent(s), s);
    seen.add(s);
  }
  assert.equal(seen.size, 200);
});

test("generateSecret for an owner never offers a secret the owner's policy refuses", () => {
  // a two-digit extension is in about one random draw of 40 ("23" or "32"), so 1,000 draws without
  // the owner would all pass only about once in a million runs
  const owner = { extension: '23', name: 'Bea Ab' };
  for (let i = 0; i < 1000; i++) {
    const s = generateSecret(owner);
    assert.ok(!s.includes('23') && !s.includes('32'), s);
    assert.deepEqual(checkSecret(s, { kind: 'sip', ...owner }).reasons, [], s);
  }
});

test('PINs: 4-12 digits, no runs, not common, not the extension', () => {
  const pin = (p: string, extension = '7561') => checkSecret(p, { kind: 'pin', extension });
  for (const bad of ['123', '1234567890123', '12a4', '1234', '1111', '2468', '9876', '121212', '7561', '975610']) {
    assert.equal(pin(bad).ok, false, bad);
  }
  assert.ok(pin('7561').reasons.includes('is the extension number'));
  assert.ok(pin('975610').reasons.includes('contains the extension number'));
  assert.deepEqual(pin('382915'), { ok: true, reasons: [], score: 2 });
});

test('generatePin returns passing PINs of the requested length', () => {
  for (let i = 0; i < 200; i++) {
    const p = generatePin(4, '1001');
    assert.match(p, /^[0-9]{4}$/);
    assert.equal(checkSecret(p, { kind: 'pin', extension: '1001' }).ok, true);
  }
  assert.match(generatePin(), /^[0-9]{6}$/);
  assert.throws(() => generatePin(3), RangeError);
});

test('a run inside a long random secret is chance, not weakness', () => {
  // 16 random hex characters around "4680": the run does not carry the strength
  const v = checkSecret('Bk-9f3c4680ad71e2b5c', { kind: 'sip', extension: '1135' });
  assert.equal(v.ok, true, v.reasons.join(', '));
  assert.equal(checkSecret('Xq9#kLmw4680', { kind: 'sip', extension: '1135' }).ok, false);
});

test('PIN policy: mirrored runs (1221, 123321) are refused like runs', () => {
  const pin = (p: string) => checkSecret(p, { kind: 'pin', extension: '756' });
  assert.equal(pin('3829').ok, true);
  assert.deepEqual(pin('1221').reasons, ['is a mirrored sequence']);
  for (const bad of ['1221', '2332', '123321', '4321', '0000', '756', '7560', '2580']) assert.equal(pin(bad).ok, false, bad);
  assert.equal(pin('3883').ok, true, 'a palindrome that is not a run is allowed');
});
