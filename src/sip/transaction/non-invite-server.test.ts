// Non-INVITE server transaction, RFC 3261 §17.2.2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse } from '../../sip-message/response.js';
import type { ServerTransaction } from './server-transaction.js';
import { request, rig, TCP, UDP } from '../../../test/support/sip-transaction-rig.js';

function incoming(r: ReturnType<typeof rig>, method = 'OPTIONS', remote = UDP): ServerTransaction {
  r.tm.receiveRequest(request(method, { transport: remote.transport }), remote);
  return r.tu.requests.at(-1)!.tx;
}

test('Trying: the request is passed to the TU once; further retransmissions are discarded', () => {
  const r = rig();
  const tx = incoming(r);
  assert.equal(tx.state, 'trying');
  r.tm.receiveRequest(request('OPTIONS'), UDP);
  r.tm.receiveRequest(request('OPTIONS'), UDP);
  assert.equal(r.tu.requests.length, 1);
  assert.equal(r.sender.sent.length, 0);
});

test('a provisional from the TU MUST move Trying to Proceeding; a retransmission MUST re-send the most recent provisional', () => {
  const r = rig();
  const tx = incoming(r, 'REGISTER');
  tx.respond(buildResponse(tx.request, 100));
  assert.equal(tx.state, 'proceeding');
  tx.respond(buildResponse(tx.request, 182, undefined, { toTag: 'u1' }));
  r.tm.receiveRequest(request('REGISTER'), UDP);
  assert.deepEqual(
    [0, 1, 2].map((i) => r.sender.msg(i).status),
    [100, 182, 182],
  );
});

test('a final response MUST move to Completed; retransmissions MUST re-send it; other finals MUST be discarded', () => {
  const r = rig();
  const tx = incoming(r);
  assert.equal(tx.respond(buildResponse(tx.request, 200, undefined, { toTag: 'u1' })), true);
  assert.equal(tx.state, 'completed');
  r.tm.receiveRequest(request('OPTIONS'), UDP);
  assert.equal(tx.respond(buildResponse(tx.request, 500, undefined, { toTag: 'u1' })), false);
  assert.deepEqual(
    [0, 1].map((i) => r.sender.msg(i).status),
    [200, 200],
  );
  assert.equal(r.sender.sent.length, 2);
  // Completed keeps only the response bytes it resends, not the parsed messages
  assert.equal(tx.lastResponse, undefined);
  assert.equal(tx.request.headers.length, 0);
});

test('Completed re-sends the final response byte for byte, a binary body and non-ASCII header text included', () => {
  const r = rig();
  const tx = incoming(r, 'MESSAGE');
  const res = buildResponse(tx.request, 200, 'OK \u00e9\u4e2d', { toTag: 'u1' });
  res.body = Buffer.from([0x00, 0xff, 0x80, 0xc3, 0x28, 0x0d, 0x0a, 0xe2, 0x82]);
  tx.respond(res);
  r.tm.receiveRequest(request('MESSAGE'), UDP);
  r.tm.receiveRequest(request('MESSAGE'), UDP);
  assert.equal(r.sender.sent.length, 3);
  assert.ok(r.sender.sent[0]!.data.includes(Buffer.from('\u4e2d', 'utf8')));
  assert.deepEqual(r.sender.sent[1]!.data, r.sender.sent[0]!.data);
  assert.deepEqual(r.sender.sent[2]!.data, r.sender.sent[0]!.data);
});

test('Timer J: Completed lasts 64*T1 over UDP, then the transaction MUST be Terminated and destroyed', () => {
  const r = rig();
  const tx = incoming(r);
  let ended = 0;
  tx.onTerminated = () => ended++;
  tx.respond(buildResponse(tx.request, 404, undefined, { toTag: 'u1' }));
  r.clock.advance(31_999);
  assert.equal(tx.state, 'completed');
  assert.equal(r.tm.stats().server, 1);
  r.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(ended, 1);
  assert.equal(r.tm.stats().server, 0);
  // a late retransmission is now a new request for the TU
  r.tm.receiveRequest(request('OPTIONS'), UDP);
  assert.equal(r.tu.requests.length, 2);
});

test('Timer J is zero seconds for reliable transports', () => {
  const r = rig();
  const tx = incoming(r, 'OPTIONS', TCP);
  tx.respond(buildResponse(tx.request, 200, undefined, { toTag: 'u1' }));
  assert.equal(tx.state, 'terminated');
  assert.equal(r.tm.stats().server, 0);
  assert.equal(r.clock.pending, 0);
});

test('a transport error in Completed SHOULD inform the TU and terminate (§17.2.4)', () => {
  const r = rig();
  const tx = incoming(r);
  tx.respond(buildResponse(tx.request, 200, undefined, { toTag: 'u1' }));
  let why = '';
  tx.onTerminated = (reason) => (why = reason);
  r.tm.transportError(UDP);
  assert.equal(why, 'transport-error');
  assert.equal(r.clock.pending, 0);
});

test('§8.2.7 stateless answer: the response is sent and the transaction forgotten at once, with no timer', () => {
  const r = rig();
  const tx = incoming(r, 'REGISTER');
  assert.equal(tx.respondStateless(buildResponse(tx.request, 401, undefined, { toTag: 'u1' })), true);
  assert.equal(r.sender.msg(0).status, 401);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(r.tm.stats(), { server: 0, client: 0 });
  assert.equal(r.clock.pending, 0);
  assert.equal(tx.respondStateless(buildResponse(tx.request, 401)), false);
  r.tm.receiveRequest(request('REGISTER'), UDP);
  assert.equal(r.tu.requests.length, 2, 'a retransmission reaches the TU again, which answers it again');
});
