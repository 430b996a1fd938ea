// Matching (RFC 3261 §17.1.3, §17.2.3, §9.2), Via stamping, CANCEL answers,
// the 2xx retransmission helper (§13.3.1.4) and bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse } from '../../sip-message/response.js';
import { SipMessage } from '../../sip-message/sip-message.js';
import { outgoing, parse, request, response, rig, TCP, UDP } from '../../../test/support/sip-transaction-rig.js';

const noop = { onResponse() {}, onTimeout() {}, onTransportError() {} };

test('a request matches a transaction only with the same branch, the same sent-by and the same method', () => {
  const r = rig();
  r.tm.receiveRequest(request('INVITE', { branch: 'z9hG4bKb1', sentBy: '127.0.0.1:5070' }), UDP);
  r.tm.receiveRequest(request('INVITE', { branch: 'z9hG4bKb1', sentBy: '127.0.0.1:5070' }), UDP);
  assert.equal(r.tu.requests.length, 1, 'retransmission');
  r.tm.receiveRequest(request('INVITE', { branch: 'z9hG4bKb1', sentBy: '127.0.0.2:5070' }), UDP);
  assert.equal(r.tu.requests.length, 2, 'the sent-by value is part of the match (duplicate branches from other clients)');
  r.tm.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKb1', sentBy: '127.0.0.1:5070' }), UDP);
  assert.equal(r.tu.requests.length, 3, 'the method is part of the match');
  assert.equal(r.tm.stats().server, 3);
});

test('an ACK matches the INVITE transaction whose branch it carries (non-2xx ACK); others go to the TU as 2xx ACKs', () => {
  const r = rig();
  r.tm.receiveRequest(request('INVITE', { branch: 'z9hG4bKinv' }), UDP);
  const tx = r.tu.requests[0]!.tx;
  tx.respond(buildResponse(tx.request, 486, undefined, { toTag: 'u1' }));
  r.tm.receiveRequest(request('ACK', { branch: 'z9hG4bKother', toTag: 'u1' }), UDP);
  assert.equal(tx.state, 'completed', 'an ACK with another branch does not match');
  assert.equal(r.tu.acks.length, 1);
  r.tm.receiveRequest(request('ACK', { branch: 'z9hG4bKinv', toTag: 'u1' }), UDP);
  assert.equal(tx.state, 'confirmed');
  assert.equal(r.tu.acks.length, 1);
});

test('RFC 2543 fallback: without the magic cookie, Request-URI, To tag, From tag, Call-ID, CSeq and top Via must match', () => {
  const r = rig();
  const legacy = { branch: null } as const;
  r.tm.receiveRequest(request('INVITE', legacy), UDP);
  const tx = r.tu.requests[0]!.tx;
  r.tm.receiveRequest(request('INVITE', legacy), UDP);
  assert.equal(r.tu.requests.length, 1, 'an identical INVITE is a retransmission');
  for (const variant of [{ cseq: 2 }, { callId: 'call-2' }, { fromTag: 'a2' }, { toTag: 'zz' }, { uri: 'sip:carol@127.0.0.1' }, { sentBy: '127.0.0.1:5071' }]) {
    r.tm.receiveRequest(request('INVITE', { ...legacy, ...variant }), UDP);
  }
  assert.equal(r.tu.requests.length, 7, 'each differing field makes a new transaction');

  tx.respond(buildResponse(tx.request, 603, undefined, { toTag: 'u9' }));
  r.tm.receiveRequest(request('ACK', { ...legacy, toTag: 'other' }), UDP);
  assert.equal(tx.state, 'completed', 'the ACK To tag must match the To tag of the response sent');
  assert.equal(r.tu.acks.length, 1);
  r.tm.receiveRequest(request('ACK', { ...legacy, toTag: 'u9' }), UDP);
  assert.equal(tx.state, 'confirmed');
});

test('RFC 2543 fallback applies to a branch without the magic cookie too, and to non-INVITE methods (CSeq method included)', () => {
  const r = rig();
  r.tm.receiveRequest(request('OPTIONS', { branch: 'old-style-1' }), UDP);
  r.tm.receiveRequest(request('OPTIONS', { branch: 'old-style-1' }), UDP);
  assert.equal(r.tu.requests.length, 1);
  r.tm.receiveRequest(request('INFO', { branch: 'old-style-1' }), UDP);
  assert.equal(r.tu.requests.length, 2);
});

test('CANCEL is its own transaction; it is answered 200 (with the INVITE response To tag) and the TU is told the INVITE it targets', () => {
  const r = rig();
  r.tm.receiveRequest(request('INVITE', { branch: 'z9hG4bKinv' }), UDP);
  const inv = r.tu.requests[0]!.tx;
  inv.respond(buildResponse(inv.request, 180, undefined, { toTag: 'u1' }));
  r.sender.clear();
  r.tm.receiveRequest(request('CANCEL', { branch: 'z9hG4bKinv' }), UDP);
  assert.equal(r.tu.cancels.length, 1);
  assert.equal(r.tu.cancels[0]!.target, inv);
  assert.equal(r.tu.requests.length, 1, 'a CANCEL is not a new request for onRequest');
  const ok = r.sender.msg(0);
  assert.equal(ok.status, 200);
  assert.equal(ok.cseq.method, 'CANCEL');
  assert.equal(ok.to.params['tag'], 'u1', 'the To tag of the CANCEL response SHOULD equal that of the INVITE response');
  assert.equal(r.tm.stats().server, 2);
  r.tm.receiveRequest(request('CANCEL', { branch: 'z9hG4bKinv' }), UDP);
  assert.equal(r.tu.cancels.length, 1, 'a retransmitted CANCEL is absorbed');
  assert.equal(r.sender.msg(1).status, 200, '... and its response re-sent');
  assert.equal(r.tm.findCancelTarget(request('CANCEL', { branch: 'z9hG4bKinv' })), inv);
});

test('a CANCEL matching no transaction SHOULD be answered 481; one for an answered INVITE has no effect on it', () => {
  const r = rig();
  r.tm.receiveRequest(request('CANCEL', { branch: 'z9hG4bKnothing' }), UDP);
  assert.equal(r.sender.msg(0).status, 481);
  assert.equal(r.tu.cancels.length, 0);

  r.tm.receiveRequest(request('INVITE', { branch: 'z9hG4bKinv' }), UDP);
  const inv = r.tu.requests[0]!.tx;
  inv.respond(buildResponse(inv.request, 200, undefined, { toTag: 'u1' }));
  r.tm.receiveRequest(request('CANCEL', { branch: 'z9hG4bKinv' }), UDP);
  assert.equal(r.sender.msg(-1).status, 200, 'it matched, so 200');
  assert.equal(r.sender.msg(-1).to.params['tag'], 'u1', 'with the 2xx To tag, which the Accepted transaction kept when it let go of the 2xx');
  assert.equal(r.tu.cancels.length, 0, 'but the TU is not asked to stop an answered call');
  assert.equal(inv.state, 'accepted');
});

test('CANCEL from an RFC 2543 peer matches the INVITE by Request-URI, tags, Call-ID, CSeq number and top Via', () => {
  const r = rig();
  r.tm.receiveRequest(request('INVITE', { branch: null }), UDP);
  const inv = r.tu.requests[0]!.tx;
  r.tm.receiveRequest(request('CANCEL', { branch: null }), UDP);
  assert.equal(r.tu.cancels[0]?.target, inv);
  r.tm.receiveRequest(request('CANCEL', { branch: null, cseq: 9 }), UDP);
  assert.equal(r.sender.msg(-1).status, 481);
});

test('responses matching no client transaction go to the TU as strays; unparseable messages are refused', () => {
  const r = rig();
  assert.equal(r.tm.receiveResponse(response(request('INVITE'), 200, 'x'), UDP), true);
  assert.equal(r.tu.strays.length, 1);
  const noVia = request('OPTIONS');
  noVia.remove('via');
  assert.equal(r.tm.receiveRequest(noVia, UDP), false);
  assert.equal(r.tu.requests.length, 0);
  const noCseq = response(request('OPTIONS'), 200);
  noCseq.remove('cseq');
  assert.equal(r.tm.receiveResponse(noCseq, UDP), false);
});

test('sendRequest stamps a Via with a magic-cookie branch and rport; branches are unique', () => {
  const r = rig();
  const a = r.tm.sendRequest(outgoing('OPTIONS'), UDP, noop);
  const b = r.tm.sendRequest(outgoing('OPTIONS'), TCP, noop);
  const va = r.sender.msg(0).topVia;
  assert.equal(va.transport, 'UDP');
  assert.equal(va.host, '127.0.0.1');
  assert.equal(va.port, 5060);
  assert.ok(va.branch?.startsWith('z9hG4bK'));
  assert.ok('rport' in va.params);
  assert.equal(va.branch, a.branch);
  assert.equal(r.sender.msg(1).topVia.transport, 'TCP');
  assert.notEqual(a.branch, b.branch);
  assert.equal(r.tm.stats().client, 2);
  assert.equal(r.sender.msg(0).getAll('via').length, 1);
});

test('sendRequest keeps a Via the caller built with newBranch(), and stamps a fresh one when that branch is in use', () => {
  const r = rig();
  const m = outgoing('REGISTER');
  const branch = r.tm.newBranch();
  m.prepend('via', `SIP/2.0/UDP 127.0.0.1:5060;branch=${branch};rport`);
  const tx = r.tm.sendRequest(m, UDP, noop);
  assert.equal(tx.branch, branch);
  // the same message re-sent (after a 401) while the first transaction lives
  const again = r.tm.sendRequest(m, UDP, noop);
  assert.notEqual(again.branch, branch);
  assert.equal(m.getAll('via').length, 1, 'the old Via is replaced, not stacked');
  assert.throws(() => r.tm.sendRequest(outgoing('ACK'), UDP, noop), /ACK/);
});

test('§13.3.1.4: the 2xx is retransmitted at T1 doubling up to T2 until ACK, independent of transport; give up after 64*T1', () => {
  const r = rig();
  const ok = buildResponse(request('INVITE'), 200, undefined, { toTag: 'u1' });
  let gaveUp = 0;
  const h = r.tm.retransmit2xx(ok, TCP, () => gaveUp++);
  r.clock.advance(31_999);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 200'), [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(gaveUp, 0);
  assert.equal(h.active, true);
  r.clock.advance(1);
  assert.equal(gaveUp, 1, 'the session SHOULD then be terminated with a BYE');
  assert.equal(h.active, false);
  assert.equal(r.clock.pending, 0);
});

test('§13.3.1.4: retransmissions cease when the ACK is received', () => {
  const r = rig();
  const ok = buildResponse(request('INVITE'), 200, undefined, { toTag: 'u1' });
  let gaveUp = 0;
  const h = r.tm.retransmit2xx(ok, UDP, () => gaveUp++);
  r.clock.advance(2000);
  h.ack();
  r.clock.advance(60_000);
  assert.deepEqual(r.sender.timesOf('SIP/2.0 200'), [500, 1500]);
  assert.equal(gaveUp, 0);
  assert.equal(r.clock.pending, 0);
});

test('a UAC absorbs retransmitted 2xx: each reaches the TU (Accepted, then stray) so the dialog can re-send its ACK', () => {
  const r = rig();
  const seen: number[] = [];
  const tx = r.tm.sendRequest(outgoing('INVITE'), UDP, { ...noop, onResponse: (m) => void seen.push(m.status) });
  const ok = response(tx.request, 200, 'u1');
  r.tm.receiveResponse(ok, UDP);
  r.tm.receiveResponse(ok, UDP);
  assert.deepEqual(seen, [200, 200]);
  r.clock.advance(32_000);
  r.tm.receiveResponse(ok, UDP);
  assert.equal(r.tu.strays.length, 1);
});

test('terminated transactions are removed promptly: 1000 OPTIONS over TCP leave nothing behind', () => {
  const r = rig();
  r.tu.autoAnswer = 200;
  for (let i = 0; i < 1000; i++) {
    r.tm.receiveRequest(request('OPTIONS', { transport: 'tcp', branch: `z9hG4bKn${i}` }), TCP);
  }
  assert.deepEqual(r.tm.stats(), { server: 0, client: 0 });
  assert.equal(r.clock.pending, 0);
  for (let i = 0; i < 1000; i++) r.tm.receiveRequest(request('OPTIONS', { branch: `z9hG4bKu${i}` }), UDP);
  assert.equal(r.tm.stats().server, 1000);
  r.clock.advance(32_000);
  assert.deepEqual(r.tm.stats(), { server: 0, client: 0 });
});

test('messages built here serialise and parse back (ACK/CANCEL wire form)', () => {
  const r = rig();
  const tx = r.tm.sendRequest(outgoing('INVITE'), UDP, noop);
  r.tm.receiveResponse(response(tx.request, 180, 'b'), UDP);
  tx.cancel();
  const wire = r.sender.sent.at(-1)!.data;
  const back = parse(wire);
  assert.ok(back instanceof SipMessage);
  assert.equal(back.method, 'CANCEL');
  assert.equal(back.get('max-forwards'), '70');
});
