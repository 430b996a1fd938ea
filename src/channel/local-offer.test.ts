// A hold by late offer (RFC 3261 §14.2): the phone's re-INVITE carries no
// SDP, our 200 carries the offer and the phone's ACK the answer, whose
// direction holds or resumes the call as an offer's would (RFC 3264 §8.4).
// Both users of local-offer.ts are driven here with a recording transaction
// layer and a media leg that only records its configuration: a channel's
// caller (SipLeg, onHoldChange) and a phone or trunk leg in a frame bridge
// (sipFrameSide, the HoldLink's onHold). The interop test with a real peer
// is the third case of test/interop/trunk-iax2-hold.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../sip-message/parser.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { Dialog } from '../sip/dialog/dialog.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { ServerTxHandle } from '../sip/b2bua/types.js';
import type { Remote } from '../transport/types.js';
import { LogRoot } from '../observability/logger.js';
import type { MediaLeg } from '../media/media-leg.js';
import { negotiateOffer, type NegotiatedMedia } from '../media/media-sdp.js';
import { MediaSession } from '../media/media-session.js';
import { parseSdp } from '../media/sdp/parse-sdp.js';
import { mediaTargets } from '../media/sdp/sdp-query.js';
import { answerInAck } from './local-offer.js';
import { SipLeg } from './sip-leg.js';
import { AnsweredLeg } from './sip-dial.js';
import { sipFrameSide } from './sip-frame-side.js';

const PHONE: Remote = { transport: 'udp', address: '127.0.0.1', port: 5071 };

const sdp = (dir: string, port = 40000): string =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', `a=${dir}`, ''].join('\r\n');
/** no audio stream we can take: readAnswer throws */
const UNUSABLE = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=video 40002 RTP/AVP 96', ''].join('\r\n');

/** a request from the phone in its dialog with us (an ACK when `method` is ACK) */
function request(method: string, seq: number, body = '', toTag = ';tag=ours'): SipMessage {
  const text =
    `${method} sip:pbx@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK${method}${seq}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:1002@pbx>;tag=far\r\nTo: <sip:700@pbx>${toTag}\r\nCall-ID: late-offer\r\nCSeq: ${seq} ${method}\r\nContact: <sip:1002@127.0.0.1:5071>\r\n` +
    (body ? 'Content-Type: application/sdp\r\n' : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.msg;
}

/** a media leg that records its configuration */
function mediaLeg(): { leg: MediaLeg; last(): NegotiatedMedia | undefined } {
  const seen: NegotiatedMedia[] = [];
  const leg = { port: 30000, configure: (m: NegotiatedMedia) => void seen.push(m) } as unknown as MediaLeg;
  return { leg, last: () => seen.at(-1) };
}

const direction = (b: Buffer | string): string => mediaTargets(parseSdp(b))[0]!.direction;

/** what both rigs share: the responses sent, the log lines written, the holds reported, the phone's re-INVITEs */
abstract class Rig {
  abstract readonly leg: { onRequest(tx: ServerTxHandle, req: SipMessage): void; onAck(ack: SipMessage): void };
  private seq = 1;
  readonly answers: SipMessage[] = [];
  readonly lines: string[] = [];
  readonly holds: boolean[] = [];
  readonly media = mediaLeg();
  readonly tx: ServerTxHandle = { respond: (r) => void this.answers.push(r), respondStateless: (r) => void this.answers.push(r) };
  readonly log = new LogRoot('info', {}, { write: (l) => void this.lines.push(l) }).get('channel');
  readonly host = {
    userAgent: 'Palisade',
    allow: 'INVITE, ACK, BYE, CANCEL, UPDATE',
    domain: 'pbx',
    contactFor: () => '<sip:pbx@127.0.0.1:5060>',
    ownInvite: () => undefined,
    ownDialog: () => undefined,
    releaseDialog: () => undefined,
    sendInDialog: () => undefined,
    retransmit2xx: () => ({ stop: () => undefined }),
  } as unknown as SipLegHost;

  /** a re-INVITE (no SDP unless `offer`) and its ACK (with `answer`, if any): the direction our 200 said */
  reinvite(answer: string, offer = ''): string {
    this.leg.onRequest(this.tx, request('INVITE', ++this.seq, offer));
    const ok = this.answers.at(-1)!;
    assert.equal(ok.status, 200);
    this.leg.onAck(request('ACK', this.seq, answer));
    return direction(ok.body);
  }
}

/** a channel's caller, answered (its offer, our answer, its ACK), in no Dial() bridge */
class CallerRig extends Rig {
  failed = 0;
  readonly leg: SipLeg;

  constructor() {
    super();
    const invite = request('INVITE', 1, sdp('sendrecv'), '');
    this.leg = new SipLeg(
      this.host,
      this.tx,
      invite,
      PHONE,
      '700',
      { ended: () => undefined, failed: () => void this.failed++, infoDigit: () => undefined },
      this.log,
      'SIP/1002-1',
    );
    const session = new MediaSession(this.media.leg, '127.0.0.1');
    this.leg.session = session;
    this.leg.answer(session.answer(negotiateOffer(invite.body)));
    this.leg.onAck(request('ACK', 1));
    this.leg.onHoldChange = (held) => void this.holds.push(held);
  }
}

/** a phone Dial()ed from another technology's channel (an IAX2 call): its leg answered, sipFrameSide over it */
class FrameRig extends Rig {
  readonly leg: AnsweredLeg;

  constructor() {
    super();
    const dialog = new Dialog({
      callId: 'late-offer',
      localTag: 'ours',
      remoteTag: 'far',
      localUri: '<sip:700@pbx>',
      remoteUri: '<sip:1002@pbx>',
      remoteTarget: 'sip:1002@127.0.0.1:5071',
      routeSet: [],
      localCseq: 1,
      remoteCseq: 1,
      remote: PHONE,
      localContact: '<sip:pbx@127.0.0.1:5060>',
    });
    this.leg = new AnsweredLeg(this.host, dialog, '1002');
    // as sip-extension-technology.ts leaves it: our offer in the INVITE, the phone's answer in its 200
    const session = new MediaSession(this.media.leg, '127.0.0.1');
    session.offer();
    session.takeAnswer(sdp('sendrecv'));
    const link = sipFrameSide({ ua: this.host, log: this.log, moh: { load: () => [] } }, this.leg, session);
    link.onHold = (held) => void this.holds.push(held);
  }
}

const rigs = [
  ['SipLeg (a channel caller)', () => new CallerRig()],
  ['sipFrameSide (a frame-bridged leg)', () => new FrameRig()],
] as const;

for (const [name, make] of rigs) {
  test(`${name}: a re-INVITE without SDP whose ACK answers sendonly holds the call, one answering sendrecv resumes it, each change reported once (RFC 3261 §14.2, RFC 3264 §8.4)`, () => {
    const rig = make();
    assert.equal(rig.reinvite(sdp('sendonly')), 'sendrecv', 'our 200 carries the offer');
    assert.deepEqual(rig.holds, [true], 'sendonly from the phone holds us');
    assert.equal(rig.media.last()!.direction, 'sendonly', 'nothing is sent to the phone that holds');
    rig.reinvite(sdp('inactive'));
    assert.deepEqual(rig.holds, [true], 'still held (inactive): not reported again');
    rig.reinvite(sdp('sendrecv'));
    assert.deepEqual(rig.holds, [true, false], 'resumed');
    assert.equal(rig.media.last()!.direction, 'sendrecv');
    rig.reinvite(sdp('inactive'));
    assert.deepEqual(rig.holds, [true, false, true], 'inactive holds too');
  });

  test(`${name}: holds by late offer and by offer are one hold state`, () => {
    const rig = make();
    rig.reinvite(sdp('sendonly'));
    assert.deepEqual(rig.holds, [true], 'held by late offer');
    assert.equal(rig.reinvite('', sdp('sendonly')), 'recvonly');
    assert.deepEqual(rig.holds, [true], 'an offer that holds a call held by late offer changes nothing');
    rig.reinvite('', sdp('sendrecv'));
    assert.deepEqual(rig.holds, [true, false], 'resumed by an offer');
    rig.reinvite('', sdp('inactive'));
    rig.reinvite(sdp('inactive'));
    assert.deepEqual(rig.holds, [true, false, true], 'held by an offer; a late offer answered inactive changes nothing');
  });

  test(`${name}: held by an offer, resumed by a re-INVITE without SDP: our offer is sendrecv, not the recvonly last agreed, so the phone may answer sendrecv (RFC 3264 §6.1)`, () => {
    const rig = make();
    assert.equal(rig.reinvite('', sdp('sendonly')), 'recvonly');
    assert.deepEqual(rig.holds, [true]);
    assert.equal(rig.reinvite(sdp('sendrecv')), 'sendrecv', 'what we want, whatever was agreed');
    assert.deepEqual(rig.holds, [true, false], 'resumed');
    assert.equal(rig.media.last()!.direction, 'sendrecv');
  });

  test(`${name}: an offer with the address 0.0.0.0 (RFC 2543's hold) holds, by offer and in an ACK, as the B2BUA's isHold reads it`, () => {
    const rig = make();
    const old = (dir: string) => sdp(dir).replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0');
    rig.reinvite('', old('sendrecv'));
    assert.deepEqual(rig.holds, [true]);
    rig.reinvite(sdp('sendrecv'));
    assert.deepEqual(rig.holds, [true, false]);
    rig.reinvite(old('sendrecv'));
    assert.deepEqual(rig.holds, [true, false, true]);
  });

  test(`${name}: an ACK without the answer, or with one that cannot be taken, changes no hold and is logged`, () => {
    const rig = make();
    rig.reinvite('');
    assert.deepEqual(rig.holds, [], 'no answer: no change');
    rig.reinvite(sdp('sendonly'));
    assert.deepEqual(rig.holds, [true]);
    rig.reinvite('');
    assert.deepEqual(rig.holds, [true], 'no answer: still held');
    rig.reinvite(UNUSABLE);
    assert.deepEqual(rig.holds, [true], 'an unusable answer: still held');
    assert.equal(rig.media.last()!.direction, 'sendonly', 'and the leg as it was');
    assert.ok(
      rig.lines.some((l) => /"(channel|dial)-bad-answer"/.test(l)),
      rig.lines.join(''),
    );
  });
}

test('SipLeg: an unusable answer in an ACK fails the channel once, as before', () => {
  const rig = new CallerRig();
  rig.reinvite(UNUSABLE);
  assert.equal(rig.failed, 1);
  assert.deepEqual(rig.holds, []);
});

test('answerInAck: null when no answer was awaited or the ACK has no body; the phone direction read as holdsBy reads an offer', () => {
  const { leg } = mediaLeg();
  const s = new MediaSession(leg, '127.0.0.1');
  assert.equal(answerInAck(s, request('ACK', 1, sdp('sendonly'))), null, 'no offer of ours: an ACK body is no answer');
  s.offer();
  assert.equal(answerInAck(s, request('ACK', 2)), null, 'no body');
  assert.equal(s.awaitingAnswer, true);
  const holds = (['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const).map((dir) => {
    s.offer();
    return answerInAck(s, request('ACK', 3, sdp(dir)));
  });
  assert.deepEqual(holds, [false, true, false, true]);
  s.offer();
  assert.throws(() => answerInAck(s, request('ACK', 4, UNUSABLE)), /no audio stream/);
});
