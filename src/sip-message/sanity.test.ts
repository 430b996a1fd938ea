import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest, type SanityOptions } from './sanity.js';
import { parseMessage } from './parser.js';
import type { SipMessage } from './sip-message.js';

const OPTS: SanityOptions = { supportedExtensions: new Set(['100rel', 'timer']), acceptedContentTypes: new Set(['application/sdp']) };

function req(extra = '', method = 'INVITE', body = ''): SipMessage {
  const text =
    `${method} sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK3\r\nMax-Forwards: 70\r\nTo: <sip:bob@biloxi.com>\r\n` +
    `From: <sip:alice@atlanta.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 ${method}\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.msg;
}

test('a clean request passes', () => {
  assert.equal(checkRequest(req(), OPTS), null);
  assert.equal(checkRequest(req('Content-Type: application/sdp\r\n', 'INVITE', 'v=0\r\n'), OPTS), null);
});

test('420 lists every unsupported Require tag in Unsupported, but never for ACK or CANCEL', () => {
  const r = checkRequest(req('Require: 100rel, foo, bar\r\n'), OPTS);
  assert.deepEqual(r, { status: 420, reason: 'Bad Extension', headers: [['unsupported', 'foo, bar']] });
  assert.equal(checkRequest(req('Require: foo\r\n', 'CANCEL'), OPTS), null);
  assert.equal(checkRequest(req('Require: foo\r\n', 'ACK'), OPTS), null);
});

test('483 when Max-Forwards is 0, except for OPTIONS', () => {
  const m = req();
  m.set('max-forwards', '0');
  assert.equal(checkRequest(m, OPTS)?.status, 483);
  const o = req('', 'OPTIONS');
  o.set('max-forwards', '0');
  assert.equal(checkRequest(o, OPTS), null);
});

test('416 for a Request-URI scheme we do not serve', () => {
  const m = req();
  m.ruriText = 'mailto:bob@biloxi.com';
  assert.equal(checkRequest(m, OPTS)?.status, 416);
  m.ruriText = 'tel:+15551234';
  assert.equal(checkRequest(m, OPTS), null);
});

test('415 with Accept for a body type we cannot read; Content-Encoding too; handling=optional is exempt', () => {
  const r = checkRequest(req('Content-Type: application/x-foo\r\n', 'INVITE', 'abc'), OPTS);
  assert.equal(r?.status, 415);
  assert.deepEqual(r?.headers, [['accept', 'application/sdp']]);
  assert.equal(checkRequest(req('Content-Type: application/sdp\r\nContent-Encoding: gzip\r\n', 'INVITE', 'abc'), OPTS)?.status, 415);
  assert.equal(checkRequest(req('Content-Type: application/x-foo\r\nContent-Disposition: render;handling=optional\r\n', 'INVITE', 'abc'), OPTS), null);
});

test('400: CSeq method mismatch, repeated single-value headers, bad Expires, bad Contact, Content-Length mismatch', () => {
  const m = req();
  m.set('cseq', '1 BYE');
  assert.equal(checkRequest(m, OPTS)?.status, 400);
  const dup = req('Subject: a\r\nSubject: b\r\n');
  assert.equal(checkRequest(dup, OPTS)?.status, 400);
  assert.equal(checkRequest(req('Expires: 1e9\r\n'), OPTS)?.status, 400);
  assert.equal(checkRequest(req('Contact: <sip:a@b\r\n'), OPTS)?.status, 400);
  const cl = req();
  cl.set('content-length', '10');
  assert.equal(checkRequest(cl, OPTS)?.status, 400);
});

test('REGISTER: wildcard only alone with Expires 0; contact expires numeric; To must be SIP', () => {
  assert.equal(checkRequest(req('Contact: *\r\nExpires: 0\r\n', 'REGISTER'), OPTS), null);
  assert.equal(checkRequest(req('Contact: *\r\nExpires: 60\r\n', 'REGISTER'), OPTS)?.status, 400);
  assert.equal(checkRequest(req('Contact: *, <sip:a@b>\r\nExpires: 0\r\n', 'REGISTER'), OPTS)?.status, 400);
  assert.equal(checkRequest(req('Contact: <sip:a@b>;expires=99999999999999\r\n', 'REGISTER'), OPTS)?.status, 400);
  assert.equal(checkRequest(req('Contact: <sip:a@b>;expires=3600\r\n', 'REGISTER'), OPTS), null);
});

test('505 for another SIP version, checked first', () => {
  const r = parseMessage(Buffer.from(req().toString().replace('SIP/2.0\r\n', 'SIP/3.0\r\n')));
  assert.ok(!r.ok && r.msg);
  assert.equal(checkRequest(r.msg, OPTS)?.status, 505);
});

test('method inspection (405/501) runs after 400 and before 416, 420 and 415 (RFC 3261 §8.2.1–8.2.3)', () => {
  const refuse405 = { status: 405, reason: 'Method Not Allowed', headers: [['allow', 'INVITE']] as [string, string][] };
  const opts: SanityOptions = { ...OPTS, methodCheck: (m) => (m.method === 'MESSAGE' ? refuse405 : null) };
  // a body we cannot take: 415 without the hook, 405 with it
  const msg = req('Content-Type: multipart/mixed;boundary=x\r\nRequire: foo\r\n', 'MESSAGE', 'abc');
  assert.equal(checkRequest(msg, OPTS)?.status, 420);
  assert.deepEqual(checkRequest(msg, opts), refuse405);
  msg.ruriText = 'soap.beep://192.0.2.103:3002';
  assert.equal(checkRequest(msg, opts)?.status, 405);
  // syntax errors still come first
  const dup = req('', 'MESSAGE');
  dup.add('call-id', 'c2');
  assert.equal(checkRequest(dup, opts)?.status, 400);
  // methods the hook accepts go on to the usual checks
  assert.equal(checkRequest(req('Content-Type: application/x-foo\r\n', 'INVITE', 'abc'), opts)?.status, 415);
});

test('400 for a malformed Via at any place in the list; a clean request keeps the top Via its accessor parsed', () => {
  // a second Via in the same header, and one in a header of its own
  assert.equal(checkRequest(req('Via: SIP/2.0/UDP ok.example.com;branch=z9hG4bK4, SIP/2.0/UDP [::1;branch=z9hG4bK5\r\n'), OPTS)?.status, 400);
  assert.equal(checkRequest(req('Via: SIP/2.0/UDP [::1;branch=z9hG4bK5\r\n'), OPTS)?.status, 400);
  assert.equal(checkRequest(req('Via: SIP/2.0/UDP ok.example.com;branch=z9hG4bK4\r\n'), OPTS), null);
  const top = req();
  top.set('via', 'SIP/2.0/UDP [::1;branch=z9hG4bK3');
  assert.deepEqual(checkRequest(top, OPTS), { status: 400, reason: 'Bad Request - malformed via' });
  const m = req('Via: SIP/2.0/UDP ok.example.com;branch=z9hG4bK4\r\n');
  const parsed = m.topVia;
  assert.equal(checkRequest(m, OPTS), null);
  assert.equal(m.topVia, parsed);
  assert.equal(parsed.host, 'pc33.atlanta.com');
});
