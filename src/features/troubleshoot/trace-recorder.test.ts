// The trace policy: a failed call is kept by default, a successful one only
// while its extension is traced; an answered challenge is no failure; the
// legs of a bridged call are one trace; secrets never reach the store; the
// store and the ring of recent messages keep their caps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListenPoint, Remote } from '../../transport/types.js';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { createTroubleshoot } from './index.js';
import { TraceStore } from './trace-store.js';
import type { CallTrace } from './trace-types.js';

const local: ListenPoint = { transport: 'udp', address: '127.0.0.1', port: 5060 };
const phoneA: Remote = { transport: 'udp', address: '127.0.0.1', port: 5061 };
const phoneB: Remote = { transport: 'udp', address: '127.0.0.1', port: 5062 };

function req(method: string, callId: string, o: { from?: string; to?: string; cseq?: number; auth?: string; body?: string } = {}): Buffer {
  const body = o.body ?? '';
  const lines = [
    `${method} sip:${o.to ?? '1500'}@127.0.0.1 SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK' + Math.random().toString(36).slice(2),
    `From: <sip:${o.from ?? '1000'}@127.0.0.1>;tag=a1`,
    `To: <sip:${o.to ?? '1500'}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    `CSeq: ${o.cseq ?? 1} ${method === 'ACK' ? 'INVITE' : method}`,
  ];
  if (o.auth) lines.push(`Proxy-Authorization: ${o.auth}`);
  if (body) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return Buffer.from(lines.join('\r\n'));
}

function res(status: number, reason: string, callId: string, cseq: string, body = ''): Buffer {
  return Buffer.from(
    [
      `SIP/2.0 ${status} ${reason}`,
      'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKx',
      'From: <sip:1000@127.0.0.1>;tag=a1',
      'To: <sip:1500@127.0.0.1>;tag=b1',
      `Call-ID: ${callId}`,
      `CSeq: ${cseq}`,
    ]
      .concat(body ? ['Content-Type: application/sdp'] : [], [`Content-Length: ${Buffer.byteLength(body)}`, '', body])
      .join('\r\n'),
  );
}

/**
 * The transport hands the tap the message it parsed (the recorder reads it
 * rather than scanning the bytes); `scan` hands only the bytes, as for a
 * malformed message, so the byte scanner is held to the same outcomes.
 */
let scanOnly = false;
function parsed(data: Buffer): SipMessage | null {
  if (scanOnly) return null;
  const r = parseMessage(data);
  assert.ok(r.ok, 'the test builds well-formed messages');
  return r.msg;
}

function rig(o: { maxCalls?: number; maxBytes?: number; maxOpenCalls?: number; ringMessages?: number; maxOpenBytes?: number } = {}) {
  let now = 1_700_000_000_000;
  const made = createTroubleshoot({ now: () => now, lingerMs: 2000, ...o });
  // every message passes as the transport passes it: bytes, and the parsed message when there is one
  const tap = {
    received: (d: Buffer, r: Remote, l: ListenPoint) => made.tap.received(d, r, l, parsed(d)),
    sent: (d: Buffer, r: Remote, l: ListenPoint) => made.tap.sent(d, r, l, parsed(d)),
    handled: () => made.tap.handled(),
  };
  const f = { ...made, tap };
  const tick = (ms: number) => {
    now += ms;
    f.recorder.sweep();
  };
  /** a message received from `from`, with the given sends while it is handled */
  const inbound = (data: Buffer, from: Remote, ...sends: Array<[Buffer, Remote]>) => {
    now += 1;
    f.tap.received(data, from, local);
    for (const [d, to] of sends) f.tap.sent(d, to, local);
    f.tap.handled();
  };
  return { f, tick, inbound };
}

const PASSWORD = 'pw-Secret-1000';
const AUTH = `Digest username="1000", realm="palisade", nonce="abc", uri="sip:1500@127.0.0.1", response="6629fae49393a05397450978507c4ef1", algorithm=MD5`;
const SDES = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4';
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/SAVP 0', SDES, ''].join('\r\n');

/** a bridged call through the B2BUA: A → Palisade (407, then with credentials) → B; `bStatus` is B's answer */
function bridgedCall(r: ReturnType<typeof rig>, a: string, b: string, bStatus: number, caller = '1000', callee = '1500') {
  r.inbound(req('INVITE', a, { from: caller, to: callee, body: SDP }), phoneA, [res(407, 'Proxy Authentication Required', a, '1 INVITE'), phoneA]);
  r.inbound(req('ACK', a, { from: caller, to: callee }), phoneA);
  r.inbound(
    req('INVITE', a, { from: caller, to: callee, cseq: 2, auth: AUTH.replace('1000', caller), body: SDP }),
    phoneA,
    [res(100, 'Trying', a, '2 INVITE'), phoneA],
    [req('INVITE', b, { from: caller, to: callee, body: SDP }), phoneB],
  );
  if (bStatus >= 300) {
    r.inbound(res(bStatus, 'Busy Here', b, '1 INVITE'), phoneB, [req('ACK', b), phoneB], [res(bStatus, 'Busy Here', a, '2 INVITE'), phoneA]);
    r.inbound(req('ACK', a, { cseq: 2 }), phoneA);
    return;
  }
  r.inbound(res(200, 'OK', b, '1 INVITE', SDP), phoneB, [req('ACK', b), phoneB], [res(200, 'OK', a, '2 INVITE', SDP), phoneA]);
  r.inbound(req('ACK', a, { cseq: 2 }), phoneA);
  r.inbound(req('BYE', a, { cseq: 3 }), phoneA, [res(200, 'OK', a, '3 BYE'), phoneA], [req('BYE', b, { cseq: 2 }), phoneB]);
  r.inbound(res(200, 'OK', b, '2 BYE'), phoneB);
}

function text(t: CallTrace): string {
  return t.sip.map((m) => m.data.toString('latin1')).join('\n');
}

test('a failed call is kept by default, both legs tied together, in time order', () => {
  const r = rig();
  bridgedCall(r, 'a-1', 'b-1', 486);
  assert.equal(r.f.store.list().length, 0, 'not decided while the legs linger');
  r.tick(2500);
  const [t] = r.f.store.list();
  assert.ok(t);
  assert.equal(t.reason, 'failed: 486 INVITE');
  assert.deepEqual(
    t.legs.map((l) => l.callId),
    ['a-1', 'b-1'],
  );
  assert.equal(r.f.store.find('b-1'), t);
  assert.equal(r.f.store.find('a-1'), t);
  assert.equal(t.sip.length, 10);
  for (let i = 1; i < t.sip.length; i++) assert.ok(t.sip[i]!.t >= t.sip[i - 1]!.t);
  const ladder = r.f.commands.trace!({ call: 'a-1' }) as { text: string };
  assert.match(ladder.text, /leg A {2}INVITE {2}Call-ID: a-1/);
  assert.match(ladder.text, /leg B {2}INVITE {2}Call-ID: b-1/);
  assert.match(ladder.text, /recv {2}127\.0\.0\.1:5062 --> 127\.0\.0\.1:5060 +UDP +486 Busy Here/);
  // the summary a lookup across workers asks first: which call, without the ladder
  const brief = r.f.commands.trace!({ call: 'a-1', summary: true }) as Record<string, unknown>;
  assert.equal(brief.call_ids, 'a-1 b-1');
  assert.equal(brief.id, t.id);
  assert.equal(brief.text, undefined);
  assert.equal(brief.legs, undefined);
});

test('a Dial() leg sent later from the dialplan is its own Call-ID until related; related, the call is one trace with both legs', () => {
  const dial = (relate: boolean, a: string, b: string) => {
    const r = rig();
    // the caller's INVITE is answered by Palisade (a channel) ...
    r.inbound(req('INVITE', a, { body: SDP }), phoneA, [res(200, 'OK', a, '1 INVITE', SDP), phoneA]);
    r.inbound(req('ACK', a), phoneA);
    // ... later the dialplan's Dial() sends the callee's INVITE, not while the caller's message is handled
    r.f.tap.sent(req('INVITE', b, { body: SDP }), phoneB, local);
    if (relate) assert.equal(r.f.recorder.relate(a, b), true);
    r.inbound(res(486, 'Busy Here', b, '1 INVITE'), phoneB, [req('ACK', b), phoneB]);
    r.inbound(req('BYE', a, { cseq: 2 }), phoneA, [res(200, 'OK', a, '2 BYE'), phoneA]);
    r.tick(2500);
    return r.f.store.list();
  };
  const apart = dial(false, 'ch-a', 'ch-b');
  assert.deepEqual(
    apart.map((t) => t.legs.map((l) => l.callId)),
    [['ch-b']],
    'unrelated, only the failed leg is kept, alone',
  );
  const together = dial(true, 'ch-a2', 'ch-b2');
  assert.deepEqual(
    together.map((t) => t.legs.map((l) => l.callId)),
    [['ch-a2', 'ch-b2']],
  );
  assert.equal(together[0]!.reason, 'failed: 486 INVITE');
  assert.equal(together[0]!.sip.length, 8, "5 messages on the caller's leg, 3 on the callee's");
  const r = rig();
  assert.equal(r.f.recorder.relate('nope', 'none'), false, 'legs not recorded are not related');
});

test('an answered 407 is no failure: a successful call is dropped unless its extension is traced, and kept while it is', () => {
  const r = rig();
  bridgedCall(r, 'a-2', 'b-2', 200);
  r.tick(2500);
  assert.equal(r.f.store.list().length, 0);
  assert.equal(r.f.recorder.stats().messages, 14, 'the call passed through the ring');
  r.f.commands['trace-extension']!({ extension: '1500', on: true });
  bridgedCall(r, 'a-3', 'b-3', 200);
  r.tick(2500);
  assert.equal(r.f.store.list().length, 1);
  assert.equal(r.f.store.find('1500')?.reason, 'traced extension 1500');
  r.f.commands['trace-extension']!({ extension: '1500', on: false });
  bridgedCall(r, 'a-4', 'b-4', 200);
  r.tick(2500);
  assert.equal(r.f.store.list().length, 1, 'off again: not kept');
  assert.equal(r.f.store.find('a-4'), undefined);
});

test('an unanswered challenge and a request without a final answer are failures', () => {
  const r = rig();
  r.inbound(req('REGISTER', 'reg-1', { to: '1001', from: '1001' }), phoneA, [res(401, 'Unauthorized', 'reg-1', '1 REGISTER'), phoneA]);
  r.inbound(req('REGISTER', 'reg-2', { to: '1002', from: '1002' }), phoneA, [res(401, 'Unauthorized', 'reg-2', '1 REGISTER'), phoneA]);
  r.inbound(req('REGISTER', 'reg-2', { to: '1002', from: '1002', cseq: 2, auth: AUTH }), phoneA, [res(200, 'OK', 'reg-2', '2 REGISTER'), phoneA]);
  r.inbound(req('INVITE', 'lost-1', { body: SDP }), phoneA, [res(100, 'Trying', 'lost-1', '1 INVITE'), phoneA]);
  r.tick(2500);
  assert.equal(r.f.store.find('reg-1')?.reason, 'failed: 401 REGISTER never answered');
  assert.equal(r.f.store.find('reg-2'), undefined);
  assert.equal(r.f.store.find('lost-1'), undefined, 'still waiting');
  r.tick(41_000);
  assert.equal(r.f.store.find('lost-1')?.reason, 'failed: no final answer');
});

test("an extension's newest trace is the one that began last, not the one stored last (an unanswered NOTIFY is stored 32 s late)", () => {
  const r = rig();
  // Palisade's MWI NOTIFY to 1500, never answered: kept only once its transaction has timed out
  r.f.tap.sent(req('NOTIFY', 'mwi-1', { from: '1500', to: '1500' }), phoneB, local);
  r.tick(5000);
  bridgedCall(r, 'a-6', 'b-6', 486);
  r.tick(2500);
  assert.equal(r.f.store.find('1500')?.reason, 'failed: 486 INVITE');
  r.tick(41_000);
  assert.deepEqual(
    r.f.store.list().map((t) => t.reason),
    ['failed: 486 INVITE', 'failed: no final answer'],
    'the NOTIFY is stored after the call',
  );
  assert.equal(r.f.store.find('1500')?.reason, 'failed: 486 INVITE', 'still the call: it began after the NOTIFY');
  assert.equal(r.f.store.find('mwi-1')?.reason, 'failed: no final answer');
});

test('Palisade hanging up both legs (media timeout) is an abnormal end, kept', () => {
  const r = rig();
  r.inbound(req('INVITE', 'a-5', { body: SDP }), phoneA, [req('INVITE', 'b-5', { body: SDP }), phoneB]);
  r.inbound(res(200, 'OK', 'b-5', '1 INVITE', SDP), phoneB, [req('ACK', 'b-5'), phoneB], [res(200, 'OK', 'a-5', '1 INVITE', SDP), phoneA]);
  r.inbound(req('ACK', 'a-5'), phoneA);
  r.f.tap.sent(req('BYE', 'a-5', { cseq: 2 }), phoneA, local);
  r.f.tap.sent(req('BYE', 'b-5', { cseq: 2 }), phoneB, local);
  r.inbound(res(200, 'OK', 'a-5', '2 BYE'), phoneA);
  r.inbound(res(200, 'OK', 'b-5', '2 BYE'), phoneB);
  r.tick(2500);
  assert.equal(r.f.store.find('a-5')?.reason, 'failed: ended by Palisade on every leg');
});

test('no Authorization value, password or SDES key reaches the store or the ladder; Content-Length stays true', () => {
  const r = rig();
  const withSecret = AUTH.replace('algorithm=MD5', `algorithm=MD5, cnonce="${PASSWORD}"`);
  r.inbound(req('INVITE', 'a-6', { body: SDP, auth: withSecret }), phoneA, [res(403, 'Forbidden', 'a-6', '1 INVITE'), phoneA]);
  r.inbound(
    Buffer.from(
      req('REGISTER', 'reg-3', { from: '1000', to: '1000' })
        .toString()
        .replace('Content-Length', `Authorization: Digest username="1000",\r\n response="0123456789abcdef0123456789abcdef", nonce="n1"\r\nContent-Length`),
    ),
    phoneA,
    [res(403, 'Forbidden', 'reg-3', '1 REGISTER'), phoneA],
  );
  r.tick(2500);
  const all = r.f.store.list().map(text).join('\n') + (r.f.commands.trace!({ call: 'a-6', messages: true }) as { text: string }).text;
  assert.doesNotMatch(all, /6629fae49393a05397450978507c4ef1|0123456789abcdef0123456789abcdef/);
  assert.ok(!all.includes(PASSWORD));
  assert.ok(!all.includes('WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'));
  assert.match(all, /Proxy-Authorization: Digest username="1000", \[redacted by Palisade\]/);
  assert.match(all, /Authorization: Digest username="1000", \[redacted by Palisade\]\r\nContent-Length/);
  assert.match(all, /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:X{40}\|2\^20\|1:4/);
  for (const m of r.f.store.list().flatMap((t) => t.sip)) {
    const s = m.data.toString('latin1');
    const at = s.indexOf('\r\n\r\n') + 4;
    assert.equal(Number(/Content-Length: (\d+)/.exec(s)![1]), m.data.length - at);
  }
});

test('the store keeps the last N calls and stays under its byte cap with many calls', () => {
  const r = rig({ maxCalls: 50, maxBytes: 200_000 });
  // 50 failed calls a second (the recorder looks for at most 100 a second in its ring)
  for (let i = 0; i < 400; i++) {
    bridgedCall(r, `a-m${i}`, `b-m${i}`, 486);
    if (i % 50 === 49) r.tick(1000);
  }
  r.tick(2500);
  const s = r.f.store.stats();
  assert.equal(s.kept, 400);
  assert.ok(s.calls <= 50);
  assert.ok(s.bytes <= 200_000, `bytes ${s.bytes}`);
  assert.equal(s.calls + s.evicted, 400);
  assert.ok(r.f.store.find('a-m399'), 'the newest is kept');
  assert.equal(r.f.store.find('a-m0'), undefined, 'the oldest went first');
  const tight = new TraceStore({ maxCalls: 1000, maxBytes: 30_000 });
  for (const t of [10_000, 10_000, 10_000, 10_000, 40_000])
    tight.add({ legs: [], reason: '', failed: true, start: 0, end: 0, sip: [], rtp: [], rtpDropped: 0, rtpPayload: false, bytes: t });
  assert.equal(tight.stats().calls, 3);
  assert.equal(tight.stats().bytes, 30_000);
  assert.equal(tight.stats().tooLarge, 1);
});

test('the ring of recent messages is capped in messages and in bytes; a long dialog keeps its first and last messages', () => {
  const r = rig({ ringMessages: 1024, maxOpenBytes: 256 * 1024 });
  for (let i = 0; i < 3000; i++) r.inbound(req('INVITE', `open-${i}`, { body: SDP }), phoneA, [res(200, 'OK', `open-${i}`, '1 INVITE', SDP), phoneA]);
  const s = r.f.recorder.stats();
  assert.ok(s.messages <= 1024 && s.messages > 100, `${s.messages} messages`);
  assert.ok(s.bytes <= 256 * 1024, `${s.bytes} bytes`);
  // a failure right after is still kept whole, from what the ring holds
  r.inbound(req('INVITE', 'late', { body: SDP }), phoneA, [res(486, 'Busy Here', 'late', '1 INVITE'), phoneA]);
  r.inbound(req('ACK', 'late'), phoneA);
  r.tick(2500);
  assert.equal(r.f.store.find('late')?.sip.length, 3);
  assert.equal(r.f.store.list().length, 1, 'the answered calls are not kept');
  const r2 = rig();
  r2.inbound(req('INVITE', 'long', { body: SDP }), phoneA, [res(200, 'OK', 'long', '1 INVITE', SDP), phoneA]);
  for (let i = 2; i < 300; i++) r2.inbound(req('INFO', 'long', { cseq: i }), phoneA, [res(481, 'Gone', 'long', `${i} INFO`), phoneA]);
  r2.inbound(req('BYE', 'long', { cseq: 400 }), phoneA, [res(200, 'OK', 'long', '400 BYE'), phoneA]);
  r2.tick(2500);
  const t = r2.f.store.find('long')!;
  assert.ok(t);
  assert.equal(t.sip.length, 64);
  assert.match(t.sip[0]!.data.toString(), /^INVITE /);
  assert.match(t.sip.at(-1)!.data.toString(), /^SIP\/2\.0 200 OK[\s\S]*CSeq: 400 BYE/);
  assert.equal(t.legs[0]!.elided, 2 + 298 * 2 + 2 - 64);
});

test('an answered REGISTER is not kept; a challenge never answered is, even with later traffic on other Call-IDs', () => {
  const r = rig();
  r.inbound(req('REGISTER', 'reg-1', { to: '1001', from: '1001' }), phoneA, [res(401, 'Unauthorized', 'reg-1', '1 REGISTER'), phoneA]);
  r.inbound(req('REGISTER', 'reg-2', { to: '1002', from: '1002' }), phoneA, [res(401, 'Unauthorized', 'reg-2', '1 REGISTER'), phoneA]);
  r.inbound(req('REGISTER', 'reg-2', { to: '1002', from: '1002', cseq: 2, auth: AUTH }), phoneA, [res(200, 'OK', 'reg-2', '2 REGISTER'), phoneA]);
  // a retransmission of the answered REGISTER
  r.inbound(req('REGISTER', 'reg-2', { to: '1002', from: '1002', cseq: 2, auth: AUTH }), phoneA, [res(200, 'OK', 'reg-2', '2 REGISTER'), phoneA]);
  assert.equal(r.f.recorder.stats().pending, 2, 'two challenges wait for their answer');
  r.tick(2500);
  assert.equal(r.f.store.find('reg-2'), undefined);
  const t = r.f.store.find('reg-1');
  assert.equal(t?.reason, 'failed: 401 REGISTER never answered');
  assert.equal(t?.sip.length, 2);
  assert.deepEqual(t?.legs[0]?.users, ['1001']);
  assert.equal(r.f.recorder.stats().pending, 0);
  assert.equal(r.f.recorder.stats().challengeScans, 0, 'both decided by look-up, without a pass over the ring');
});

test('challenges decided by look-up; when the look-up tables have moved on (many challenges since), the ring still decides', () => {
  // maxOpenCalls 4: the challenge tables keep two generations of 4 Call-IDs
  const r = rig({ maxOpenCalls: 4 });
  const challenge = (id: string, user: string) => r.inbound(req('REGISTER', id, { to: user, from: user }), phoneA, [res(401, 'Unauthorized', id, '1 REGISTER'), phoneA]);
  const answer = (id: string, user: string) => r.inbound(req('REGISTER', id, { to: user, from: user, cseq: 2, auth: AUTH }), phoneA, [res(200, 'OK', id, '2 REGISTER'), phoneA]);
  challenge('old-answered', '1001');
  answer('old-answered', '1001');
  challenge('old-unanswered', '1002');
  // twenty more answered registrations push both out of the tables
  for (let i = 0; i < 20; i++) {
    challenge(`busy-${i}`, '1003');
    answer(`busy-${i}`, '1003');
  }
  challenge('new-unanswered', '1004');
  r.tick(2500);
  const kept = r.f.store
    .list()
    .map((t) => t.legs[0]?.callId)
    .sort();
  assert.deepEqual(kept, ['new-unanswered', 'old-unanswered'], 'only the challenges nothing answered');
  // 23 challenges: the tables keep the latest 5 to 8 Call-IDs; the older ones (the two above among them) were decided from the ring
  const scans = r.f.recorder.stats().challengeScans;
  assert.ok(scans >= 15 && scans <= 18, `${scans} decided from the ring`);
});

test('from the bytes alone (no parsed message, as for a malformed one) the recorder decides the same', () => {
  scanOnly = true;
  try {
    const failed = rig();
    bridgedCall(failed, 'a-s', 'b-s', 486);
    failed.tick(2500);
    const [t] = failed.f.store.list();
    assert.equal(t?.reason, 'failed: 486 INVITE');
    assert.equal(t?.sip.length, 10);
    const fine = rig();
    bridgedCall(fine, 'a-t', 'b-t', 200);
    fine.tick(2500);
    assert.equal(fine.f.store.list().length, 0, 'a completed call is not kept');
    assert.equal(fine.f.recorder.stats().messages, 14, 'the completed call was recorded');
  } finally {
    scanOnly = false;
  }
});

test('a call a party hung up, every BYE answered and nothing failed, leaves nothing to decide; Palisade hanging up both legs is kept', () => {
  const r = rig();
  bridgedCall(r, 'a-e', 'b-e', 200);
  assert.equal(r.f.recorder.stats().pending, 1, 'only the answered 407 waits');
  r.inbound(req('BYE', 'a-e', { cseq: 3 }), phoneA, [res(200, 'OK', 'a-e', '3 BYE'), phoneA]);
  r.tick(2500);
  assert.equal(r.f.store.list().length, 0);
  assert.equal(r.f.recorder.stats().pending, 0);
  // Palisade hanging up both legs is no good end: it lingers, then is kept
  const p = rig();
  p.inbound(req('INVITE', 'a-p', { body: SDP }), phoneA, [req('INVITE', 'b-p', { body: SDP }), phoneB]);
  p.inbound(res(200, 'OK', 'b-p', '1 INVITE', SDP), phoneB, [req('ACK', 'b-p'), phoneB], [res(200, 'OK', 'a-p', '1 INVITE', SDP), phoneA]);
  p.inbound(req('ACK', 'a-p'), phoneA);
  p.f.tap.sent(req('BYE', 'a-p', { cseq: 2 }), phoneA, local);
  p.f.tap.sent(req('BYE', 'b-p', { cseq: 2 }), phoneB, local);
  p.inbound(res(200, 'OK', 'a-p', '2 BYE'), phoneA);
  p.inbound(res(200, 'OK', 'b-p', '2 BYE'), phoneB);
  assert.equal(p.f.recorder.stats().pending, 2, "Palisade's two BYEs wait to be looked at");
  p.tick(2500);
  assert.equal(p.f.store.find('a-p')?.reason, 'failed: ended by Palisade on every leg');
});

test('a failure is decided before the ring overwrites it, not only after the linger', () => {
  const r = rig({ ringMessages: 1024 });
  bridgedCall(r, 'a-f', 'b-f', 486);
  // a busy server: far more messages than the ring holds pass within the linger
  for (let i = 0; i < 600; i++) r.inbound(req('OPTIONS', `o-${i}`), phoneB, [res(200, 'OK', `o-${i}`, '1 OPTIONS'), phoneB]);
  const t = r.f.store.find('b-f');
  assert.equal(t?.reason, 'failed: 486 INVITE', 'kept before the 2 s were over');
  assert.equal(t?.sip.length, 10);
  assert.ok(r.f.recorder.stats().messages <= 1024);
});

test('a traced extension’s long call keeps its set-up after the ring has moved on', () => {
  const r = rig({ ringMessages: 1024 });
  r.f.commands['trace-extension']!({ extension: '1500', on: true });
  r.inbound(req('INVITE', 'long-a', { body: SDP }), phoneA, [req('INVITE', 'long-b', { body: SDP }), phoneB]);
  r.inbound(res(200, 'OK', 'long-b', '1 INVITE', SDP), phoneB, [req('ACK', 'long-b'), phoneB], [res(200, 'OK', 'long-a', '1 INVITE', SDP), phoneA]);
  r.inbound(req('ACK', 'long-a'), phoneA);
  for (let i = 0; i < 1500; i++) r.inbound(req('OPTIONS', `o-${i}`, { from: '1001', to: '1002' }), phoneB, [res(200, 'OK', `o-${i}`, '1 OPTIONS'), phoneB]);
  r.inbound(req('BYE', 'long-a', { cseq: 2 }), phoneA, [res(200, 'OK', 'long-a', '2 BYE'), phoneA], [req('BYE', 'long-b', { cseq: 2 }), phoneB]);
  r.inbound(res(200, 'OK', 'long-b', '2 BYE'), phoneB);
  r.tick(2500);
  const t = r.f.store.find('long-b');
  assert.equal(t?.reason, 'traced extension 1500');
  assert.deepEqual(
    t?.legs.map((l) => l.callId),
    ['long-a', 'long-b'],
  );
  assert.equal(t?.sip.length, 10, 'both legs whole, the OPTIONS of others not in it');
  assert.match(t!.sip[0]!.data.toString(), /^INVITE sip:1500@/);
  assert.equal(r.f.store.list().length, 1);
});

test("a party's BYE passed on after its handling (asynchronously) is no sign of Palisade ending the call", () => {
  const r = rig();
  r.inbound(req('INVITE', 'a-y', { body: SDP }), phoneA, [req('INVITE', 'b-y', { body: SDP }), phoneB]);
  r.inbound(res(200, 'OK', 'b-y', '1 INVITE', SDP), phoneB, [req('ACK', 'b-y'), phoneB], [res(200, 'OK', 'a-y', '1 INVITE', SDP), phoneA]);
  r.inbound(req('ACK', 'a-y'), phoneA);
  r.inbound(req('BYE', 'a-y', { cseq: 2 }), phoneA, [res(200, 'OK', 'a-y', '2 BYE'), phoneA]);
  r.f.tap.sent(req('BYE', 'b-y', { cseq: 2 }), phoneB, local);
  r.inbound(res(200, 'OK', 'b-y', '2 BYE'), phoneB);
  assert.equal(r.f.recorder.stats().pending, 0);
  r.tick(2500);
  assert.equal(r.f.store.list().length, 0);
});

test('a flood of failures (a scanner) is looked for in the ring at a bounded rate, the rest counted as skipped', () => {
  const r = rig();
  for (let i = 0; i < 1000; i++) r.inbound(req('INVITE', `scan-${i}`, { body: SDP }), phoneA, [res(404, 'Not Found', `scan-${i}`, '1 INVITE'), phoneA]);
  r.tick(2500);
  const kept = r.f.store.stats().kept;
  assert.ok(kept >= 200 && kept <= 400, `${kept} kept`);
  assert.equal(r.f.recorder.stats().skipped, 1000 - kept);
  assert.ok(r.f.store.find('scan-999') || r.f.store.find('scan-0'), 'failures were kept');
});
