// The event server's NOTIFYs: the immediate one, state changes, ordering,
// expiry and unsubscribe, the failures that end a subscription, and
// unsolicited notifications — RFC 6665's wording in the test names. NOTIFYs
// travel through a real transaction manager on a FakeClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, TCP } from '../../../test/support/sip-transaction-rig.js';
import { eventRig, settle } from '../../../test/support/event-server-rig.js';
import { notifyFailed, notifyThrough } from './notify-sender.js';
import type { SipMessage } from '../../sip-message/sip-message.js';

test("RFC 6665 §4.2.1.2: upon accepting a subscription notifiers MUST send a NOTIFY immediately, in the dialog the 200 created, to the subscriber's Contact along the Record-Route set", async () => {
  const r = eventRig();
  r.state.set('alice', 'ringing');
  const ok = r.subscribe({ expires: 900, recordRoute: ['<sip:proxy.example;lr>'], contact: '<sip:alice@192.0.2.7:5070;transport=udp>' });
  await settle();
  const [n] = r.notifies();
  assert.ok(n);
  assert.equal(n.uri, 'sip:alice@192.0.2.7:5070;transport=udp', 'the remote target');
  assert.equal(n.get('route'), '<sip:proxy.example;lr>', 'RFC 3261 §12.1.1: the route set');
  assert.equal(n.callId, 'sub-call-1');
  assert.equal(n.from.params.tag, ok.to.params.tag, 'our tag');
  assert.equal(n.to.params.tag, 'ft1', "the subscriber's tag");
  assert.equal(n.get('event'), 'x-state');
  assert.equal(n.get('subscription-state'), 'active;expires=900');
  assert.equal(n.get('content-type'), 'text/plain');
  assert.equal(n.get('contact'), '<sip:events@127.0.0.1:5060>');
  assert.equal(n.body.toString(), 'alice: ringing\r\n');
  assert.equal(ok.get('record-route'), '<sip:proxy.example;lr>', 'the 200 copies Record-Route');
});

test('a state change NOTIFYs every subscriber of the resource and nobody else, with the time left in Subscription-State', async () => {
  const r = eventRig();
  r.grants.set('bob', ['alice']);
  r.subscribe({ callId: 'a1' });
  r.subscribe({ user: 'bob', resource: 'alice', callId: 'b1', fromTag: 'bt' });
  r.subscribe({ user: 'bob', callId: 'b2', fromTag: 'bt2' });
  await settle();
  r.answerAll();
  r.clock.advance(100_000);
  r.state.set('alice', 'busy');
  await r.events.notify('x-state', 'alice');
  const changed = r.notifies().slice(3);
  assert.deepEqual(changed.map((n) => n.callId).sort(), ['a1', 'b1']);
  for (const n of changed) {
    assert.equal(n.body.toString(), 'alice: busy\r\n');
    assert.equal(n.get('subscription-state'), 'active;expires=500');
  }
});

test('NOTIFY ordering: CSeq grows by one per NOTIFY (RFC 3261 §12.2.1.1); one NOTIFY is outstanding at a time, and changes meanwhile go out as one NOTIFY of the latest state', async () => {
  const r = eventRig();
  r.subscribe();
  await settle();
  const [first] = r.notifies();
  for (const s of ['ringing', 'busy', 'idle again']) {
    r.state.set('alice', s);
    await r.events.notify('x-state', 'alice');
  }
  assert.equal(r.notifies().length, 1, 'nothing overtakes an unanswered NOTIFY');
  r.answer(first!, 200);
  await settle();
  const all = r.notifies();
  assert.equal(all.length, 2, 'three changes, one NOTIFY');
  assert.equal(all[1]!.body.toString(), 'alice: idle again\r\n');
  assert.equal(all[1]!.cseq.seq, first!.cseq.seq + 1);
  r.answer(all[1]!, 200);
  await settle();
  assert.equal(r.notifies().length, 2);
});

test('RFC 6665 §4.2.1.4: if no refresh is received before its expiration time the subscription is removed, with NOTIFY terminated;reason=timeout', async () => {
  const r = eventRig();
  r.subscribe({ expires: 600 });
  await settle();
  r.answerAll();
  r.clock.advance(599_000);
  assert.equal(r.events.count, 1);
  r.clock.advance(1000);
  await settle();
  assert.equal(r.events.count, 0);
  assert.equal(r.notifies().at(-1)!.get('subscription-state'), 'terminated;reason=timeout');
  assert.deepEqual(r.ended, [{ resource: 'alice', reason: 'expired', status: undefined }]);
});

test('RFC 6665 §4.2.1.4: a refresh updates the expiration time (and gets a NOTIFY, §4.2.1.2)', async () => {
  const r = eventRig();
  const ok = r.subscribe({ expires: 600 });
  await settle();
  r.answerAll();
  r.clock.advance(500_000);
  const again = r.subscribe({ toTag: ok.to.params.tag!, expires: 600 });
  assert.equal(again.status, 200);
  assert.equal(again.to.params.tag, ok.to.params.tag);
  await settle();
  assert.equal(r.notifies().length, 2);
  assert.equal(r.notifies()[1]!.get('subscription-state'), 'active;expires=600');
  r.answerAll();
  r.clock.advance(500_000);
  assert.equal(r.events.count, 1, 'alive past the first deadline');
  r.clock.advance(100_000);
  assert.equal(r.events.count, 0);
});

test('RFC 6665 §4.2.1.4: Expires: 0 unsubscribes — 200, then a final NOTIFY terminated;reason=timeout; nothing is sent after it', async () => {
  const r = eventRig();
  const ok = r.subscribe();
  await settle();
  r.answerAll();
  const bye = r.subscribe({ toTag: ok.to.params.tag!, expires: 0 });
  assert.equal(bye.status, 200);
  assert.equal(bye.get('expires'), '0');
  assert.equal(r.events.count, 0);
  await settle();
  assert.equal(r.notifies().at(-1)!.get('subscription-state'), 'terminated;reason=timeout');
  r.answerAll();
  await r.events.notify('x-state', 'alice');
  assert.equal(r.notifies().length, 2);
  assert.equal(r.subscribe({ toTag: ok.to.params.tag! }).status, 481, 'the dialog is gone');
});

test('the final NOTIFY is never overtaken: an unsubscribe while a NOTIFY is outstanding sends terminated after it is answered, and no change in between', async () => {
  const r = eventRig();
  const ok = r.subscribe();
  await settle();
  r.state.set('alice', 'busy');
  await r.events.notify('x-state', 'alice');
  r.subscribe({ toTag: ok.to.params.tag!, expires: 0 });
  await settle();
  assert.equal(r.notifies().length, 1);
  r.answerAll();
  await settle();
  const all = r.notifies();
  assert.equal(all.length, 2);
  assert.equal(all[1]!.get('subscription-state'), 'terminated;reason=timeout');
  assert.equal(all[1]!.cseq.seq, all[0]!.cseq.seq + 1);
});

test('RFC 6665 §4.2.2: a NOTIFY answered 481 — the notifier MUST remove the subscription', async () => {
  const r = eventRig();
  r.subscribe();
  await settle();
  r.answerAll(481);
  await settle();
  assert.equal(r.events.count, 0);
  assert.deepEqual(r.ended, [{ resource: 'alice', reason: 'notify-failed', status: 481 }]);
  await r.events.notify('x-state', 'alice');
  assert.equal(r.notifies().length, 1, 'nothing more is sent, not even terminated');
});

test('RFC 6665 §4.2.2: a NOTIFY that times out (Timer F) removes the subscription; so does a 408', async () => {
  const r = eventRig();
  r.subscribe({ callId: 'silent' });
  r.subscribe({ callId: 'timeout-answer' });
  await settle();
  const [silent, answered] = r.notifies();
  r.answer(answered!, 408);
  await settle();
  assert.equal(r.events.count, 1);
  r.clock.advance(64 * 500);
  await settle();
  assert.equal(r.events.count, 0);
  assert.deepEqual(
    r.ended.map((e) => e.status),
    [408, 408],
  );
  assert.ok(silent);
});

test('a transport error on the NOTIFY (RFC 3261 §8.1.3.1: treated as 503) removes the subscription', async () => {
  const r = eventRig();
  r.subscribe({ remote: TCP });
  await settle();
  assert.equal(r.events.count, 1);
  r.tm.transportError(TCP);
  await settle();
  assert.equal(r.events.count, 0);
  assert.equal(r.ended[0]!.status, 503);
});

test('RFC 3265 §3.2.2 (kept by RFC 6665): a failure response with Retry-After is no failure of the subscription', async () => {
  const r = eventRig();
  r.subscribe();
  await settle();
  r.answer(r.notifies()[0]!, 503, [['retry-after', '30']]);
  await settle();
  assert.equal(r.events.count, 1);
  assert.equal(notifyFailed({ status: 500 }), true);
  assert.equal(notifyFailed({ status: 503, retryAfter: true }), false);
  assert.equal(notifyFailed({ status: 481, retryAfter: true }), true, '481 always ends it');
  assert.equal(notifyFailed({ status: 202 }), false);
});

test('notifyThrough maps a client transaction to an outcome: the final status, 408 on Timer F, 503 on a transport error', async () => {
  const outcome = (run: (h: { onResponse(m: SipMessage): void; onTimeout(): void; onTransportError(): void }) => void) =>
    notifyThrough({ sendRequest: (_req, _remote, h) => (run(h as never), undefined as never) })(undefined as never, TCP);
  const wire = (first: string, extra = '') =>
    parse(
      `SIP/2.0 ${first}\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKn1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 NOTIFY\r\n${extra}Content-Length: 0\r\n\r\n`,
    );
  const provisional = wire('100 Trying');
  const final = wire('503 Service Unavailable', 'Retry-After: 5\r\n');
  assert.deepEqual(await outcome((h) => (h.onResponse(provisional), h.onResponse(final))), { status: 503, retryAfter: true });
  assert.deepEqual(await outcome((h) => h.onTimeout()), { status: 408 });
  assert.deepEqual(await outcome((h) => h.onTransportError()), { status: 503 });
});

test('unsolicited NOTIFY (a package that asks for it): a change of a resource nobody subscribed to goes to its registered contacts, outside any dialog', async () => {
  const phone = { contactUri: 'sip:bob@192.0.2.9:5080', remote: { transport: 'udp' as const, address: '192.0.2.9', port: 5080 } };
  const r = eventRig({ unsolicited: true, contacts: { bob: [phone] } });
  r.state.set('bob', 'busy');
  await r.events.notify('x-state', 'bob');
  const [n] = r.notifies();
  assert.equal(n!.uri, 'sip:bob@192.0.2.9:5080');
  assert.equal(n!.get('subscription-state'), 'active');
  assert.equal(n!.to.params.tag, undefined, 'no dialog');
  assert.equal(n!.body.toString(), 'bob: busy\r\n');
  assert.equal(r.events.stats.unsolicited, 1);
  // once subscribed, the subscription is told instead
  r.subscribe({ user: 'bob', callId: 'bob-sub', contact: '<sip:bob@192.0.2.9:5080>' });
  await settle();
  await r.events.notify('x-state', 'bob');
  assert.equal(r.events.stats.unsolicited, 1);
  await r.events.contactRegistered('bob', phone.contactUri, phone.remote);
  assert.equal(r.events.stats.unsolicited, 1, 'a registering phone with a subscription is not told twice');
});

test('a change made in another worker (subscribersOnly): the subscriptions held here are told, the registered contacts are not (that worker told them)', async () => {
  const phone = { contactUri: 'sip:bob@192.0.2.9:5080', remote: { transport: 'udp' as const, address: '192.0.2.9', port: 5080 } };
  const r = eventRig({ unsolicited: true, contacts: { bob: [phone] } });
  r.state.set('bob', 'busy');
  await r.events.notify('x-state', 'bob', { subscribersOnly: true });
  assert.equal(r.notifies().length, 0);
  assert.equal(r.events.stats.unsolicited, 0);
  r.subscribe({ user: 'bob', callId: 'bob-sub', contact: '<sip:bob@192.0.2.9:5080>' });
  await settle();
  r.answerAll();
  const before = r.notifies().length;
  r.state.set('bob', 'away');
  await r.events.notify('x-state', 'bob', { subscribersOnly: true });
  const now = r.notifies();
  assert.equal(now.length, before + 1, 'the subscription hears it');
  assert.equal(now.at(-1)!.callId, 'bob-sub');
  assert.equal(now.at(-1)!.body.toString(), 'bob: away\r\n');
  assert.equal(r.events.stats.unsolicited, 0);
});

test('unsolicited NOTIFY: a contact that registers hears the state at once; never for a package without it or a resource that does not exist', async () => {
  const phone = { contactUri: 'sip:alice@192.0.2.9:5080', remote: { transport: 'udp' as const, address: '192.0.2.9', port: 5080 } };
  const on = eventRig({ unsolicited: true });
  await on.events.contactRegistered('alice', phone.contactUri, phone.remote);
  await on.events.contactRegistered('nobody', phone.contactUri, phone.remote);
  assert.equal(on.notifies().length, 1);
  assert.equal(on.notifies()[0]!.body.toString(), 'alice: idle\r\n');
  const off = eventRig({ contacts: { alice: [phone] } });
  await off.events.contactRegistered('alice', phone.contactUri, phone.remote);
  await off.events.notify('x-state', 'alice');
  assert.equal(off.notifies().length, 0);
});
