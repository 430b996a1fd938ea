import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressWorker, markedWorker, packetOwner } from './worker-route.js';
import { portShare, readWorkerEnv, workerMark } from '../core/workers.js';

const msg = (lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n\r\n');

test('a response goes to the worker marked in its top Via branch, not a lower one', () => {
  const res = msg([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK${workerMark(1)}abc0;rport=5060, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKpw0.x`,
    'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKpw0.y',
    'To: <sip:1002@x>;tag=pw0.zz',
    'Call-ID: a',
  ]);
  assert.equal(markedWorker(res), 1);
  // compact form, other case
  assert.equal(markedWorker(msg(['SIP/2.0 180 Ringing', 'v : SIP/2.0/UDP h;BRANCH=z9hG4bKPW3.q', 't: <sip:a@b>;tag=pw1.x'])), 3);
  // a foreign branch on top: no mark, whatever follows
  assert.equal(markedWorker(msg(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bKfoo, SIP/2.0/UDP h;branch=z9hG4bKpw1.a'])), -1);
});

test('a request goes to the worker marked in its To tag (in-dialog, ACK); none → the address hash', () => {
  const bye = msg(['BYE sip:1001@127.0.0.2 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKpw0.zz', 'From: <sip:b@x>;tag=pw0.1', `To: <sip:a@x>;tag=${workerMark(12)}77`]);
  assert.equal(markedWorker(bye), 12);
  assert.equal(packetOwner(bye, '127.0.0.3', 13), 12);
  // a mark beyond the workers running (a restart with fewer): the address decides
  assert.equal(packetOwner(bye, '127.0.0.3', 2), addressWorker('127.0.0.3', 2));
  // a new INVITE: no To tag; the Via branch of a request never counts
  const invite = msg(['INVITE sip:1002@x SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKpw1.zz', 'From: <sip:b@x>;tag=pw1.1', 'To: <sip:1002@x>']);
  assert.equal(markedWorker(invite), -1);
  assert.equal(packetOwner(invite, '127.0.0.3', 2), addressWorker('127.0.0.3', 2));
  // a foreign tag, a malformed mark
  assert.equal(markedWorker(msg(['ACK sip:x SIP/2.0', 'To: <sip:a@x>;tag=abc'])), -1);
  assert.equal(markedWorker(msg(['ACK sip:x SIP/2.0', 'To: <sip:a@x>;tag=pwx.1'])), -1);
  assert.equal(markedWorker(msg(['ACK sip:x SIP/2.0', 'To: <sip:a@x>;tag=pw1'])), -1);
  // the To of the body is not a header
  assert.equal(markedWorker(Buffer.from('MESSAGE sip:x SIP/2.0\r\nFrom: <sip:a@x>;tag=1\r\n\r\nTo: <sip:a@x>;tag=pw1.x\r\n')), -1);
  // junk never throws
  assert.equal(markedWorker(Buffer.from('\n\n:::')), -1);
  assert.equal(markedWorker(Buffer.alloc(0)), -1);
});

test('an INVITE with Replaces goes to the worker whose mark its Call-ID carries (the dialog it replaces); a To tag mark still wins', () => {
  const pickup = msg([
    'INVITE sip:1002@x SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKabc',
    'From: <sip:1003@x>;tag=p1',
    'To: <sip:1002@x>',
    `Replaces: ${workerMark(1)}ca37582016r26fd2d@127.0.0.1;to-tag=pw1.aa;from-tag=xyz;early-only`,
    'Call-ID: fresh@phone',
  ]);
  assert.equal(markedWorker(pickup), 1);
  assert.equal(packetOwner(pickup, '127.0.0.3', 2), 1);
  // any case, blanks after the colon
  assert.equal(markedWorker(msg(['INVITE sip:a@x SIP/2.0', 'To: <sip:a@x>', 'REPLACES:   PW3.x;to-tag=1;from-tag=2'])), 3);
  // a foreign Call-ID in Replaces: the address decides
  assert.equal(markedWorker(msg(['INVITE sip:a@x SIP/2.0', 'To: <sip:a@x>', 'Replaces: 123@phone;to-tag=pw1.1;from-tag=2'])), -1);
  // a re-INVITE: its To tag decides, wherever Replaces points
  assert.equal(markedWorker(msg(['INVITE sip:a@x SIP/2.0', 'To: <sip:a@x>;tag=pw0.k', 'Replaces: pw1.x;to-tag=1;from-tag=2'])), 0);
  // only an INVITE is steered by Replaces
  assert.equal(markedWorker(msg(['OPTIONS sip:a@x SIP/2.0', 'To: <sip:a@x>', 'Replaces: pw1.x;to-tag=1;from-tag=2'])), -1);
});

test('header names are matched whole and in any case; a mark needs its dot and at most three digits', () => {
  // "Tv:" and "Viax:" are not Via, "Tot:" is not To
  assert.equal(markedWorker(msg(['SIP/2.0 200 OK', 'Tv: x;branch=z9hG4bKpw1.a', 'Viax: x;branch=z9hG4bKpw1.a', 'VIA: SIP/2.0/UDP h;Branch=Z9HG4BKpW2.b'])), 2);
  assert.equal(markedWorker(msg(['BYE sip:x SIP/2.0', 'Tot: <sip:a@x>;tag=pw1.a', 'TO : <sip:a@x>;TAG=PW4.b'])), 4);
  // a comma in a To display name does not hide its tag
  assert.equal(markedWorker(msg(['BYE sip:x SIP/2.0', 'To: "Doe, Jane" <sip:a@x>;tag=pw1.a'])), 1);
  // four digits, no dot, the line's end right after the digits
  assert.equal(markedWorker(msg(['BYE sip:x SIP/2.0', 'To: <sip:a@x>;tag=pw1234.a'])), -1);
  assert.equal(markedWorker(msg(['BYE sip:x SIP/2.0', 'To: <sip:a@x>;tag=pw12a'])), -1);
  assert.equal(markedWorker(Buffer.from('BYE sip:x SIP/2.0\r\nTo: <sip:a@x>;tag=pw1')), -1);
  // Replaces is read only in an INVITE and only under its own name
  assert.equal(markedWorker(msg(['INVITE sip:a@x SIP/2.0', 'To: <sip:a@x>', 'Replacex: pw1.x;to-tag=1;from-tag=2'])), -1);
});

test('the address hash is stable and spreads loopback addresses over two workers', () => {
  const seen = new Set<number>();
  for (let i = 2; i < 12; i++) seen.add(addressWorker(`127.0.0.${i}`, 2));
  assert.deepEqual([...seen].sort(), [0, 1]);
  assert.equal(addressWorker('127.0.0.2', 2), addressWorker('127.0.0.2', 2));
});

test('the RTP range splits into disjoint whole pairs, the last worker taking the rest', () => {
  assert.deepEqual(portShare(10000, 10999, 0, 2), { portMin: 10000, portMax: 10499 });
  assert.deepEqual(portShare(10000, 10999, 1, 2), { portMin: 10500, portMax: 10999 });
  const three = [0, 1, 2].map((i) => portShare(10000, 10101, i, 3));
  assert.deepEqual(three, [
    { portMin: 10000, portMax: 10033 },
    { portMin: 10034, portMax: 10067 },
    { portMin: 10068, portMax: 10101 },
  ]);
  for (const s of three) assert.equal(s.portMin % 2, 0);
  assert.throws(() => portShare(10000, 10009, 0, 3), /too few for 3 workers/);
});

test('the worker environment is "INDEX/COUNT"', () => {
  assert.deepEqual(readWorkerEnv('1/2'), { index: 1, count: 2 });
  assert.equal(readWorkerEnv('2/2'), null);
  assert.equal(readWorkerEnv(undefined), null);
  assert.equal(readWorkerEnv('x'), null);
});
