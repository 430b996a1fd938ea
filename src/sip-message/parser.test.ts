import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, SIP_PARSE_ERRORS } from './parser.js';
import { type SipMessage, SipParseError } from './sip-message.js';

const REG = [
  'REGISTER sip:registrar.biloxi.com SIP/2.0',
  'v: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7',
  'Max-Forwards: 70',
  't: Bob <sip:bob@biloxi.com>',
  'f: Bob <sip:bob@biloxi.com>;tag=456248',
  'i: 843817637684230@998sdasdh09',
  'CSeq: 1826 REGISTER',
  'm: <sip:bob@192.0.2.4>',
  'Expires: 7200',
  'X-Folded: first',
  ' \t second',
  'l: 0',
  '',
  '',
].join('\r\n');

function ok(text: string | Buffer, opts?: Parameters<typeof parseMessage>[1]): SipMessage {
  const r = parseMessage(typeof text === 'string' ? Buffer.from(text) : text, opts);
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.error}`);
  return r.msg;
}

test('compact forms expand to lower-case long names; folding collapses to one SP', () => {
  const m = ok(REG);
  assert.equal(m.method, 'REGISTER');
  assert.deepEqual(
    m.headers.map((h) => h.name),
    ['via', 'max-forwards', 'to', 'from', 'call-id', 'cseq', 'contact', 'expires', 'x-folded', 'content-length'],
  );
  assert.equal(m.get('x-folded'), 'first second');
  assert.equal(m.topVia.branch, 'z9hG4bKnashds7');
  assert.equal(m.from.params['tag'], '456248');
  assert.equal(m.callId, '843817637684230@998sdasdh09');
  assert.deepEqual(m.cseq, { seq: 1826, method: 'REGISTER' });
  assert.equal(m.contacts[0]!.uri.host, '192.0.2.4');
});

test('serializer round-trip: toBuffer() parses back to the same headers and body', () => {
  const m = ok(REG);
  m.body = Buffer.from('v=0\r\n');
  const again = ok(m.toBuffer());
  assert.deepEqual(
    again.headers.filter((h) => h.name !== 'content-length'),
    m.headers.filter((h) => h.name !== 'content-length'),
  );
  assert.equal(again.get('content-length'), '5');
  assert.deepEqual(again.body, m.body);
  assert.match(m.toString(), /^REGISTER sip:registrar\.biloxi\.com SIP\/2\.0\r\nVia: /);
  assert.match(m.toString(), /\r\nCall-ID: /);
});

test('UDP Content-Length: longer datagram truncated, shorter is an error, absent means the rest', () => {
  const base = REG.replace('l: 0\r\n', 'l: 4\r\n');
  assert.equal(ok(base + 'abcdEXTRA').body.toString(), 'abcd');
  const short = parseMessage(Buffer.from(base + 'ab'));
  assert.ok(!short.ok);
  assert.equal(short.code, SIP_PARSE_ERRORS.BODY_TRUNCATED);
  assert.ok(short.msg, 'enough for a 400');
  const none = REG.replace('l: 0\r\n', '');
  assert.equal(ok(none + 'rest of datagram').body.toString(), 'rest of datagram');
  const stream = parseMessage(Buffer.from(none), { stream: true });
  assert.ok(!stream.ok);
  assert.equal(stream.code, SIP_PARSE_ERRORS.NO_CONTENT_LENGTH);
});

test('the body is a slice of the input Buffer, not a copy', () => {
  const buf = Buffer.from(REG.replace('l: 0\r\n', 'l: 3\r\n') + 'xyz');
  const m = ok(buf);
  assert.equal(m.body.buffer, buf.buffer);
});

test('hard limits: size, header count, header line length', () => {
  assert.equal((parseMessage(Buffer.from(REG), { maxSize: 100 }) as { code: string }).code, SIP_PARSE_ERRORS.TOO_LARGE);
  const many = REG.replace('l: 0', Array.from({ length: 300 }, (_, i) => `X-H${i}: v`).join('\r\n') + '\r\nl: 0');
  assert.equal((parseMessage(Buffer.from(many)) as { code: string }).code, SIP_PARSE_ERRORS.TOO_MANY_HEADERS);
  const long = REG.replace('l: 0', 'X-Long: ' + 'a'.repeat(9000) + '\r\nl: 0');
  assert.equal((parseMessage(Buffer.from(long)) as { code: string }).code, SIP_PARSE_ERRORS.HEADER_TOO_LONG);
});

test('start line validation', () => {
  const bad = (line: string, code: string) => {
    const r = parseMessage(Buffer.from(REG.replace('REGISTER sip:registrar.biloxi.com SIP/2.0', line)));
    assert.ok(!r.ok, line);
    assert.equal(r.code, code, line);
  };
  bad('REGISTER  sip:registrar.biloxi.com SIP/2.0', SIP_PARSE_ERRORS.BAD_START_LINE);
  bad('REGISTER sip:registrar.biloxi.com SIP/2.0 ', SIP_PARSE_ERRORS.BAD_START_LINE);
  bad('REGISTER <sip:registrar.biloxi.com> SIP/2.0', SIP_PARSE_ERRORS.BAD_START_LINE);
  bad('REGISTER sip:registrar.biloxi.com', SIP_PARSE_ERRORS.BAD_START_LINE);
  bad('REG:STER sip:registrar.biloxi.com SIP/2.0', SIP_PARSE_ERRORS.BAD_START_LINE);
  bad('SIP/2.0 4294967301 Big', SIP_PARSE_ERRORS.BAD_STATUS);
  bad('SIP/2.0 99 Low', SIP_PARSE_ERRORS.BAD_STATUS);
  bad('REGISTER sip:registrar.biloxi.com SIP/3.0', SIP_PARSE_ERRORS.BAD_VERSION);
  const res = ok(REG.replace('REGISTER sip:registrar.biloxi.com SIP/2.0', 'SIP/2.0 486 Busy Here'));
  assert.equal(res.status, 486);
  assert.equal(res.reason, 'Busy Here');
  assert.equal(res.isRequest, false);
});

test('mandatory headers are validated eagerly; others stay lazy and throw SipParseError on read', () => {
  for (const [from, to, code] of [
    ['i: 843817637684230@998sdasdh09\r\n', '', SIP_PARSE_ERRORS.MISSING_HEADER],
    ['CSeq: 1826 REGISTER', 'CSeq: x REGISTER', SIP_PARSE_ERRORS.BAD_HEADER],
    ['CSeq: 1826 REGISTER', 'CSeq: 1826 REGISTER\r\nCSeq: 1 REGISTER', SIP_PARSE_ERRORS.DUPLICATE_HEADER],
    ['Max-Forwards: 70', 'Max-Forwards: seventy', SIP_PARSE_ERRORS.BAD_HEADER],
    ['l: 0', 'l: -1', SIP_PARSE_ERRORS.BAD_CONTENT_LENGTH],
    ['v: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7', 'v: SIP/2.0/UDP', SIP_PARSE_ERRORS.BAD_HEADER],
    ['Expires: 7200', 'Expires 7200', SIP_PARSE_ERRORS.BAD_HEADER_LINE],
  ] as const) {
    const r = parseMessage(Buffer.from(REG.replace(from, to)));
    assert.ok(!r.ok, to);
    assert.equal(r.code, code, to);
  }
  const m = ok(REG.replace('m: <sip:bob@192.0.2.4>', 'm: <sip:bob@192.0.2.4').replace('Expires: 7200', 'Expires: soon'));
  assert.throws(() => m.contacts, SipParseError);
  assert.throws(() => m.getInt('expires'), SipParseError);
});

test('never throws, whatever the bytes', () => {
  for (const junk of ['', '\r\n\r\n', '\0\0\0', 'SIP/2.0', 'INVITE', ':\r\n:', '\xff\xfe'.repeat(100)]) {
    const r = parseMessage(Buffer.from(junk, 'latin1'));
    assert.equal(r.ok, false);
  }
});

test('leading CRLFs before the start line are ignored (RFC 3261 §7.5)', () => {
  assert.equal(ok('\r\n\r\n' + REG).method, 'REGISTER');
});

test('a broken Request-Line that starts with a method is salvaged for a 400 (RFC 4475 §3.1.2.7–10)', () => {
  for (const [line, method, uri] of [
    ['REGISTER  sip:registrar.biloxi.com  SIP/2.0', 'REGISTER', 'sip:registrar.biloxi.com'], // lwsstart
    ['REGISTER sip:registrar.biloxi.com SIP/2.0  ', 'REGISTER', 'sip:registrar.biloxi.com'], // trws
    ['REGISTER <sip:registrar.biloxi.com> SIP/2.0', 'REGISTER', '<sip:registrar.biloxi.com>'], // ltgtruri
    ['REGISTER sip:registrar.biloxi.com; lr SIP/2.0', 'REGISTER', 'sip:registrar.biloxi.com; lr'], // lwsruri
    ['REGISTER sip:registrar.biloxi.com', 'REGISTER', 'sip:registrar.biloxi.com'], // test.dat: no SIP-Version
    ['REGISTER sip:registrar.biloxi.com HTTP/1.1', 'REGISTER', 'sip:registrar.biloxi.com HTTP/1.1'],
  ] as const) {
    const r = parseMessage(Buffer.from(REG.replace('REGISTER sip:registrar.biloxi.com SIP/2.0', line)));
    assert.ok(!r.ok, line);
    assert.equal(r.code, SIP_PARSE_ERRORS.BAD_START_LINE, line);
    assert.ok(r.msg, `${line}: partial message`);
    assert.equal(r.msg.isRequest, true);
    assert.equal(r.msg.method, method);
    assert.equal(r.msg.uri, uri);
    assert.equal(r.msg.callId, '843817637684230@998sdasdh09');
    assert.equal(r.msg.topVia.branch, 'z9hG4bKnashds7');
    assert.equal(r.msg.get('cseq'), '1826 REGISTER');
  }
});

test('broken header lines are skipped, the first error is reported, the rest collected', () => {
  const text = REG.replace('Max-Forwards: 70', 'Max-Forwards 70\r\n:empty name\r\n\tlost continuation').replace(
    'Expires: 7200',
    'X-Long: ' + 'a'.repeat(9000) + '\r\n folded rest of it',
  );
  const r = parseMessage(Buffer.from(text));
  assert.ok(!r.ok);
  assert.equal(r.code, SIP_PARSE_ERRORS.BAD_HEADER_LINE);
  assert.ok(r.msg);
  assert.deepEqual(
    r.msg.headers.map((h) => h.name),
    ['via', 'to', 'from', 'call-id', 'cseq', 'contact', 'x-folded', 'content-length'],
  );
  assert.equal(r.msg.get('x-folded'), 'first second', 'a later fold still joins its own header');
  // a too-long header first: that is the error reported, and its fold goes with it
  const long = parseMessage(Buffer.from(REG.replace('Expires: 7200', 'X-Long: ' + 'a'.repeat(9000) + '\r\n more')));
  assert.ok(!long.ok);
  assert.equal(long.code, SIP_PARSE_ERRORS.HEADER_TOO_LONG);
  assert.equal(long.msg?.get('x-long'), undefined);
  assert.equal(long.msg?.get('content-length'), '0');
  // too many headers: stop there, still answerable from what came first
  const many = parseMessage(Buffer.from(REG.replace('l: 0', Array.from({ length: 300 }, (_, i) => `X-H${i}: v`).join('\r\n') + '\r\nl: 0')));
  assert.ok(!many.ok);
  assert.equal(many.code, SIP_PARSE_ERRORS.TOO_MANY_HEADERS);
  assert.equal(many.msg?.callId, '843817637684230@998sdasdh09');
});

test('an unparseable top Via still yields a partial request; the 400 copies it verbatim (RFC 4475 §3.1.2.1)', async () => {
  const { buildResponse } = await import('./response.js');
  const r = parseMessage(Buffer.from(REG.replace('v: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7', 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,')));
  assert.ok(!r.ok);
  assert.equal(r.code, SIP_PARSE_ERRORS.BAD_HEADER);
  assert.ok(r.msg);
  const res = buildResponse(r.msg, 400).toString();
  assert.match(res, /\r\nVia: SIP\/2\.0\/UDP 192\.0\.2\.15;;,;,,\r\n/);
  assert.match(res, /\r\nCall-ID: 843817637684230@998sdasdh09\r\n/);
  assert.match(res, /\r\nCSeq: 1826 REGISTER\r\n/);
  // missing Via and CSeq: still a SIP request (SIP-Version, Call-ID), still answerable
  const bare = parseMessage(Buffer.from(REG.replace(/v: .*\r\n/, '').replace(/CSeq: .*\r\n/, '')));
  assert.ok(!bare.ok && bare.msg);
});

test('no partial message for a response, an ACK, or something that is not SIP', () => {
  const none = (text: string, why: string) => {
    const r = parseMessage(Buffer.from(text, 'latin1'));
    assert.ok(!r.ok, why);
    assert.equal(r.msg, undefined, why);
  };
  const swap = (line: string) => REG.replace('REGISTER sip:registrar.biloxi.com SIP/2.0', line);
  none(swap('SIP/2.0 99 Low'), 'broken Status-Line');
  none(swap('SIP/2.0  200 OK'), 'double SP in a Status-Line');
  none(swap('SIP 200 OK'), 'Status-Line without version number');
  none(swap('ACK  sip:registrar.biloxi.com SIP/2.0'), 'broken ACK Request-Line');
  none(swap('ACK sip:registrar.biloxi.com SIP/2.0').replace('Max-Forwards: 70', 'Max-Forwards 70'), 'ACK with a broken header line');
  none(swap('INV ITE sip:registrar.biloxi.com SIP/2.0').replace('CSeq: 1826 REGISTER', 'CSeq: 1826 ACK'), 'CSeq says ACK');
  none(swap('REG\u00ffSTER sip:registrar.biloxi.com SIP/2.0'), 'no method token before the first SP');
  none('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'HTTP');
  none('INVITE\r\n\r\n', 'a bare word');
  // a response with a broken header line is still not answerable without its Via
  none(swap('SIP/2.0 200 OK').replace(/v: .*\r\n/, 'v SIP/2.0/UDP x\r\n'), 'response without a usable Via');
});
