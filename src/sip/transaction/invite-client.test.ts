// INVITE client transaction, RFC 3261 §17.1.1 and RFC 6026 §8.4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { ClientTransactionHandlers } from './client-transaction.js';
import { outgoing, response, rig, TCP, UDP } from '../../../test/support/sip-transaction-rig.js';

function recorder(): ClientTransactionHandlers & { responses: SipMessage[]; timeouts: number; transportErrors: number } {
  const r = {
    responses: [] as SipMessage[],
    timeouts: 0,
    transportErrors: 0,
    onResponse: (m: SipMessage) => void r.responses.push(m),
    onTimeout: () => void r.timeouts++,
    onTransportError: () => void r.transportErrors++,
  };
  return r;
}

test('Timer A: over UDP the INVITE MUST be retransmitted at T1, then intervals doubling (500, 1000, 2000 ...) while Calling', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  assert.equal(tx.state, 'calling');
  clock.advance(31_999);
  // sent at 0, then after 500, 1000, 2000, 4000, 8000, 16000 — A is not capped at T2
  assert.deepEqual(sender.timesOf('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(h.timeouts, 0);
});

test('Timer B: still Calling after 64*T1 the transaction SHOULD inform the TU of a timeout and MUST NOT generate an ACK', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  clock.advance(32_000);
  assert.equal(h.timeouts, 1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(sender.timesOf('ACK'), []);
  assert.equal(tm.stats().client, 0, 'destroyed the instant it terminates');
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('timers A and B honour configured T1', () => {
  const { clock, sender, tm } = rig({ timers: { t1: 100 } });
  const h = recorder();
  tm.sendRequest(outgoing('INVITE'), UDP, h);
  clock.advance(6400);
  assert.deepEqual(sender.timesOf('INVITE'), [0, 100, 300, 700, 1500, 3100, 6300]);
  assert.equal(h.timeouts, 1);
});

test('reliable transport: the client transaction SHOULD NOT start timer A, but MUST start timer B', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  tm.sendRequest(outgoing('INVITE'), TCP, h);
  clock.advance(31_999);
  assert.deepEqual(sender.timesOf('INVITE'), [0]);
  clock.advance(1);
  assert.equal(h.timeouts, 1);
});

test('a provisional response MUST move Calling to Proceeding, be passed to the TU, and stop retransmissions', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  clock.advance(600);
  tm.receiveResponse(response(tx.request, 180, 'b1'), UDP);
  assert.equal(tx.state, 'proceeding');
  assert.equal(h.responses.at(-1)?.status, 180);
  tm.receiveResponse(response(tx.request, 183, 'b1'), UDP);
  assert.equal(h.responses.length, 2, 'further provisional responses MUST be passed up while Proceeding');
  clock.advance(120_000);
  assert.deepEqual(sender.timesOf('INVITE'), [0, 500]);
  assert.equal(h.timeouts, 0, 'Timer B only applies in Calling: an INVITE may ring for minutes');
  assert.equal(tx.state, 'proceeding');
});

test('300-699 MUST move to Completed, be passed to the TU, and an ACK (§17.1.1.3) MUST be sent to the same destination', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE', ['Route: <sip:proxy.example;lr>']), UDP, h);
  tm.receiveResponse(response(tx.request, 180, 'b1'), UDP);
  sender.clear();
  const busy = response(tx.request, 486, 'b1');
  tm.receiveResponse(busy, UDP);
  assert.equal(tx.state, 'completed');
  assert.equal(h.responses.at(-1)?.status, 486);
  assert.equal(sender.sent.length, 1);
  assert.deepEqual(sender.sent[0]!.remote, UDP);
  const ack = sender.msg(0);
  const inv = tx.request;
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.uri, inv.uri, 'Request-URI equal to the original request');
  assert.equal(ack.callId, inv.callId);
  assert.equal(ack.get('from'), inv.get('from'));
  assert.equal(ack.get('to'), busy.get('to'), 'To equals the To of the response being acknowledged');
  assert.deepEqual(ack.getAll('via'), [inv.getAll('via')[0]], 'a single Via equal to the top Via of the original request');
  assert.deepEqual(ack.cseq, { seq: inv.cseq.seq, method: 'ACK' });
  assert.deepEqual(ack.getAll('route'), ['<sip:proxy.example;lr>'], 'Route header fields MUST appear in the ACK');
  clock.advance(1000);
  assert.equal(sender.sent.length, 1, 'no more INVITE retransmissions');
});

test('Completed: a retransmitted final response MUST cause the ACK to be re-sent and MUST NOT be passed to the TU', () => {
  const { sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  const busy = response(tx.request, 486, 'b1');
  tm.receiveResponse(busy, UDP);
  tm.receiveResponse(response(tx.request, 486, 'b1'), UDP);
  assert.equal(h.responses.length, 1);
  assert.equal(sender.timesOf('ACK').length, 2);
  assert.equal(sender.sent.at(-1)!.data.toString(), sender.sent.at(-2)!.data.toString());
});

test('Timer D: Completed lasts at least 32 s over UDP, then the transaction MUST move to Terminated', () => {
  const { clock, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  clock.advance(200);
  tm.receiveResponse(response(tx.request, 603, 'b1'), UDP);
  clock.advance(31_999);
  assert.equal(tx.state, 'completed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(tm.stats().client, 0);
});

test('Timer D is zero for reliable transports: the ACK is still sent, even if the transport is reliable', () => {
  const { sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), TCP, h);
  tm.receiveResponse(response(tx.request, 404, 'b1'), TCP);
  assert.equal(sender.timesOf('ACK').length, 1);
  assert.equal(tx.state, 'terminated');
  assert.equal(tm.stats().client, 0);
});

test('RFC 6026: a 2xx MUST move to Accepted and be passed to the TU; the transaction MUST NOT generate an ACK for it', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  tm.receiveResponse(response(tx.request, 200, 'b1'), UDP);
  assert.equal(tx.state, 'accepted');
  assert.equal(h.responses.at(-1)?.status, 200);
  assert.deepEqual(sender.timesOf('ACK'), []);
  clock.advance(5000);
  assert.deepEqual(sender.timesOf('INVITE'), [0], 'no INVITE retransmission once accepted');
});

test('RFC 6026: in Accepted, every 2xx (retransmission or another fork) MUST be passed up to the TU; Timer M ends it at 64*T1', () => {
  const { clock, tu, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  const inv = tx.request;
  tm.receiveResponse(response(inv, 200, 'b1'), UDP);
  assert.notEqual(tx.request, inv, 'Accepted never sends again: the INVITE is let go');
  tm.receiveResponse(response(inv, 200, 'b1'), UDP);
  tm.receiveResponse(response(inv, 200, 'fork2'), UDP);
  tm.receiveResponse(response(inv, 486, 'fork3'), UDP);
  assert.deepEqual(
    h.responses.map((r) => `${r.status}/${r.to.params['tag']}`),
    ['200/b1', '200/b1', '200/fork2'],
  );
  clock.advance(31_999);
  assert.equal(tx.state, 'accepted');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  // after Timer M the 2xx finds no transaction and reaches the TU as a stray (§17.1.1.2)
  tm.receiveResponse(response(inv, 200, 'b1'), UDP);
  assert.equal(tu.strays.length, 1);
});

test('a transport error while Calling SHOULD inform the TU and move directly to Terminated (§17.1.4)', () => {
  const { clock, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), TCP, h);
  tm.transportError({ transport: 'tcp', address: '10.9.9.9', port: 1, flow: TCP.flow });
  assert.equal(h.transportErrors, 1);
  assert.equal(tx.state, 'terminated');
  assert.equal(clock.pending, 0);
});

test('CANCEL MUST NOT be sent before a provisional response; it is sent when one arrives (§9.1)', () => {
  const { sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE', ['Route: <sip:proxy.example;lr>', 'Require: 100rel']), UDP, h);
  tx.cancel();
  assert.deepEqual(sender.timesOf('CANCEL'), []);
  tm.receiveResponse(response(tx.request, 100), UDP);
  assert.equal(sender.timesOf('CANCEL').length, 1);
  const cancel = sender.msg(-1);
  const inv = tx.request;
  assert.equal(cancel.uri, inv.uri);
  assert.equal(cancel.callId, inv.callId);
  assert.equal(cancel.get('to'), inv.get('to'));
  assert.equal(cancel.get('from'), inv.get('from'));
  assert.deepEqual(cancel.cseq, { seq: inv.cseq.seq, method: 'CANCEL' });
  assert.deepEqual(cancel.getAll('via'), [inv.getAll('via')[0]], 'only a single Via matching the top Via of the request');
  assert.deepEqual(cancel.getAll('route'), ['<sip:proxy.example;lr>']);
  assert.equal(cancel.get('require'), undefined, 'MUST NOT contain Require');
  assert.deepEqual(sender.sent.at(-1)!.remote, UDP, 'same destination as the original request');
  assert.equal(tm.stats().client, 2, 'the CANCEL runs its own non-INVITE client transaction');
});

test('CANCEL after a provisional is sent at once; its 200 goes to the CANCEL transaction, the 487 to the INVITE', () => {
  const { sender, tm } = rig();
  const h = recorder();
  const ch = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  tm.receiveResponse(response(tx.request, 180, 'b1'), UDP);
  tx.cancel(ch);
  tx.cancel(ch);
  assert.equal(sender.timesOf('CANCEL').length, 1);
  const cancel = sender.msg(-1);
  tm.receiveResponse(response(cancel, 200, 'b1'), UDP);
  assert.deepEqual(
    ch.responses.map((r) => r.status),
    [200],
  );
  tm.receiveResponse(response(tx.request, 487, 'b1'), UDP);
  assert.deepEqual(
    h.responses.map((r) => r.status),
    [180, 487],
  );
  assert.equal(tx.state, 'completed');
});

test('a CANCEL SHOULD NOT be sent once a final response arrived', () => {
  const { sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  tx.cancel();
  tm.receiveResponse(response(tx.request, 486, 'b1'), UDP);
  tx.cancel();
  assert.deepEqual(sender.timesOf('CANCEL'), []);
});

test('with no final response 64*T1 after the CANCEL, the client SHOULD destroy the INVITE transaction (§9.1)', () => {
  const { clock, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('INVITE'), UDP, h);
  clock.advance(100);
  tm.receiveResponse(response(tx.request, 180, 'b1'), UDP);
  clock.advance(10_000);
  tx.cancel();
  clock.advance(31_999);
  assert.equal(tx.state, 'proceeding');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(h.timeouts, 1);
});
