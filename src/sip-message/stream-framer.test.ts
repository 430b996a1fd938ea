import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from './stream-framer.js';

const msg = (body = ''): Buffer =>
  Buffer.from(
    `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );

test('a message split over many reads comes out once, whole', () => {
  const m = msg('hello body');
  const f = new StreamFramer();
  const got: Buffer[] = [];
  for (let i = 0; i < m.length; i += 7) got.push(...f.push(m.subarray(i, i + 7)).messages);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], m);
  assert.equal(f.buffered, 0);
});

test('pipelined messages in one read are all framed, a partial tail is kept', () => {
  const a = msg('one');
  const b = msg('two!');
  const f = new StreamFramer();
  const r = f.push(Buffer.concat([a, b, a.subarray(0, 20)]));
  assert.deepEqual(r.messages, [a, b]);
  assert.equal(f.buffered, 20);
  assert.deepEqual(f.push(a.subarray(20)).messages, [a]);
});

test('CRLFCRLF ping asks for a CRLF pong; a lone CRLF is skipped (RFC 5626 §3.5.1)', () => {
  const f = new StreamFramer();
  const r = f.push(Buffer.from('\r\n\r\n'));
  assert.equal(r.keepAlive, true);
  assert.equal(r.messages.length, 0);
  const r2 = f.push(Buffer.concat([Buffer.from('\r\n'), msg()]));
  assert.equal(r2.keepAlive, false);
  assert.equal(r2.messages.length, 1);
});

test('a ping split across reads is still recognised', () => {
  const f = new StreamFramer();
  assert.equal(f.push(Buffer.from('\r\n')).keepAlive, false);
  assert.equal(f.push(Buffer.from('\r\n')).keepAlive, true);
});

test('missing Content-Length on a stream is a framing error (RFC 3261 §18.3) and stays one', () => {
  const f = new StreamFramer();
  const r = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n'));
  assert.match(r.error ?? '', /Content-Length/);
  assert.ok(f.push(msg()).error, 'the connection must be closed; later data is refused');
});

test('oversize messages and endless headers are refused', () => {
  const big = new StreamFramer({ maxMessage: 1000 });
  assert.ok(big.push(msg('x'.repeat(2000))).error);
  const endless = new StreamFramer({ maxMessage: 1000 });
  let err: string | undefined;
  for (let i = 0; i < 50 && !err; i++) err = endless.push(Buffer.from('X-Junk: ' + 'a'.repeat(60) + '\r\n')).error;
  assert.ok(err);
});

test('compact l: form and two Content-Length headers', () => {
  const f = new StreamFramer();
  const compact = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi');
  assert.deepEqual(f.push(compact).messages, [compact]);
  assert.ok(new StreamFramer().push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\nContent-Length: 2\r\n\r\nhi')).error);
});
