import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatChallenge, formatCredentials, parseAuthHeader } from './auth-header.js';
import { SipParseError } from './errors.js';

test('parses Digest credentials: quoted and token values, names lower-cased (RFC 3261 §25.1)', () => {
  const a = parseAuthHeader(
    'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, NC=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5',
  );
  assert.equal(a.scheme, 'Digest');
  assert.equal(a.params['username'], 'bob');
  assert.equal(a.params['uri'], 'sip:bob@biloxi.com');
  assert.equal(a.params['nc'], '00000001');
  assert.equal(a.params['qop'], 'auth');
  assert.equal(a.params['algorithm'], 'MD5');
});

test('quoted values are unescaped', () => {
  assert.equal(parseAuthHeader('Digest username="a\\"b", realm="r"').params['username'], 'a"b');
});

test('rejects malformed values and duplicated params', () => {
  for (const bad of ['', 'Digest realm', 'Digest realm="x" nonce="y"', 'Digest realm="x",', 'Digest realm="unterminated', 'Digest realm="a", realm="b"']) {
    assert.throws(() => parseAuthHeader(bad), SipParseError, bad);
  }
});

test('formatChallenge quotes qop but not algorithm/stale; formatCredentials leaves qop and nc bare', () => {
  const c = formatChallenge({ realm: 'pbx', nonce: 'n"1', algorithm: 'SHA-256', qop: 'auth', stale: 'TRUE' });
  assert.equal(c, 'Digest realm="pbx", nonce="n\\"1", algorithm=SHA-256, qop="auth", stale=TRUE');
  assert.equal(parseAuthHeader(c).params['nonce'], 'n"1');
  const k = formatCredentials({ username: 'u', qop: 'auth', nc: '00000001', response: 'abc' });
  assert.equal(k, 'Digest username="u", qop=auth, nc=00000001, response="abc"');
});

test('params named like Object.prototype members (names are lower-cased) are ordinary params: own fields, a repeat refused, the prototype untouched', () => {
  const a = parseAuthHeader('Digest constructor=y, __proto__="z", realm="r"');
  assert.equal(a.params['constructor'], 'y');
  assert.equal(Object.getOwnPropertyDescriptor(a.params, '__proto__')?.value, 'z');
  assert.deepEqual(Object.keys(a.params), ['constructor', '__proto__', 'realm']);
  assert.equal(Object.getPrototypeOf(a.params), Object.prototype);
  // a field that was not sent is absent, even one the prototype has
  const b = parseAuthHeader('Digest realm="r"');
  assert.equal(b.params['nonce'], undefined);
  assert.equal(Object.hasOwn(b.params, 'constructor'), false);
  assert.throws(() => parseAuthHeader('Digest __proto__="a", __proto__="b"'), SipParseError);
  assert.throws(() => parseAuthHeader('Digest constructor="a", Constructor="b"'), SipParseError);
});
