import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse, buildResponseBuffer, reasonPhrase } from './response.js';
import { parseMessage } from './parser.js';

const INVITE = Buffer.from(
  'INVITE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP p1.example;branch=z9hG4bK1, SIP/2.0/UDP p2.example;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK3\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nTimestamp: 54\r\nContent-Length: 0\r\n\r\n',
);

test('copies all Vias in order, From, To, Call-ID, CSeq (RFC 3261 §8.2.6.2)', () => {
  const r = parseMessage(INVITE);
  assert.ok(r.ok);
  const res = buildResponse(r.msg, 180, undefined, { toTag: 'a6c85cf' });
  assert.equal(res.status, 180);
  assert.equal(res.reason, 'Ringing');
  assert.deepEqual(
    res.vias.map((v) => v.branch),
    ['z9hG4bK1', 'z9hG4bK2', 'z9hG4bK3'],
  );
  assert.equal(res.to.params['tag'], 'a6c85cf');
  assert.equal(res.from.params['tag'], '1928301774');
  assert.equal(res.callId, 'a84b4c76e66710');
  assert.deepEqual(res.cseq, { seq: 314159, method: 'INVITE' });
  assert.equal(res.get('timestamp'), undefined);
});

test('100 Trying copies Timestamp and never adds a To tag', () => {
  const r = parseMessage(INVITE);
  assert.ok(r.ok);
  const res = buildResponse(r.msg, 100, undefined, { toTag: 'x' });
  assert.equal(res.get('timestamp'), '54');
  assert.equal(res.to.params['tag'], undefined);
});

test('an existing To tag is kept, extra headers, body and Server are added, wire form parses', () => {
  const r = parseMessage(Buffer.from(INVITE.toString().replace('To: Bob <sip:bob@biloxi.com>', 'To: Bob <sip:bob@biloxi.com>;tag=old')));
  assert.ok(r.ok);
  const buf = buildResponseBuffer(r.msg, 488, 'Not Here', {
    toTag: 'new',
    headers: [['warning', '304 pbx "codec"']],
    body: Buffer.from('v=0\r\n'),
    contentType: 'application/sdp',
    server: 'Palisade',
  });
  const back = parseMessage(buf);
  assert.ok(back.ok);
  assert.equal(back.msg.reason, 'Not Here');
  assert.equal(back.msg.to.params['tag'], 'old');
  assert.equal(back.msg.get('server'), 'Palisade');
  assert.equal(back.msg.get('warning'), '304 pbx "codec"');
  assert.equal(back.msg.get('content-type'), 'application/sdp');
  assert.equal(back.msg.body.toString(), 'v=0\r\n');
});

test('works on the partial message of a failed parse (answer 400)', () => {
  const r = parseMessage(Buffer.from(INVITE.toString().replace('Call-ID: a84b4c76e66710\r\n', '')));
  assert.ok(!r.ok);
  assert.ok(r.msg);
  const res = buildResponse(r.msg, 400);
  assert.equal(res.reason, 'Bad Request');
  assert.equal(res.get('call-id'), undefined);
  assert.equal(res.vias.length, 3);
});

test('reason phrases: RFC 3261 table, unknown codes fall back to their class', () => {
  assert.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
  assert.equal(reasonPhrase(420), 'Bad Extension');
  assert.equal(reasonPhrase(499), 'Bad Request');
  assert.equal(reasonPhrase(699), 'Busy Everywhere');
});

test('a Via line that does not split cleanly is copied verbatim, a clean one split per value', () => {
  const r = parseMessage(Buffer.from(INVITE.toString().replace('Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK3', 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,')));
  assert.ok(r.msg);
  const vias = buildResponse(r.msg, 400)
    .headers.filter((h) => h.name === 'via')
    .map((h) => h.value);
  assert.deepEqual(vias, ['SIP/2.0/UDP p1.example;branch=z9hG4bK1', 'SIP/2.0/UDP p2.example;branch=z9hG4bK2', 'SIP/2.0/UDP 192.0.2.15;;,;,,']);
});
