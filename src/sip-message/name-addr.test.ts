import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNameAddr, isWildcard, parseNameAddr, parseNameAddrList } from './name-addr.js';
import { SipParseError } from './errors.js';

test('quoted display name with escapes, URI params inside <>, header params outside', () => {
  const na = parseNameAddr('"Alice \\"A\\" Smith" <sip:alice@example.com;transport=tcp>;tag=1928301774;x');
  assert.equal(na.displayName, 'Alice "A" Smith');
  assert.deepEqual(na.uri.params, { transport: 'tcp' });
  assert.deepEqual(na.params, { tag: '1928301774', x: null });
});

test('token display name; no LWS needed before <', () => {
  assert.equal(parseNameAddr('Bob  Jones <sip:bob@b.example>').displayName, 'Bob Jones');
  assert.equal(parseNameAddr('caller<sip:caller@example.com>').displayName, 'caller');
});

test('addr-spec without <>: parameters belong to the header (RFC 3261 §20.10)', () => {
  const na = parseNameAddr('sip:carol@c.example;tag=abc ; expires = 60');
  assert.equal(na.displayName, undefined);
  assert.deepEqual(na.uri.params, {});
  assert.deepEqual(na.params, { tag: 'abc', expires: '60' });
});

test('Contact: * is a wildcard element', () => {
  const [w] = parseNameAddrList('*');
  assert.ok(isWildcard(w!));
  assert.equal(formatNameAddr(w!), '*');
});

test('lists split on commas outside quotes and <>', () => {
  const list = parseNameAddrList('"Doe, John" <sip:j@a.example;x=1>, <sip:k,x@b.example>;q=0.5, sip:l@c.example');
  assert.equal(list.length, 3);
  assert.equal(list[0]!.displayName, 'Doe, John');
  assert.equal(list[1]!.params['q'], '0.5');
  assert.equal(list[1]!.uri.user, 'k,x');
  assert.equal(list[2]!.uri.user, 'l');
});

test('rejects unbalanced quotes, unquoted commas in display names, LWS inside <>, ? in bare addr-spec', () => {
  for (const bad of [
    '"Mr. J. User <sip:j.user@example.com>',
    'Bell, Alexander <sip:a.g.bell@example.com>',
    '"W" < sip:t.watson@example.org >',
    'sip:user@example.com?Route=x',
    '<sip:a@b',
    '<sip:a@b>;',
    '<sip:a@b>;tag=',
    '',
  ]) {
    assert.throws(() => parseNameAddr(bad), SipParseError, bad);
  }
});

test('formatNameAddr quotes display names when needed and round-trips', () => {
  const na = parseNameAddr('"Doe, \\"JD\\"" <sip:jd@example.com>;tag=7');
  const s = formatNameAddr(na);
  assert.equal(s, '"Doe, \\"JD\\"" <sip:jd@example.com>;tag=7');
  assert.deepEqual(parseNameAddr(s).displayName, 'Doe, "JD"');
});

test('a header parameter named __proto__ is an own field, not the prototype', () => {
  const na = parseNameAddr('<sip:bob@example.com>;__proto__=1;tag=a');
  assert.equal(Object.getPrototypeOf(na.params), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(na.params, '__proto__')?.value, '1');
  assert.equal(na.params.tag, 'a');
});
