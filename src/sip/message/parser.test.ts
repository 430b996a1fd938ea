import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, SIP_PARSE_ERRORS } from './parser.js';
import { SipMessage, SipParseError } from './sip-message.js';

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
