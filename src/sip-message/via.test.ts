import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVia, parseVia, parseViaList } from './via.js';
import { SipParseError } from './errors.js';

test('parses sent-protocol, sent-by and params (RFC 3261 §20.42)', () => {
  const v = parseVia('SIP/2.0/udp PC33.Atlanta.com:5066;branch=z9hG4bK776asdhds;rport;received=192.0.2.1');
  assert.equal(v.protocol, 'SIP/2.0');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.host, 'pc33.atlanta.com');
  assert.equal(v.port, 5066);
  assert.equal(v.branch, 'z9hG4bK776asdhds');
  assert.deepEqual(v.params, { branch: 'z9hG4bK776asdhds', rport: null, received: '192.0.2.1' });
});

test('whitespace around / : and ; is allowed (SWS)', () => {
  const v = parseVia('SIP  /   2.0 /UDP 192.0.2.2 : 5070 ; branch = abc');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.port, 5070);
  assert.equal(v.branch, 'abc');
});

test('IPv6 sent-by', () => {
  const v = parseVia('SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKx');
  assert.equal(v.host, '2001:db8::9');
  assert.equal(v.port, 5060);
  assert.equal(formatVia(v), 'SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKx');
});

test('a comma-joined Via line yields every via-parm', () => {
  const list = parseViaList('SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/TCP b.example:5061;branch=z9hG4bK2');
  assert.deepEqual(
    list.map((v) => v.host),
    ['a.example', 'b.example'],
  );
});

test('rejects malformed Via values', () => {
  for (const bad of ['', 'SIP/2.0', 'SIP/2.0/UDP', 'SIP/2.0/UDP host:99999', 'SIP/2.0/UDP 192.0.2.15;;', 'SIP/2.0/UDP host;branch=', 'SIP/2.0/UDP host junk', 'SIP 2.0/UDP host']) {
    assert.throws(() => parseVia(bad), SipParseError, bad);
  }
});
