import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUri, parseUri, uriEquals } from './uri.js';
import { SipParseError } from './errors.js';

test('parses user, password, host, port, params and headers of a SIP URI (RFC 3261 §19.1.1)', () => {
  const u = parseUri('sips:alice:secret@Atlanta.COM:5061;transport=TCP;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  assert.equal(u.scheme, 'sips');
  assert.equal(u.user, 'alice');
  assert.equal(u.password, 'secret');
  assert.equal(u.host, 'atlanta.com');
  assert.equal(u.port, 5061);
  assert.deepEqual(u.params, { transport: 'TCP', lr: null, maddr: '239.255.255.1' });
  assert.deepEqual(u.headers, { subject: 'project x', priority: 'urgent' });
});

test('unescapes the user part, including escaped UTF-8 and escaped @', () => {
  assert.equal(parseUri('sip:%61lice%40home@example.com').user, 'alice@home');
  assert.equal(parseUri('sip:j%C3%BCrgen@example.com').user, 'jürgen');
});

test('IPv6 references lose their brackets; the port after them is read', () => {
  const u = parseUri('sip:bob@[2001:DB8::1]:5070;transport=udp');
  assert.equal(u.host, '2001:db8::1');
  assert.equal(u.port, 5070);
  assert.equal(formatUri(u), 'sip:bob@[2001:db8::1]:5070;transport=udp');
});

test('a user part may contain ; ? and / (user-unreserved)', () => {
  const u = parseUri('sip:user;par=u%40example.net@example.com;x=1');
  assert.equal(u.user, 'user;par=u@example.net');
  assert.deepEqual(u.params, { x: '1' });
});

test('other schemes stay opaque with the scheme lower-cased; tel keeps its number', () => {
  const u = parseUri('urn:service:sos');
  assert.equal(u.scheme, 'urn');
  assert.equal(u.opaque, true);
  assert.equal(formatUri(u), 'urn:service:sos');
  const t = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  assert.equal(t.user, '+1-201-555-0123');
  assert.equal(t.params['phone-context'], 'example.com');
});

test('rejects malformed URIs with SipParseError', () => {
  for (const bad of [
    '',
    'sip:',
    'sip:@host',
    'sip:a@',
    'sip:a@host:99999',
    'sip:a@host:x',
    'sip:a b@host',
    'sip:a@[::1',
    'sip:%zz@host',
    'sip:a@ho_st',
    '1sip:a@b',
    'sip:a@host;=x',
    'sip:a@host?noval',
  ]) {
    assert.throws(() => parseUri(bad), SipParseError, bad);
  }
});

test('formatUri escapes what the grammar reserves and round-trips', () => {
  const u = parseUri('sip:alice@example.com');
  u.user = 'a b@c';
  u.params['tag x'] = 'v;1';
  const text = formatUri(u);
  assert.equal(text, 'sip:a%20b%40c@example.com;tag%20x=v%3B1');
  const back = parseUri(text);
  assert.equal(back.user, 'a b@c');
  assert.equal(back.params['tag x'], 'v;1');
});

test('uriEquals: host case-insensitive, user case-sensitive, port and transport significant (RFC 3261 §19.1.4)', () => {
  assert.ok(uriEquals(parseUri('sip:alice@EXAMPLE.com;transport=tcp'), parseUri('sip:alice@example.com;Transport=TCP')));
  assert.ok(!uriEquals(parseUri('sip:Alice@example.com'), parseUri('sip:alice@example.com')));
  assert.ok(!uriEquals(parseUri('sip:alice@example.com'), parseUri('sip:alice@example.com:5060')));
  assert.ok(!uriEquals(parseUri('sip:alice@example.com'), parseUri('sip:alice@example.com;transport=tcp')));
  assert.ok(!uriEquals(parseUri('sip:alice@example.com'), parseUri('sips:alice@example.com')));
});

test('a parameter or URI header named __proto__ is an own field, not the prototype', () => {
  const u = parseUri('sip:alice@example.com;__proto__;constructor=x?__proto__=y');
  assert.equal(Object.getPrototypeOf(u.params), Object.prototype);
  assert.ok(Object.hasOwn(u.params, '__proto__'));
  assert.equal(Object.getOwnPropertyDescriptor(u.params, '__proto__')?.value, null);
  assert.equal(u.params.constructor, 'x');
  assert.equal(formatUri(u), 'sip:alice@example.com;__proto__;constructor=x?__proto__=y');
});
