// The forking routine on its own, with a recording transaction layer: what
// each contact is sent for each answer (RFC 3261 §16.7, §13.2.2.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import { InviteFork, bestFailure, type ForkBranch } from './fork.js';
import type { ForkHost } from './leg-host.js';
import type { BindingInfo, ClientTxHandlers } from './types.js';

const phone = (port: number): BindingInfo => ({ contactUri: `sip:1002@127.0.0.1:${port}`, remote: { transport: 'udp', address: '127.0.0.1', port } });

class Rig implements ForkHost {
  readonly userAgent = 'Palisade';
  readonly domain = 'pbx';
  readonly allow = 'INVITE, ACK, CANCEL, BYE';
  readonly requests: Array<{ msg: SipMessage; to: Remote; h: ClientTxHandlers; cancelled: number }> = [];
  readonly stateless: SipMessage[] = [];
  readonly answered: Array<{ branch: ForkBranch; res: SipMessage }> = [];
  readonly failed: Array<{ status: number; codes: number[] }> = [];
  ringing = 0;
  readonly fork = new InviteFork(
    this,
    { callerNumber: '1001', callerName: 'Alice', calleeNumber: '1002', maxForwards: 69, offer: Buffer.from('v=0\r\n') },
    {
      onProvisional: () => void this.ringing++,
      onAnswered: (branch, res) => void this.answered.push({ branch, res }),
      onFailed: (status, codes) => void this.failed.push({ status, codes }),
    },
  );
  private branch = 0;

  contactFor(_r: Remote, user: string): string {
    return `<sip:${user}@127.0.0.1:5060>`;
  }
  localFor(): { transport: 'udp'; address: string; port: number } {
    return { transport: 'udp', address: '127.0.0.1', port: 5060 };
  }
  sendRequest(msg: SipMessage, to: Remote, h: ClientTxHandlers): { cancel(): void } {
    msg.prepend('via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfork${++this.branch}`);
    const entry = { msg, to, h, cancelled: 0 };
    this.requests.push(entry);
    return { cancel: () => void entry.cancelled++ };
  }
  sendStateless(msg: SipMessage): void {
    this.stateless.push(msg);
  }

  /** the answer of the contact that got request i */
  respond(i: number, status: number, toTag = `t${i}`, body?: string): void {
    const res = buildResponse(this.requests[i]!.msg, status, undefined, { toTag, body: body ? Buffer.from(body) : undefined, contentType: body ? 'application/sdp' : undefined });
    if (status >= 200 && status < 300) res.headers.push({ name: 'contact', value: `<sip:1002@127.0.0.1:${5081 + i}>` });
    const wire = parseMessage(res.toBuffer());
    if (!wire.ok) throw new Error(wire.error);
    this.requests[i]!.h.onResponse(wire.msg);
  }

  sent(method: string): SipMessage[] {
    return [...this.requests.map((r) => r.msg), ...this.stateless].filter((m) => m.method === method);
  }
}

test('the INVITE goes to every contact; the first 2xx wins, the others are cancelled, the winner is ACKed when asked', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.ring(phone(5082));
  assert.deepEqual(
    r.requests.map((q) => [q.msg.method, q.msg.uri, q.msg.get('max-forwards')]),
    [
      ['INVITE', 'sip:1002@127.0.0.1:5081', '69'],
      ['INVITE', 'sip:1002@127.0.0.1:5082', '69'],
    ],
  );
  r.respond(0, 100);
  assert.equal(r.ringing, 0, '100 Trying is not ringing');
  r.respond(1, 180);
  assert.equal(r.ringing, 1);
  r.respond(1, 200);
  assert.equal(r.answered.length, 1);
  assert.equal(r.fork.settled, true);
  assert.deepEqual(
    r.requests.map((q) => q.cancelled),
    [1, 0],
  );
  const won = r.answered[0]!.branch;
  assert.equal(won.dialog.remoteTag, 't1');
  assert.equal(won.dialog.remoteTarget, 'sip:1002@127.0.0.1:5082');
  assert.equal(r.sent('ACK').length, 0, 'the ACK waits for ack()');
  r.fork.ack(won, Buffer.from('answer'));
  const ack = r.sent('ACK')[0]!;
  assert.equal(ack.cseq.seq, 1);
  assert.equal(ack.body.toString(), 'answer');
});

test('RFC 3261 §13.2.2.4: a retransmitted 2xx is ACKed again with the same body, and not before the first ACK', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.respond(0, 200);
  r.respond(0, 200);
  assert.equal(r.sent('ACK').length, 0, 'an offer-less INVITE: the ACK is held until the answer is known');
  r.fork.ack(r.answered[0]!.branch, Buffer.from('sdp'));
  r.respond(0, 200);
  assert.deepEqual(
    r.sent('ACK').map((a) => a.body.toString()),
    ['sdp', 'sdp'],
  );
  assert.equal(r.sent('BYE').length, 0, 'a retransmission is never hung up');
  assert.equal(r.answered.length, 1);
});

test('a second branch answering after the winner, and a second dialog on the winner, are ACKed and sent BYE', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.ring(phone(5082));
  r.respond(0, 200);
  r.respond(1, 200);
  r.respond(0, 200, 'other-tag');
  assert.equal(r.answered.length, 1);
  const byes = r.sent('BYE');
  assert.deepEqual(
    byes.map((b) => b.to.params.tag),
    ['t1', 'other-tag'],
  );
  assert.deepEqual(
    r.sent('ACK').map((a) => a.to.params.tag),
    ['t1', 'other-tag'],
  );
});

test('every branch failed: the best final response (busy first; timeouts and 487 make 480)', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.ring(phone(5082));
  r.respond(0, 480);
  assert.equal(r.failed.length, 0, 'one branch still rings');
  r.respond(1, 486);
  assert.deepEqual(r.failed, [{ status: 486, codes: [480, 486] }]);
  const t = new Rig();
  t.fork.ring(phone(5081));
  t.fork.ring(phone(5082));
  t.requests[0]!.h.onTimeout();
  t.respond(1, 487);
  assert.deepEqual(t.failed, [{ status: 480, codes: [408, 487] }]);
  assert.deepEqual([bestFailure([404, 503]), bestFailure([503, 500]), bestFailure([600, 404])], [404, 503, 600]);
});

test('RFC 3261 §16.7: a 6xx ends the search at once and cancels the other branches', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.ring(phone(5082));
  r.respond(0, 603);
  assert.deepEqual(r.failed, [{ status: 603, codes: [603, 408] }]);
  assert.deepEqual(
    r.requests.map((q) => q.cancelled),
    [0, 1],
  );
  r.respond(1, 487);
  assert.equal(r.failed.length, 1, 'reported once');
});

test('cancel(): every ringing branch is cancelled; a 2xx that crosses the CANCEL is ACKed and ended', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.ring(phone(5082));
  r.respond(1, 486);
  r.fork.cancel();
  assert.deepEqual(
    r.requests.map((q) => q.cancelled),
    [1, 0],
  );
  r.respond(0, 180);
  assert.equal(r.ringing, 0, 'no ringing after the search ended');
  r.respond(0, 200);
  assert.equal(r.answered.length, 0);
  assert.equal(r.sent('ACK').length, 1);
  assert.equal(r.sent('BYE').length, 1);
  assert.equal(r.failed.length, 0);
});

test('early dialogs: each branch whose 1xx carried a To tag, with a stand-in for our tag (never the From tag); none once a branch won', () => {
  const r = new Rig();
  const a = r.fork.ring(phone(5081));
  const b = r.fork.ring(phone(5082));
  r.fork.ring(phone(5083));
  r.respond(0, 100, '');
  assert.deepEqual(r.fork.earlyDialogs(), [], '100 Trying makes no early dialog');
  r.respond(0, 180, 'ta');
  r.respond(1, 183, 'tb');
  r.respond(1, 180, 'tb2');
  const early = r.fork.earlyDialogs();
  assert.deepEqual(
    early.map((e) => [e.branch.callId, e.phoneTag]),
    [
      [a.callId, 'ta'],
      [b.callId, 'tb'],
    ],
    'the first tag of each branch',
  );
  for (const e of early) {
    assert.notEqual(e.pickupTag, e.branch.fromTag, 'the stand-in is not the tag of our INVITE');
    assert.notEqual(e.pickupTag, '');
  }
  assert.equal(r.fork.earlyDialogs()[0]!.pickupTag, early[0]!.pickupTag, 'the stand-in stays the same');
  r.respond(1, 486, 'tb');
  assert.deepEqual(
    r.fork.earlyDialogs().map((e) => e.phoneTag),
    ['ta'],
    'a branch that failed rings no more',
  );
  r.respond(0, 200, 'ta');
  assert.deepEqual(r.fork.earlyDialogs(), [], 'answered: no early dialog left');
});

test('detached when the call is over: the call hears nothing more, a retransmitted 2xx is still ACKed, a late branch is ACKed and ended', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.ring(phone(5082));
  r.respond(0, 200);
  r.fork.ack(r.answered[0]!.branch, Buffer.from('sdp'));
  r.fork.detach();
  // the fork no longer holds the call's handlers: what reaches it now is handled by the fork alone
  r.respond(0, 200);
  assert.deepEqual(
    r.sent('ACK').map((a) => a.body.toString()),
    ['sdp', 'sdp'],
    'the Accepted transaction still re-ACKs a retransmitted 2xx',
  );
  r.respond(1, 180);
  r.respond(1, 200);
  assert.equal(r.ringing, 0, 'no event reaches the call after detach');
  assert.equal(r.answered.length, 1);
  assert.equal(r.sent('BYE').length, 1, 'the late branch is ended');
});

test('a fork detached while it still rings (a Dial() given up without cancel): a later answer is ACKed and ended, the Dial() hears nothing', () => {
  const r = new Rig();
  r.fork.ring(phone(5081));
  r.fork.detach();
  assert.equal(r.fork.settled, true);
  r.respond(0, 200);
  assert.equal(r.answered.length, 0);
  assert.equal(r.sent('ACK').length, 1);
  assert.equal(r.sent('BYE').length, 1);
  assert.equal(r.failed.length, 0);
});
