// Non-INVITE client transaction, RFC 3261 §17.1.2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { outgoing, response, rig, TCP, UDP } from '../../../test/support/sip-transaction-rig.js';

function recorder() {
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

test('Timer E: retransmissions occur with an exponentially increasing interval that caps at T2 (500 ms, 1 s, 2 s, 4 s, 4 s ...)', () => {
  const { clock, sender, tm } = rig();
  tm.sendRequest(outgoing('OPTIONS'), UDP, recorder());
  clock.advance(31_999);
  assert.deepEqual(sender.timesOf('OPTIONS'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
});

test('Timer F: at 64*T1 in Trying the client transaction SHOULD inform the TU about the timeout and enter Terminated', () => {
  const { clock, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('OPTIONS'), UDP, h);
  clock.advance(32_000);
  assert.equal(h.timeouts, 1);
  assert.equal(tx.state, 'terminated');
  assert.equal(tm.stats().client, 0);
  assert.equal(clock.pending, 0);
});

test('Proceeding: a provisional MUST be passed to the TU; Timer E MUST then be reset to T2; Timer F still times out', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('REGISTER'), UDP, h);
  clock.advance(600); // retransmitted at 500; next E due at 1500
  tm.receiveResponse(response(tx.request, 100), UDP);
  assert.equal(tx.state, 'proceeding');
  assert.equal(h.responses.length, 1);
  clock.advance(31_400 - 1);
  assert.deepEqual(sender.timesOf('REGISTER'), [0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
  assert.equal(h.timeouts, 0);
  clock.advance(1);
  assert.equal(h.timeouts, 1, 'F fires in Proceeding too: the TU MUST be informed');
});

test('a final response MUST be passed to the TU and move to Completed; Timer K (T4 over UDP) absorbs retransmissions', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('BYE'), UDP, h);
  tm.receiveResponse(response(tx.request, 200, 'b1'), UDP);
  assert.equal(tx.state, 'completed');
  tm.receiveResponse(response(tx.request, 200, 'b1'), UDP);
  assert.equal(h.responses.length, 1, 'the retransmitted final response is absorbed');
  clock.advance(4999);
  assert.equal(tx.state, 'completed');
  assert.deepEqual(sender.timesOf('BYE'), [0], 'no request retransmission in Completed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(tm.stats().client, 0);
});

test('Timer K honours configured T4', () => {
  const { clock, tm } = rig({ timers: { t4: 2500 } });
  const tx = tm.sendRequest(outgoing('BYE'), UDP, recorder());
  tm.receiveResponse(response(tx.request, 481), UDP);
  clock.advance(2499);
  assert.equal(tx.state, 'completed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
});

test('reliable transport: no Timer E retransmission and Timer K is zero', () => {
  const { clock, sender, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('MESSAGE'), TCP, h);
  clock.advance(10_000);
  assert.deepEqual(sender.timesOf('MESSAGE'), [0]);
  tm.receiveResponse(response(tx.request, 202, 'b1'), TCP);
  assert.equal(h.responses.length, 1);
  assert.equal(tx.state, 'terminated');
  assert.equal(clock.pending, 0);
});

test('a transport error SHOULD inform the TU and move directly to Terminated (§17.1.4)', () => {
  const { tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('OPTIONS'), UDP, h);
  tm.transportError(UDP);
  assert.equal(h.transportErrors, 1);
  assert.equal(tx.state, 'terminated');
});

test('responses match by branch AND CSeq method (§17.1.3): a response for another method is stray', () => {
  const { tu, tm } = rig();
  const h = recorder();
  const tx = tm.sendRequest(outgoing('OPTIONS'), UDP, h);
  const wrong = response(tx.request, 200);
  wrong.set('cseq', `${tx.request.cseq.seq} INFO`);
  tm.receiveResponse(wrong, UDP);
  assert.equal(h.responses.length, 0);
  assert.equal(tu.strays.length, 1);
});
