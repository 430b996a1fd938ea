// INVITE server transaction, RFC 3261 §17.2.1 and RFC 6026 §7.1, §8.5-8.7.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse } from '../../sip-message/response.js';
import type { ServerTransaction, TerminationReason } from './server-transaction.js';
import { request, rig, TCP, UDP } from '../../../test/support/sip-transaction-rig.js';

function invite(r: ReturnType<typeof rig>, remote = UDP, opts: Parameters<typeof request>[1] = {}): ServerTransaction {
  const msg = request('INVITE', { transport: remote.transport, ...opts });
  r.tm.receiveRequest(msg, remote);
  return r.tu.requests.at(-1)!.tx;
}

test('a new INVITE creates a server transaction in Proceeding and the request MUST be passed to the TU', () => {
  const r = rig();
  const tx = invite(r);
  assert.equal(tx.state, 'proceeding');
  assert.equal(r.tu.requests.length, 1);
  assert.equal(r.tm.stats().server, 1);
});

test('100 Trying: the server transaction MUST generate one unless the TU responds within 200 ms (delayed mode)', () => {
  const r = rig({ trying: 'delayed' });
  invite(r);
  r.clock.advance(199);
  assert.equal(r.sender.sent.length, 0);
  r.clock.advance(1);
  const trying = r.sender.msg(0);
  assert.equal(trying.status, 100);
  assert.equal(trying.to.params['tag'], undefined, 'To tag insertion in the 100 is SHOULD NOT');

  const r2 = rig({ trying: 'delayed' });
  const tx2 = invite(r2);
  r2.clock.advance(50);
  tx2.respond(buildResponse(tx2.request, 180, undefined, { toTag: 'x' }));
  r2.clock.advance(500);
  assert.deepEqual(
    r2.sender.sent.map((s) => r2.sender.msg(r2.sender.sent.indexOf(s)).status),
    [180],
    'no 100 once the TU answered',
  );
});

test('100 Trying in immediate mode is sent before the TU sees the INVITE and copies Timestamp (§8.2.6.1)', () => {
  const r = rig({ trying: 'immediate' });
  invite(r, UDP, { extra: ['Timestamp: 54'] });
  const trying = r.sender.msg(0);
  assert.equal(trying.status, 100);
  assert.equal(trying.get('timestamp'), '54');
});

test('Proceeding: provisional responses MUST be sent; a request retransmission MUST re-send the most recent provisional', () => {
  const r = rig();
  const tx = invite(r);
  r.tm.receiveRequest(request('INVITE'), UDP);
  assert.equal(r.sender.sent.length, 0, 'nothing to re-send yet');
  tx.respond(buildResponse(tx.request, 180, undefined, { toTag: 'u1' }));
  tx.respond(buildResponse(tx.request, 183, undefined, { toTag: 'u1' }));
  assert.equal(tx.state, 'proceeding');
  r.tm.receiveRequest(request('INVITE'), UDP);
  assert.deepEqual(
    [0, 1, 2].map((i) => r.sender.msg(i).status),
    [180, 183, 183],
  );
  assert.equal(r.tu.requests.length, 1, 'the retransmission is not passed to the TU');
  assert.deepEqual(r.sender.sent[2]!.remote, UDP);
});

test('300-699 MUST move to Completed; Timer G retransmits the response at T1 doubling up to T2; Timer H (64*T1) MUST report failure', () => {
  const r = rig();
  const tx = invite(r);
  const reasons: TerminationReason[] = [];
  tx.onTerminated = (why) => reasons.push(why);
  tx.respond(buildResponse(tx.request, 486, undefined, { toTag: 'u1' }));
  assert.equal(tx.state, 'completed');
  r.clock.advance(31_999);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 486'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(tx.state, 'completed');
  r.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(reasons, ['timeout']);
  assert.equal(r.tm.stats().server, 0);
  assert.equal(r.clock.pending, 0);
});

test('Completed: a request retransmission SHOULD re-send the final response', () => {
  const r = rig();
  const tx = invite(r);
  tx.respond(buildResponse(tx.request, 404, undefined, { toTag: 'u1' }));
  r.clock.advance(100);
  r.tm.receiveRequest(request('INVITE'), UDP);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 404'), [0, 100]);
});

test('ACK matching a 300-699 MUST move Completed to Confirmed: G stops, Timer I (T4) absorbs ACKs, then Terminated', () => {
  const r = rig();
  const tx = invite(r);
  const reasons: TerminationReason[] = [];
  tx.onTerminated = (why) => reasons.push(why);
  tx.respond(buildResponse(tx.request, 486, undefined, { toTag: 'u1' }));
  r.clock.advance(700);
  // the ACK for a non-2xx reuses the INVITE's branch (§17.1.1.3)
  r.tm.receiveRequest(request('ACK', { toTag: 'u1' }), UDP);
  assert.equal(tx.state, 'confirmed');
  assert.equal(r.tu.acks.length, 0, 'the ACK is absorbed by the transaction');
  r.tm.receiveRequest(request('ACK', { toTag: 'u1' }), UDP);
  r.clock.advance(4999);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 486'), [0, 500], 'retransmissions ceased');
  assert.equal(tx.state, 'confirmed');
  r.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(reasons, ['normal']);
});

test('reliable transport: Timer G is not set, Timer H is, and Timer I is zero', () => {
  const r = rig();
  const tx = invite(r, TCP);
  tx.respond(buildResponse(tx.request, 480, undefined, { toTag: 'u1' }));
  r.clock.advance(10_000);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 480'), [0]);
  r.tm.receiveRequest(request('ACK', { transport: 'tcp', toTag: 'u1' }), TCP);
  assert.equal(tx.state, 'terminated');

  const r2 = rig();
  const tx2 = invite(r2, TCP);
  tx2.respond(buildResponse(tx2.request, 480, undefined, { toTag: 'u1' }));
  r2.clock.advance(32_000);
  assert.equal(tx2.state, 'terminated', 'H runs for all transports');
});

test('RFC 6026: a 2xx from the TU MUST be sent and move to Accepted; INVITE retransmissions are absorbed, not passed to the TU', () => {
  const r = rig();
  const tx = invite(r);
  const inv = tx.request;
  tx.respond(buildResponse(inv, 200, undefined, { toTag: 'u1' }));
  assert.equal(tx.state, 'accepted');
  assert.notEqual(tx.request, inv, 'nothing is resent from Accepted: the INVITE is let go');
  assert.equal(tx.lastResponse, undefined, '... and the 2xx');
  r.clock.advance(2000);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 200'), [0], 'the transaction does not retransmit a 2xx');
  r.tm.receiveRequest(request('INVITE'), UDP);
  assert.equal(r.tu.requests.length, 1);
  assert.equal(r.sender.sent.length, 1);
  assert.equal(tx.respond(buildResponse(inv, 200, undefined, { toTag: 'u1' })), true, 'a 2xx from the TU in Accepted MUST be sent');
  assert.equal(r.sender.sent.length, 2);
  assert.equal(tx.respond(buildResponse(inv, 486, undefined, { toTag: 'u1' })), false);
});

test('RFC 6026: Timer L ends Accepted after 64*T1; an ACK matching it goes to the TU', () => {
  const r = rig();
  const tx = invite(r);
  tx.respond(buildResponse(tx.request, 200, undefined, { toTag: 'u1' }));
  r.tm.receiveRequest(request('ACK', { toTag: 'u1' }), UDP);
  assert.equal(r.tu.acks.length, 1);
  r.clock.advance(31_999);
  assert.equal(tx.state, 'accepted');
  r.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  // afterwards the ACK (own branch, §13.2.2.4) matches nothing and goes to the TU as well
  r.tm.receiveRequest(request('ACK', { toTag: 'u1', branch: 'z9hG4bKack2' }), UDP);
  assert.equal(r.tu.acks.length, 2);
});

test('a transport error in Proceeding SHOULD inform the TU and terminate (§17.2.4)', () => {
  const r = rig();
  const tx = invite(r, TCP);
  const reasons: TerminationReason[] = [];
  tx.onTerminated = (why) => reasons.push(why);
  r.tm.transportError({ transport: 'tcp', address: '127.0.0.1', port: 1, flow: TCP.flow });
  assert.deepEqual(reasons, ['transport-error']);
  assert.equal(r.tm.stats().server, 0);
});

test('a closed connection fails only the transactions that were on it', () => {
  const r = rig();
  const onClosed = invite(r, TCP, { branch: 'z9hG4bKflow7' });
  const other = invite(r, { ...TCP, flow: 8 }, { branch: 'z9hG4bKflow8' });
  const reasons: string[] = [];
  onClosed.onTerminated = (why) => reasons.push('closed:' + why);
  other.onTerminated = (why) => reasons.push('other:' + why);
  r.tm.transportError({ transport: 'tcp', address: '127.0.0.1', port: 1, flow: TCP.flow });
  assert.deepEqual(reasons, ['closed:transport-error']);
  assert.equal(other.state, 'proceeding');
  assert.equal(r.tm.stats().server, 1);
  // the same flow closing again finds nothing left
  r.tm.transportError({ transport: 'tcp', address: '127.0.0.1', port: 1, flow: TCP.flow });
  assert.deepEqual(reasons, ['closed:transport-error']);
});

test('responses go to the source address and port (rport / symmetric), or to the sent-by port when asked to follow §18.2.2 strictly', () => {
  const r = rig();
  const src = { transport: 'udp' as const, address: '127.0.0.5', port: 40000 };
  const tx = invite(r, src, { sentBy: '127.0.0.9:5062' });
  tx.respond(buildResponse(tx.request, 486, undefined, { toTag: 'u1' }));
  assert.deepEqual(r.sender.sent[0]!.remote, src);

  const strict = rig({ symmetricResponses: false });
  const tx2 = invite(strict, src, { sentBy: '127.0.0.9:5062' });
  tx2.respond(buildResponse(tx2.request, 486, undefined, { toTag: 'u1' }));
  assert.deepEqual(strict.sender.sent[0]!.remote, { transport: 'udp', address: '127.0.0.5', port: 5062 });

  const rport = rig({ symmetricResponses: false });
  const tx3 = invite(rport, src, { sentBy: '127.0.0.9:5062;rport' });
  tx3.respond(buildResponse(tx3.request, 486, undefined, { toTag: 'u1' }));
  assert.deepEqual(rport.sender.sent[0]!.remote, src);
});
