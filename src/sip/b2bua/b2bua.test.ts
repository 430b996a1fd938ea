// The B2BUA's call logic, driven through its interfaces with a recording
// transaction layer: what goes to each leg for each answer of the callee.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { LogRoot } from '../../observability/logger.js';
import type { ListenPoint, Remote, Sender } from '../../transport/types.js';
import { CallEventHub } from '../../core/call-events.js';
import { B2bua } from './b2bua.js';
import type { BindingInfo, CdrRecord, ClientTxHandlers, ExtensionInfo, RelayHandle, ServerTxHandle } from './types.js';

const CALLER: Remote = { transport: 'udp', address: '127.0.0.1', port: 5071 };
const PHONE1: Remote = { transport: 'udp', address: '127.0.0.1', port: 5081 };
const PHONE2: Remote = { transport: 'udp', address: '127.0.0.1', port: 5082 };

function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

const SDP = 'v=0\no=a 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\n';

function invite(cseq = 2): SipMessage {
  const body = SDP.replace(/\n/g, '\r\n');
  return parse(
    `INVITE sip:1002@pbx SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKcaller${cseq}\nMax-Forwards: 70\n` +
      `From: "Alice" <sip:1001@pbx>;tag=atag\nTo: <sip:1002@pbx>\nCall-ID: call-a@127.0.0.1\nCSeq: ${cseq} INVITE\n` +
      `Contact: <sip:1001@127.0.0.1:5071>\nProxy-Authorization: Digest username="1001"\nContent-Type: application/sdp\nContent-Length: ${body.length}\n\n` +
      SDP,
  );
}

class Rig {
  readonly aSent: SipMessage[] = [];
  readonly stateless: Array<{ msg: SipMessage; to: Remote }> = [];
  readonly requests: Array<{ msg: SipMessage; to: Remote; h: ClientTxHandlers; cancelled: number }> = [];
  readonly cdrs: CdrRecord[] = [];
  readonly retransmitting: Array<{ stopped: boolean }> = [];
  relays = 0;
  closedRelays = 0;
  bindings: BindingInfo[] = [
    { contactUri: 'sip:1002@127.0.0.1:5081', remote: PHONE1 },
    { contactUri: 'sip:1002@127.0.0.1:5082', remote: PHONE2 },
  ];
  readonly b2bua: B2bua;
  readonly hub = new CallEventHub();
  readonly aTx: ServerTxHandle = {
    respond: (res) => void this.aSent.push(res),
    respondStateless: (res) => void this.aSent.push(res),
  };

  constructor() {
    const sender: Sender = {
      send: () => undefined,
      localFor: (): ListenPoint => ({ transport: 'udp', address: '127.0.0.1', port: 5060 }),
    };
    const ext = (number: string, name: string): ExtensionInfo => ({ number, name, context: 'internal', directMedia: false });
    let branch = 0;
    const exts = new Map([
      ['1001', ext('1001', 'Alice')],
      ['1002', ext('1002', 'Bob')],
    ]);
    this.b2bua = new B2bua(
      { domain: 'pbx', userAgent: 'Palisade', ringTimeoutMs: 60_000, maxDurationMs: 0 },
      {
        tx: {
          sendRequest: (msg, to, h) => {
            // as the transaction layer does: its own top Via with a fresh branch
            msg.prepend('via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest${++branch};rport`);
            const entry = { msg, to, h, cancelled: 0 };
            this.requests.push(entry);
            return { cancel: () => void entry.cancelled++ };
          },
          sendStateless: (msg, to) => {
            msg.prepend('via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtest${++branch};rport`);
            this.stateless.push({ msg, to });
          },
          retransmit2xx: () => {
            const r = { stopped: false };
            this.retransmitting.push(r);
            return { stop: () => void (r.stopped = true) };
          },
        },
        auth: {
          verify: (_m, header) => (header ? { ok: true, user: '1001' } : { ok: false, reason: 'missing' }),
          challenge: () => [['proxy-authenticate', 'Digest realm="pbx", nonce="n"']],
        },
        media: {
          createRelay: (): RelayHandle => {
            this.relays++;
            return {
              offerAnswer: (from, body) => Buffer.from(body.toString().replace(/m=audio \d+/, `m=audio ${from === 'a' ? 30002 : 30000}`)),
              onInactive: () => undefined,
              describe: () => 'relay',
              close: () => void this.closedRelays++,
            };
          },
        },
        extensions: { get: (n) => exts.get(n) },
        location: { lookup: (aor) => (aor === '1002' ? this.bindings : []) },
        cdr: { write: (rec) => void this.cdrs.push(rec) },
        callEvents: this.hub,
      },
      sender,
      new LogRoot('error', {}, { write: () => undefined }).get('b2bua'),
    );
  }

  /** the callee's answer on fork i */
  answer(i: number, status: number, toTag = `b${i}`, body?: string): SipMessage {
    const req = this.requests[i]!.msg;
    const res = buildResponse(req, status, undefined, {
      toTag,
      body: body ? Buffer.from(body.replace(/\n/g, '\r\n')) : undefined,
      contentType: body ? 'application/sdp' : undefined,
    });
    if (status < 300) res.headers.push({ name: 'contact', value: `<sip:1002@127.0.0.1:${5081 + i}>` });
    const wire = parseMessage(res.toBuffer());
    if (!wire.ok) throw new Error(wire.error);
    this.requests[i]!.h.onResponse(wire.msg);
    return wire.msg;
  }

  statuses(): number[] {
    return this.aSent.map((m) => m.status);
  }
}

test('an unauthenticated INVITE is challenged with 407 before anything is looked up', () => {
  const r = new Rig();
  const inv = invite();
  inv.remove('proxy-authorization');
  r.b2bua.onInvite(r.aTx, inv, CALLER);
  assert.deepEqual(r.statuses(), [407]);
  assert.equal(r.requests.length, 0);
  assert.equal(r.relays, 0);
});

test('RFC 2617 §3.2.2.5: a digest-uri naming another resource gets 400, as from the registrar, not a new challenge', () => {
  const r = new Rig();
  const outcomes: Array<{ ok: boolean; reason?: string }> = [];
  r.b2bua.deps.auth = { verify: () => ({ ok: false, reason: 'uri-mismatch' }), challenge: () => [] };
  r.b2bua.deps.onAuth = (e) => void outcomes.push(e);
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  assert.deepEqual(r.statuses(), [400]);
  assert.equal(r.aSent[0]!.reason, 'Digest URI Mismatch');
  assert.deepEqual(
    outcomes.map((o) => [o.ok, o.reason]),
    [[false, 'uri-mismatch']],
  );
  assert.equal(r.requests.length, 0);
});

test('the callee rings on every contact; the first 200 wins, the other fork is cancelled, the caller gets 180 then 200 with relay SDP', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  assert.equal(r.requests.length, 2, 'one INVITE per registered contact');
  assert.deepEqual(
    r.requests.map((q) => q.to.port),
    [5081, 5082],
  );
  assert.match(r.requests[0]!.msg.body.toString(), /m=audio 30002/, 'the callee is offered the relay, not the caller');
  assert.notEqual(r.requests[0]!.msg.callId, 'call-a@127.0.0.1', 'a B2BUA leg has its own Call-ID');
  r.answer(0, 180);
  r.answer(1, 200, 'b1', SDP.replace('40000', '41000'));
  assert.deepEqual(r.statuses(), [180, 200]);
  assert.match(r.aSent[1]!.body.toString(), /m=audio 30000/);
  assert.equal(r.requests[0]!.cancelled, 1, 'the ringing fork is cancelled');
  assert.equal(r.requests[1]!.cancelled, 0);
  const acks = r.stateless.filter((s) => s.msg.method === 'ACK');
  assert.equal(acks.length, 1);
  assert.equal(acks[0]!.to.port, 5082);
  assert.equal(r.b2bua.activeCalls, 1);
});

test('RFC 3261 §13.2.2.4: a retransmitted 2xx from the winning fork is ACKed again, never hung up', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 200, 'b0', SDP);
  r.answer(0, 200, 'b0', SDP);
  assert.equal(r.stateless.filter((s) => s.msg.method === 'ACK').length, 2);
  assert.equal(r.requests.filter((q) => q.msg.method === 'BYE').length, 0);
  assert.equal(r.b2bua.activeCalls, 1);
  assert.deepEqual(r.statuses(), [200], 'the caller sees one 200');
});

test('a second fork answering after the winner is ACKed and sent BYE', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 200, 'b0', SDP);
  r.answer(1, 200, 'b1', SDP);
  const bye = r.requests.find((q) => q.msg.method === 'BYE');
  assert.ok(bye);
  assert.equal(bye.to.port, 5082);
  assert.equal(r.b2bua.activeCalls, 1);
});

test('486 from every contact gives the caller 486 and a BUSY CDR; timeouts give 480 and NO ANSWER', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 486);
  assert.deepEqual(r.statuses(), [], 'still waiting for the other contact');
  r.answer(1, 486);
  assert.deepEqual(r.statuses(), [486]);
  assert.equal(r.cdrs[0]!.disposition, 'BUSY');
  assert.equal(r.closedRelays, 1, 'the relay ports go back');

  const t = new Rig();
  t.b2bua.onInvite(t.aTx, invite(), CALLER);
  t.requests[0]!.h.onTimeout();
  t.requests[1]!.h.onTimeout();
  assert.deepEqual(t.statuses(), [480]);
  assert.equal(t.cdrs[0]!.disposition, 'NO ANSWER');
});

test('RFC 3261 §16.7: a 6xx on one fork ends the search and cancels the others', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 180);
  r.answer(0, 603);
  assert.deepEqual(r.statuses(), [180, 603]);
  assert.equal(r.requests[1]!.cancelled, 1);
});

test('CANCEL from the caller: 487 to the caller, every fork cancelled, CDR NO ANSWER', () => {
  const r = new Rig();
  const inv = invite();
  r.b2bua.onInvite(r.aTx, inv, CALLER);
  r.answer(0, 180);
  const cancel = parse(
    `CANCEL sip:1002@pbx SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKcaller2\nMax-Forwards: 70\n` +
      `From: "Alice" <sip:1001@pbx>;tag=atag\nTo: <sip:1002@pbx>\nCall-ID: call-a@127.0.0.1\nCSeq: 2 CANCEL\nContent-Length: 0\n\n`,
  );
  r.b2bua.onCancel(cancel);
  assert.deepEqual(r.statuses(), [180, 487]);
  assert.deepEqual(
    r.requests.map((q) => q.cancelled),
    [1, 1],
  );
  assert.equal(r.cdrs[0]!.disposition, 'NO ANSWER');
  assert.equal(r.b2bua.activeCalls, 0);
});

test('call events: a direct call reports start, ringing, answered and end with both extensions; the callee rings, then is in use, then idle', () => {
  const r = new Rig();
  const seen: string[] = [];
  const states: string[] = [];
  r.hub.onCall((e) => seen.push(`${e.phase}:${e.fromExtension}>${e.toExtension}:${e.via}${e.cause ? `:${e.cause}` : ''}`));
  r.hub.onDeviceState((ext, s) => states.push(`${ext}=${s}`));
  r.hub.emitRegistration({ extension: '1002', contact: 'sip:1002@127.0.0.1:5081', registered: true, kind: 'added', contacts: 1, via: 'sip', at: 0 });
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 180);
  assert.equal(r.hub.deviceState('1002'), 'ringing');
  r.answer(0, 200, 'b0', SDP);
  assert.equal(r.hub.activeCalls().length, 1);
  const ourTag = r.aSent.at(-1)!.to.params.tag!;
  const bye = parse(
    `BYE sip:1002@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKbye\nMax-Forwards: 70\n` +
      `From: "Alice" <sip:1001@pbx>;tag=atag\nTo: <sip:1002@pbx>;tag=${ourTag}\nCall-ID: call-a@127.0.0.1\nCSeq: 3 BYE\nContent-Length: 0\n\n`,
  );
  r.b2bua.onInDialog({ respond: () => undefined, respondStateless: () => undefined }, bye);
  assert.deepEqual(seen, ['start:1001>1002:b2bua', 'ringing:1001>1002:b2bua', 'answered:1001>1002:b2bua', 'end:1001>1002:b2bua:caller hung up']);
  assert.deepEqual(states, ['1002=idle', '1001=inuse', '1002=ringing', '1002=inuse', '1001=unavailable', '1002=idle']);
  assert.equal(r.hub.activeCalls().length, 0);
});

test('BYE from the caller: 200 to it, BYE to the callee, CDR ANSWERED with both channels', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 200, 'b0', SDP);
  const ourTag = r.aSent[0]!.to.params.tag!;
  const byeTx: SipMessage[] = [];
  const bye = parse(
    `BYE sip:1002@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKbye\nMax-Forwards: 70\n` +
      `From: "Alice" <sip:1001@pbx>;tag=atag\nTo: <sip:1002@pbx>;tag=${ourTag}\nCall-ID: call-a@127.0.0.1\nCSeq: 3 BYE\nContent-Length: 0\n\n`,
  );
  assert.equal(r.b2bua.onInDialog({ respond: (m) => void byeTx.push(m), respondStateless: (m) => void byeTx.push(m) }, bye), true);
  assert.deepEqual(
    byeTx.map((m) => m.status),
    [200],
  );
  const toCallee = r.requests.find((q) => q.msg.method === 'BYE');
  assert.ok(toCallee);
  assert.equal(toCallee.to.port, 5081);
  assert.equal(toCallee.msg.to.params.tag, 'b0');
  const cdr = r.cdrs[0]!;
  assert.equal(cdr.disposition, 'ANSWERED');
  assert.match(cdr.channel!, /^SIP\/1001-/);
  assert.match(cdr.dstchannel!, /^SIP\/1002-/);
  assert.equal(cdr.channel!.split('-')[1], cdr.dstchannel!.split('-')[1], 'both legs share the channel sequence');
  assert.equal(cdr.sourceIp, '127.0.0.1');
  assert.equal(r.b2bua.onInDialog({ respond: () => undefined, respondStateless: () => undefined }, bye), false, 'the dialog is gone: the UAS core answers 481');
});

test('a callee with no registered contact gets 480 and a NO ANSWER CDR; an unknown number 404', () => {
  const r = new Rig();
  r.bindings = [];
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  assert.deepEqual(r.statuses(), [480]);
  assert.equal(r.cdrs[0]!.disposition, 'NO ANSWER');
  const u = new Rig();
  const inv = invite();
  inv.ruriText = 'sip:4242@pbx';
  u.b2bua.onInvite(u.aTx, inv, CALLER);
  assert.deepEqual(u.statuses(), [404]);
  assert.equal(u.cdrs[0]!.disposition, 'FAILED');
});

test('an extension calling as someone else gets 403 and the attempt is recorded with its verdict', () => {
  const r = new Rig();
  const inv = invite();
  inv.set('from', '"Bob" <sip:1002@pbx>;tag=atag');
  r.b2bua.onInvite(r.aTx, inv, CALLER);
  assert.deepEqual(r.statuses(), [403]);
  assert.equal(r.requests.length, 0);
  assert.equal(r.cdrs[0]!.src, '1001');
  assert.equal(r.cdrs[0]!.disposition, 'FAILED');
  assert.match(r.cdrs[0]!.securityVerdict!, /^identity-mismatch/);
});

test('an in-dialog INFO (DTMF relay) crosses the bridge with its body, and the answer comes back', () => {
  const r = new Rig();
  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 200, 'b0', SDP);
  const ourTag = r.aSent[0]!.to.params.tag!;
  const body = 'Signal=5\r\nDuration=160\r\n';
  const info = parse(
    `INFO sip:1002@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKinfo\nMax-Forwards: 70\n` +
      `From: "Alice" <sip:1001@pbx>;tag=atag\nTo: <sip:1002@pbx>;tag=${ourTag}\nCall-ID: call-a@127.0.0.1\nCSeq: 3 INFO\n` +
      `Content-Type: application/dtmf-relay\nContent-Length: ${body.length}\n\n${body.replace(/\r\n/g, '\n')}`,
  );
  const answers: SipMessage[] = [];
  assert.equal(r.b2bua.onInDialog({ respond: (m) => void answers.push(m), respondStateless: (m) => void answers.push(m) }, info), true);
  const out = r.requests.find((q) => q.msg.method === 'INFO');
  assert.ok(out, 'INFO forwarded to the callee');
  assert.equal(out.to.port, 5081);
  assert.equal(out.msg.get('content-type'), 'application/dtmf-relay');
  assert.equal(out.msg.body.toString(), body);
  assert.equal(out.msg.to.params.tag, 'b0');
  const wire = parseMessage(buildResponse(out.msg, 200).toBuffer());
  assert.ok(wire.ok);
  out.h.onResponse(wire.msg);
  assert.deepEqual(
    answers.map((m) => m.status),
    [200],
  );
  assert.equal(answers[0]!.to.params.tag, ourTag);
});

test('the call gate: a refusal is a generic 403 with the rule in the CDR verdict; a passed call reports its answer and end, and can be cut', () => {
  const r = new Rig();
  const seen: string[] = [];
  let cut: ((cause: string) => void) | undefined;
  r.b2bua.deps.gate = {
    check: (a) => {
      seen.push(`check ${a.caller}->${a.dialled} callee=${a.callee ?? '-'}`);
      if (a.dialled === '0900123') return { ok: false, status: 403, reason: 'Forbidden', verdict: 'refused:class-not-permitted:premium' };
      return {
        ok: true,
        verdict: 'pass:internal',
        ticket: { answered: (c) => void ((cut = c), seen.push('answered')), ended: (s) => void seen.push(`ended ${s}`) },
      };
    },
  };
  const premium = invite();
  premium.uri = 'sip:0900123@pbx';
  r.b2bua.onInvite(r.aTx, premium, CALLER);
  assert.deepEqual(r.statuses(), [403]);
  assert.equal(r.aSent[0]!.reason, 'Forbidden');
  assert.equal(r.cdrs[0]!.securityVerdict, 'refused:class-not-permitted:premium');
  assert.equal(r.requests.length, 0, 'nothing leaves');

  r.b2bua.onInvite(r.aTx, invite(), CALLER);
  r.answer(0, 200, 'b0', SDP);
  assert.ok(cut);
  cut('spend-limit');
  const byes = r.requests
    .filter((q) => q.msg.method === 'BYE')
    .map((q) => q.to.port)
    .sort();
  assert.deepEqual(byes, [CALLER.port, PHONE1.port], 'both legs get a BYE');
  assert.equal(r.b2bua.activeCalls, 0);
  assert.deepEqual(seen, ['check 1001->0900123 callee=-', 'check 1001->1002 callee=1002', 'answered', 'ended 0']);
  assert.equal(r.cdrs.at(-1)!.securityVerdict, 'pass:internal');
  assert.equal(r.cdrs.at(-1)!.disposition, 'ANSWERED');
});
