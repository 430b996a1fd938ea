// The in-dialog relay both kinds of bridge share, driven with a recording
// transaction layer: what reaches the other leg and what comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { Dialog } from '../dialog/dialog.js';
import type { Remote } from '../../transport/types.js';
import { InDialogRelay, type BridgeSdp, type Leg } from './in-dialog-relay.js';
import type { ClientTxHandlers, ServerTxHandle } from './types.js';

const A: Remote = { transport: 'udp', address: '127.0.0.1', port: 5071 };
const B: Remote = { transport: 'udp', address: '127.0.0.1', port: 5081 };

function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

const HOLD = 'v=0\no=a 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=sendonly\n'.replace(/\n/g, '\r\n');

/** a re-INVITE from A (CSeq `seq`) on A's dialog, holding with a=sendonly */
function reinvite(seq: number, body = HOLD): SipMessage {
  return parse(
    `INVITE sip:pbx@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKre${seq}\nMax-Forwards: 70\n` +
      `From: <sip:1001@pbx>;tag=atag\nTo: <sip:700@pbx>;tag=our-a\nCall-ID: a@x\nCSeq: ${seq} INVITE\n` +
      `Contact: <sip:1001@127.0.0.1:5071>\nContent-Type: application/sdp\nContent-Length: ${Buffer.byteLength(body)}\n\n` +
      body.replace(/\r\n/g, '\n'),
  );
}

function dialog(callId: string, local: string, remote: Remote): Dialog {
  return new Dialog({
    callId,
    localTag: local,
    remoteTag: 'far',
    localUri: '<sip:pbx@pbx>',
    remoteUri: '<sip:x@pbx>',
    remoteTarget: `sip:x@127.0.0.1:${remote.port}`,
    routeSet: [],
    localCseq: 1,
    remoteCseq: 1,
    remote,
    localContact: '<sip:pbx@127.0.0.1:5060>',
  });
}

class Rig {
  readonly sent: Array<{ msg: SipMessage; to: Remote; h: ClientTxHandlers }> = [];
  readonly acks: Array<{ msg: SipMessage; to: Remote }> = [];
  readonly answers: SipMessage[] = [];
  readonly retransmitting: Array<{ to: Leg }> = [];
  readonly calls: string[] = [];
  readonly tx: ServerTxHandle = { respond: (r) => void this.answers.push(r), respondStateless: (r) => void this.answers.push(r) };
  readonly relay: InDialogRelay;

  constructor(sdp?: Partial<BridgeSdp>) {
    const base: BridgeSdp = {
      offer: (from, body) => (this.calls.push(`offer:${from}`), Buffer.from(body.toString().replace('o=a', 'o=palisade'))),
      answer: (from, body, status) => (this.calls.push(`answer:${from}:${status}`), body),
      refused: (from) => void this.calls.push(`refused:${from}`),
    };
    this.relay = new InDialogRelay(
      { a: dialog('a@x', 'our-a', A), b: dialog('b@x', 'our-b', B) },
      {
        userAgent: 'Palisade',
        tx: {
          sendRequest: (msg, to, h) => {
            msg.prepend('via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKt${this.sent.length}`);
            this.sent.push({ msg, to, h });
            return { cancel: () => undefined };
          },
          sendStateless: (msg, to) => void this.acks.push({ msg, to }),
          retransmit2xx: () => ({ stop: () => undefined }),
        },
        sdp: { ...base, ...sdp },
        retransmitting: (to) => void this.retransmitting.push({ to }),
      },
    );
  }

  /** the far leg's answer to the last request sent to it */
  reply(status: number, reason: string, body?: string): void {
    const last = this.sent.at(-1)!;
    const res = buildResponse(last.msg, status, reason, { toTag: 'far', body: body ? Buffer.from(body) : undefined, contentType: body ? 'application/sdp' : undefined });
    last.h.onResponse(res);
  }
}

test('a re-INVITE (hold) from one leg is offered on the other leg with the SDP the bridge makes, and the answer comes back with our tag', () => {
  const rig = new Rig();
  rig.relay.relay('a', rig.tx, reinvite(3));
  assert.equal(rig.sent.length, 1);
  const out = rig.sent[0]!;
  assert.equal(out.to, B);
  assert.equal(out.msg.method, 'INVITE');
  assert.equal(out.msg.callId, 'b@x', "sent in B's dialog");
  assert.match(out.msg.body.toString(), /o=palisade[\s\S]*a=sendonly/);
  rig.reply(200, 'OK', HOLD.replace('sendonly', 'recvonly'));
  assert.deepEqual(rig.calls, ['offer:a', 'answer:a:200']);
  const fwd = rig.answers.at(-1)!;
  assert.equal(fwd.status, 200);
  assert.equal(fwd.to.params.tag, 'our-a');
  assert.match(fwd.body.toString(), /a=recvonly/);
  assert.ok(fwd.get('contact'));
  // B's 2xx is ACKed by Palisade in B's dialog with the INVITE's CSeq (RFC 3261 §13.2.2.4)
  assert.equal(rig.acks.length, 1);
  assert.equal(rig.acks[0]!.msg.cseq.seq, out.msg.cseq.seq);
  assert.equal(rig.acks[0]!.msg.cseq.method, 'ACK');
  // our 2xx toward A is resent until A's ACK
  assert.deepEqual(
    rig.retransmitting.map((r) => r.to),
    ['a'],
  );
});

test('RFC 3261 §14.2: a re-INVITE while another is pending gets 491; once answered the next one crosses', () => {
  const rig = new Rig();
  rig.relay.relay('a', rig.tx, reinvite(3));
  rig.relay.relay('b', rig.tx, reinvite(4));
  assert.equal(rig.answers.at(-1)?.status, 491);
  assert.equal(rig.sent.length, 1);
  rig.reply(200, 'OK', HOLD);
  rig.relay.relay('b', rig.tx, reinvite(5));
  // it goes once A has ACKed the 2xx it was sent (§14.1)
  rig.relay.acked('a');
  assert.equal(rig.sent.length, 2);
});

test('RFC 3261 §14.1: a refused re-INVITE goes back with its status and the bridge restores the old session', () => {
  const rig = new Rig();
  rig.relay.relay('a', rig.tx, reinvite(3));
  rig.reply(488, 'Not Acceptable Here');
  assert.equal(rig.answers.at(-1)?.status, 488);
  assert.deepEqual(rig.calls, ['offer:a', 'refused:a']);
  assert.equal(rig.acks.length, 0, 'the transaction layer ACKs a non-2xx itself');
  rig.relay.relay('a', rig.tx, reinvite(4));
  assert.equal(rig.sent.length, 2, 'nothing left pending');
});

test('an offer the bridge cannot take is answered 488 at once and not sent on (RFC 3261 §21.4.26)', () => {
  const rig = new Rig({
    offer: () => {
      throw new Error('no codec');
    },
  });
  rig.relay.relay('b', rig.tx, reinvite(3));
  assert.equal(rig.sent.length, 0);
  assert.equal(rig.answers.at(-1)?.status, 488);
  rig.relay.relay('b', rig.tx, reinvite(4));
  assert.equal(rig.answers.at(-1)?.status, 488, 'not 491: nothing was left pending');
});

test('RFC 3261 §13.2.2.4: a retransmitted 2xx from the far leg is ACKed again, not answered twice', () => {
  const rig = new Rig();
  rig.relay.relay('a', rig.tx, reinvite(3));
  rig.reply(200, 'OK', HOLD);
  rig.reply(200, 'OK', HOLD);
  assert.equal(rig.answers.filter((r) => r.status === 200).length, 1);
  assert.equal(rig.acks.length, 2);
  assert.equal(rig.retransmitting.length, 1);
});

test('RFC 3261 §14.1: a re-INVITE for a leg that has not ACKed its 2xx waits for that ACK, then crosses', () => {
  const r = new Rig();
  r.relay.awaitAck('b');
  r.relay.relay('a', r.tx, reinvite(2));
  assert.equal(r.sent.length, 0, 'nothing sent while B has not ACKed');
  r.relay.acked('a');
  assert.equal(r.sent.length, 0, "A's ACK does not release a request for B");
  r.relay.acked('b');
  assert.equal(r.sent.length, 1);
  assert.equal(r.sent[0]!.msg.method, 'INVITE');
  assert.deepEqual(r.sent[0]!.to, B);
  r.reply(200, 'OK', HOLD);
  assert.equal(r.answers.at(-1)!.status, 200);
  // a non-INVITE request is not held
  r.relay.awaitAck('b');
  const info = reinvite(3);
  info.method = 'INFO';
  r.relay.relay('a', r.tx, info);
  assert.equal(r.sent.at(-1)!.msg.method, 'INFO');
});

test('after a relayed 2xx the leg it went to is awaited: the other side’s re-INVITE waits for its ACK; close() answers a held one 487', () => {
  const r = new Rig();
  r.relay.relay('a', r.tx, reinvite(2));
  r.reply(200, 'OK', HOLD);
  assert.deepEqual(r.retransmitting, [{ to: 'a' }]);
  // B re-INVITEs before A's ACK for that 2xx arrived
  r.relay.relay('b', r.tx, reinvite(3));
  assert.equal(r.sent.length, 1, 'held');
  // meanwhile another re-INVITE is refused as pending (RFC 3261 §14.2)
  r.relay.relay('a', r.tx, reinvite(4));
  assert.equal(r.answers.at(-1)!.status, 491);
  r.relay.close();
  assert.equal(r.answers.at(-1)!.status, 487);
  assert.ok(r.calls.includes('refused:b'), 'the held offer is withdrawn');
  r.relay.acked('a');
  assert.equal(r.sent.length, 1, 'nothing goes after close()');
});

/** an ACK from A for our 2xx to its re-INVITE `seq`, with an answer when `body` is given */
function ackFromA(seq: number, body = ''): SipMessage {
  return parse(
    `ACK sip:pbx@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKack${seq}\nMax-Forwards: 70\n` +
      `From: <sip:1001@pbx>;tag=atag\nTo: <sip:700@pbx>;tag=our-a\nCall-ID: a@x\nCSeq: ${seq} ACK\n` +
      (body ? 'Content-Type: application/sdp\n' : '') +
      `Content-Length: ${Buffer.byteLength(body)}\n\n` +
      body.replace(/\r\n/g, '\n'),
  );
}

const OFFER_B = HOLD.replace('o=a', 'o=b').replace('a=sendonly', 'a=sendrecv');

test('RFC 3261 §14.2: a re-INVITE without an offer crosses as it is; the far 2xx offers, and our ACK to it waits for the answer in the near ACK (and is resent for a retransmitted 2xx)', () => {
  const asked: string[] = [];
  const rig = new Rig({ ackAnswer: (from: Leg, body: Buffer): Buffer => (asked.push(`ackAnswer:${from}`), Buffer.from(body.toString().replace('o=a', 'o=palisade'))) });
  rig.relay.relay('a', rig.tx, reinvite(3, ''));
  const out = rig.sent.at(-1)!;
  assert.equal(out.msg.body.length, 0, 'no offer made up on the way');
  rig.reply(200, 'OK', OFFER_B);
  assert.equal(rig.answers.at(-1)!.status, 200);
  assert.match(rig.answers.at(-1)!.body.toString(), /o=b/, "B's offer reaches A");
  assert.equal(rig.acks.length, 0, 'B is not ACKed before the answer is known');
  rig.reply(200, 'OK', OFFER_B);
  assert.equal(rig.acks.length, 0, 'nor on its retransmission');
  assert.equal(rig.answers.filter((r) => r.status === 200).length, 1);
  rig.relay.acked('a', ackFromA(3, HOLD));
  assert.equal(rig.acks.length, 1);
  const ack = rig.acks[0]!;
  assert.equal(ack.to, B);
  assert.equal(ack.msg.method, 'ACK');
  assert.equal(ack.msg.cseq.seq, out.msg.cseq.seq);
  assert.match(ack.msg.body.toString(), /o=palisade[\s\S]*a=sendonly/, "A's answer, as the bridge makes it");
  assert.deepEqual(asked, ['ackAnswer:a']);
  // our ACK lost: B resends its 2xx and gets the same ACK
  rig.reply(200, 'OK', OFFER_B);
  assert.equal(rig.acks.length, 2);
  assert.equal(rig.acks[1]!.msg, ack.msg);
  // A's ACK resent: nothing more to B
  rig.relay.acked('a', ackFromA(3, HOLD));
  assert.equal(rig.acks.length, 2);
});

test('a far 2xx offer still waiting for its answer when the bridge ends is ACKed without one; a bridge with no ackAnswer ACKs at once', () => {
  const rig = new Rig({ ackAnswer: (_from, body) => body });
  rig.relay.relay('a', rig.tx, reinvite(3, ''));
  rig.reply(200, 'OK', OFFER_B);
  assert.equal(rig.acks.length, 0);
  rig.relay.close();
  assert.equal(rig.acks.length, 1);
  assert.equal(rig.acks[0]!.msg.body.length, 0);
  const plain = new Rig();
  plain.relay.relay('a', plain.tx, reinvite(3, ''));
  plain.reply(200, 'OK', OFFER_B);
  assert.equal(plain.acks.length, 1, 'as before');
});
