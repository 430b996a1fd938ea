// The Dial() bridge's offer/answer across its two terminated legs, with a
// recording transaction layer and media legs that only record how they were
// configured (the interop test with real phones is test/interop/channel-dial-hold.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../sip-message/parser.js';
import { buildResponse } from '../sip-message/response.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { Dialog } from '../sip/dialog/dialog.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { ClientTxHandlers, ServerTxHandle } from '../sip/b2bua/types.js';
import type { Remote } from '../transport/types.js';
import { LogRoot } from '../observability/logger.js';
import type { MediaLeg } from '../media/media-leg.js';
import { negotiateOffer, type NegotiatedMedia } from '../media/media-sdp.js';
import { MediaSession } from '../media/media-session.js';
import { parseSdp } from '../media/sdp/parse-sdp.js';
import { mediaTargets } from '../media/sdp/sdp-query.js';
import { DialBridge } from './dial-bridge.js';

const PHONE_A: Remote = { transport: 'udp', address: '127.0.0.1', port: 5071 };
const PHONE_B: Remote = { transport: 'udp', address: '127.0.0.1', port: 5081 };

const sdp = (dir: string, port: number, address = '127.0.0.1', pts = '0 101'): string =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP ${pts}`, 'a=rtpmap:101 telephone-event/8000', `a=${dir}`, ''].join('\r\n');

function request(method: string, callId: string, seq: number, body = ''): SipMessage {
  const text =
    `${method} sip:pbx@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK${callId}${seq}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:x@pbx>;tag=far\r\nTo: <sip:pbx@pbx>;tag=ours\r\nCall-ID: ${callId}\r\nCSeq: ${seq} ${method}\r\nContact: <sip:x@127.0.0.1:5099>\r\n` +
    (body ? 'Content-Type: application/sdp\r\n' : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.msg;
}

/** a media leg that records its configuration */
function leg(port: number): { leg: MediaLeg; last(): NegotiatedMedia | undefined } {
  const seen: NegotiatedMedia[] = [];
  const l = { port, configure: (m: NegotiatedMedia) => void seen.push(m), bridge: () => undefined, unbridge: () => undefined } as unknown as MediaLeg;
  return { leg: l, last: () => seen.at(-1) };
}

const direction = (b: Buffer | string): string => mediaTargets(parseSdp(b))[0]!.direction;
const isHeld = (m: NegotiatedMedia | undefined): boolean => !!m && (m.direction === 'sendonly' || m.direction === 'inactive');

class Rig {
  readonly sent: Array<{ msg: SipMessage; to: Remote; h: ClientTxHandlers }> = [];
  readonly acks: SipMessage[] = [];
  readonly answers: SipMessage[] = [];
  readonly tx: ServerTxHandle = { respond: (r) => void this.answers.push(r), respondStateless: (r) => void this.answers.push(r) };
  readonly a = leg(30000);
  readonly b = leg(30002);
  readonly bridge: DialBridge;

  constructor() {
    const ua = {
      userAgent: 'Palisade',
      sendRequest: (msg: SipMessage, to: Remote, h: ClientTxHandlers) => {
        msg.prepend('via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKt${this.sent.length}`);
        this.sent.push({ msg, to, h });
        return { cancel: () => undefined };
      },
      sendStateless: (msg: SipMessage) => void this.acks.push(msg),
      retransmit2xx: () => ({ stop: () => undefined }),
    } as unknown as SipLegHost;
    const dialog = (callId: string, remote: Remote): Dialog =>
      new Dialog({
        callId,
        localTag: 'ours',
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
    // the call as Dial() left it: A's offer answered, our offer to B answered
    const sa = new MediaSession(this.a.leg, '127.0.0.1');
    sa.answer(negotiateOffer(sdp('sendrecv', 40000)));
    const sb = new MediaSession(this.b.leg, '127.0.0.1');
    sb.offer();
    sb.takeAnswer(sdp('sendrecv', 40100));
    this.bridge = new DialBridge(
      ua,
      { a: { dialog: dialog('a-call', PHONE_A), session: sa }, b: { dialog: dialog('b-call', PHONE_B), session: sb } },
      new LogRoot('error', {}, { write: () => undefined }).get('t'),
      'SIP/1002-1',
    );
  }

  /** the phone the last request went to answers it */
  reply(status: number, body?: string): void {
    const last = this.sent.at(-1)!;
    last.h.onResponse(buildResponse(last.msg, status, undefined, { toTag: 'far', body: body ? Buffer.from(body) : undefined, contentType: body ? 'application/sdp' : undefined }));
  }
}

test("a hold from B with a new address and port is offered to A (sendonly); A's answer goes back to B and both legs follow", () => {
  const rig = new Rig();
  const hold = request('INVITE', 'b-call', 2, sdp('sendonly', 40200, '127.0.0.9'));
  assert.equal(rig.bridge.inDialog('b', rig.tx, hold), true);
  const out = rig.sent.at(-1)!;
  assert.equal(out.to, PHONE_A);
  assert.equal(out.msg.callId, 'a-call');
  assert.equal(direction(out.msg.body), 'sendonly', 'A is told it is held');
  assert.equal(mediaTargets(parseSdp(out.msg.body))[0]!.port, 30000, "A's leg keeps its port");
  assert.equal(rig.answers.length, 0, 'B waits for A');
  rig.reply(200, sdp('recvonly', 40000));
  const ok = rig.answers.at(-1)!;
  assert.equal(ok.status, 200);
  assert.equal(direction(ok.body), 'recvonly', 'RFC 3264 §8.4: the answer to sendonly');
  assert.equal(mediaTargets(parseSdp(ok.body))[0]!.port, 30002, "B's leg keeps its port");
  assert.equal(isHeld(rig.b.last()), true, 'nothing is sent to B, which holds');
  assert.equal(rig.b.last()!.address, '127.0.0.9', "B's new c= is taken");
  assert.equal(rig.b.last()!.port, 40200, "and B's new port");
  assert.equal(isHeld(rig.a.last()), false, 'A may still get what B sends (music on hold)');
  // resume
  rig.bridge.inDialog('b', rig.tx, request('INVITE', 'b-call', 3, sdp('sendrecv', 40200, '127.0.0.9')));
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'sendrecv');
  rig.reply(200, sdp('sendrecv', 40000));
  assert.equal(direction(rig.answers.at(-1)!.body), 'sendrecv');
  assert.equal(isHeld(rig.b.last()), false);
  assert.equal(isHeld(rig.a.last()), false);
});

test('an inactive hold from A: B answers inactive, neither leg sends; A gets inactive', () => {
  const rig = new Rig();
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 2, sdp('inactive', 40000)));
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'inactive');
  rig.reply(200, sdp('inactive', 40100));
  assert.equal(direction(rig.answers.at(-1)!.body), 'inactive');
  assert.equal(isHeld(rig.a.last()), true);
  assert.equal(isHeld(rig.b.last()), true);
});

test('RFC 3261 §14.1: when the other phone refuses the offer, the first gets the refusal and neither leg changes', () => {
  const rig = new Rig();
  const before = { a: rig.a.last(), b: rig.b.last() };
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 2, sdp('sendonly', 40000)));
  rig.reply(488);
  assert.equal(rig.answers.at(-1)!.status, 488);
  assert.equal(rig.a.last(), before.a);
  assert.equal(rig.b.last(), before.b);
});

test('an offer with no codec we know gets 488 and is not passed on', () => {
  const rig = new Rig();
  rig.bridge.inDialog('b', rig.tx, request('INVITE', 'b-call', 2, sdp('sendrecv', 40100, '127.0.0.1', '9')));
  assert.equal(rig.sent.length, 0);
  assert.equal(rig.answers.at(-1)!.status, 488);
});

test("a re-INVITE without SDP (session refresh) is answered by its own leg with an offer; the ACK's answer is applied", () => {
  const rig = new Rig();
  rig.bridge.inDialog('b', rig.tx, request('INVITE', 'b-call', 2));
  assert.equal(rig.sent.length, 0, 'A is not bothered');
  const ok = rig.answers.at(-1)!;
  assert.equal(ok.status, 200);
  assert.equal(direction(ok.body), 'sendrecv');
  const ack = request('ACK', 'b-call', 2, sdp('sendrecv', 40300));
  rig.bridge.onAck('b', ack);
  assert.equal(rig.b.last()!.port, 40300);
  // an UPDATE without SDP just gets 200
  rig.bridge.inDialog('a', rig.tx, request('UPDATE', 'a-call', 2));
  assert.equal(rig.answers.at(-1)!.status, 200);
  assert.equal(rig.answers.at(-1)!.body.length, 0);
  // BYE and INFO are not the bridge's
  assert.equal(rig.bridge.inDialog('a', rig.tx, request('INFO', 'a-call', 3)), false);
});

test('a hold by late offer from A (its ACK answers sendonly) is offered to B in a re-INVITE of our own; the resume the same way; B is ACKed', () => {
  const rig = new Rig();
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 2));
  assert.equal(direction(rig.answers.at(-1)!.body), 'sendrecv', 'our offer says what B wants');
  assert.equal(rig.sent.length, 0, 'B is not asked before the answer');
  rig.bridge.onAck('a', request('ACK', 'a-call', 2, sdp('sendonly', 40000)));
  assert.equal(isHeld(rig.a.last()), true, 'nothing is sent to A, which holds');
  const hold = rig.sent.at(-1)!;
  assert.equal(hold.to, PHONE_B);
  assert.equal(hold.msg.method, 'INVITE');
  assert.equal(hold.msg.callId, 'b-call');
  assert.equal(direction(hold.msg.body), 'sendonly', 'B is told it is held, as if A had offered it');
  rig.reply(200, sdp('recvonly', 40100));
  assert.equal(rig.acks.at(-1)!.method, 'ACK');
  assert.equal(rig.acks.at(-1)!.cseq.seq, hold.msg.cseq.seq);
  assert.equal(rig.b.last()!.direction, 'recvonly', "B's answer taken");
  // a refresh while held changes nothing for B
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 3));
  rig.bridge.onAck('a', request('ACK', 'a-call', 3, sdp('sendonly', 40000)));
  assert.equal(rig.sent.length, 1);
  // resume by late offer
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 4));
  assert.equal(direction(rig.answers.at(-1)!.body), 'sendrecv');
  rig.bridge.onAck('a', request('ACK', 'a-call', 4, sdp('sendrecv', 40000)));
  assert.equal(rig.sent.length, 2);
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'sendrecv');
  rig.reply(200, sdp('sendrecv', 40100));
  assert.equal(isHeld(rig.a.last()), false);
  assert.equal(isHeld(rig.b.last()), false);
});

test('held by an offer, a phone may resume by late offer: the refresh offers what the other phone wants (sendrecv), not the recvonly agreed (RFC 3264 §6.1)', () => {
  const rig = new Rig();
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 2, sdp('sendonly', 40000)));
  rig.reply(200, sdp('recvonly', 40100));
  assert.equal(direction(rig.answers.at(-1)!.body), 'recvonly');
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 3));
  assert.equal(direction(rig.answers.at(-1)!.body), 'sendrecv', 'what B wants');
  rig.bridge.onAck('a', request('ACK', 'a-call', 3, sdp('sendrecv', 40000)));
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'sendrecv', 'the resume reaches B');
  rig.reply(200, sdp('sendrecv', 40100));
  assert.equal(isHeld(rig.b.last()), false);
});

test("B's own hold stays in what A is offered: a refresh from A while B holds offers sendonly, and A's recvonly answer is no hold of A's", () => {
  const rig = new Rig();
  rig.bridge.inDialog('b', rig.tx, request('INVITE', 'b-call', 2, sdp('sendonly', 40100)));
  rig.reply(200, sdp('recvonly', 40000));
  const sent = rig.sent.length;
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 2));
  assert.equal(direction(rig.answers.at(-1)!.body), 'sendonly', 'B still holds');
  rig.bridge.onAck('a', request('ACK', 'a-call', 2, sdp('recvonly', 40000)));
  assert.equal(rig.sent.length, sent, 'nothing to pass on');
});

test('a late hold that cannot go at once (B refuses 491: its own re-INVITE crossed ours) goes again 2.1 to 4 s later; one that meets another INVITE crossing waits for it and for its ACK', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const rig = new Rig();
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 2));
  rig.bridge.onAck('a', request('ACK', 'a-call', 2, sdp('inactive', 40000)));
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'inactive');
  rig.reply(491);
  assert.equal(rig.sent.length, 1);
  t.mock.timers.tick(2000);
  assert.equal(rig.sent.length, 1, 'not before 2.1 s');
  t.mock.timers.tick(2000);
  assert.equal(rig.sent.length, 2, 'again');
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'inactive');
  rig.reply(200, sdp('inactive', 40100));
  assert.equal(isHeld(rig.b.last()), true);
  // while B's own re-INVITE crosses the bridge, ours waits; B's is answered first
  rig.bridge.inDialog('b', rig.tx, request('INVITE', 'b-call', 2, sdp('sendrecv', 40100)));
  const crossing = rig.sent.length;
  rig.bridge.inDialog('a', rig.tx, request('INVITE', 'a-call', 3));
  rig.bridge.onAck('a', request('ACK', 'a-call', 3, sdp('sendrecv', 40000)));
  assert.equal(rig.sent.length, crossing, 'not while another INVITE crosses');
  rig.reply(200, sdp('sendrecv', 40000));
  t.mock.timers.tick(4000);
  assert.equal(rig.sent.length, crossing, 'and not before B has ACKed the 2xx it was sent (RFC 3261 §14.1)');
  rig.bridge.onAck('b', request('ACK', 'b-call', 2));
  assert.equal(rig.sent.length, crossing + 1);
  assert.equal(direction(rig.sent.at(-1)!.msg.body), 'sendrecv');
  rig.bridge.close();
});
