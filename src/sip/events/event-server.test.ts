// The event server's SUBSCRIBE handling, one RFC 6665 rule per test, with
// the RFC's own wording in the names. SUBSCRIBEs go through a real
// transaction manager (event-server.test-support.ts); NOTIFY behaviour is in
// event-notify.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventRig, settle } from '../../../test/support/event-server-rig.js';
import type { EventPackage } from './event-package.js';

test('authentication comes first: an unauthenticated SUBSCRIBE is challenged statelessly, whatever its package', () => {
  const r = eventRig();
  assert.equal(r.subscribe({ user: null }).status, 401);
  assert.equal(r.subscribe({ user: null, event: 'presence' }).status, 401);
  assert.equal(r.tm.stats().server, 0, 'a challenge keeps no transaction');
  assert.equal(r.events.count, 0);
});

test('RFC 6665 §4.2.1.1: a package the notifier does not understand gets 489 (Bad Event) with Allow-Events (§8.2.2) listing the packages it serves', () => {
  const r = eventRig();
  const other: EventPackage = { ...r.pkg, name: 'x-other' };
  r.events.register(other);
  const res = r.subscribe({ event: 'presence' });
  assert.equal(res.status, 489);
  assert.equal(res.get('allow-events'), 'x-state, x-other');
  assert.equal(r.subscribe({ event: '', callId: 'no-event' }).status, 489, 'no Event header at all');
  assert.throws(() => r.events.register(other), /already registered/);
  assert.throws(() => r.events.register({ ...r.pkg, name: 'X-Upper' }), /lower-case/);
});

test('RFC 6665 §8.3.1: a subscription is accepted with 200 — implementations MUST NOT generate 202 — carrying Expires, Contact and our To tag', () => {
  const r = eventRig();
  const ok = r.subscribe({ expires: 600 });
  assert.equal(ok.status, 200);
  assert.equal(ok.get('expires'), '600');
  assert.equal(ok.get('contact'), '<sip:events@127.0.0.1:5060>');
  assert.ok(ok.to.params.tag, 'the 200 creates the dialog (RFC 6665 §4.2.1.1)');
  assert.equal(r.events.count, 1);
});

test('RFC 6665 §4.2.1.1: the notifier MAY shorten the interval but MUST NOT increase it; without Expires the package default applies', () => {
  const r = eventRig();
  assert.equal(r.subscribe({ expires: 7200, callId: 'long' }).get('expires'), '3600');
  assert.equal(r.subscribe({ expires: 300, callId: 'short' }).get('expires'), '300');
  assert.equal(r.subscribe({ expires: null, callId: 'none' }).get('expires'), '600');
});

test('RFC 6665 §4.2.1.1: 423 (Interval Too Brief) with Min-Expires if and only if the interval is greater than zero, smaller than one hour and below the minimum', () => {
  const r = eventRig();
  const brief = r.subscribe({ expires: 10 });
  assert.equal(brief.status, 423);
  assert.equal(brief.get('min-expires'), '60');
  assert.equal(r.events.count, 0);
  // a package whose minimum is above one hour cannot refuse an hour: it takes it as asked
  const r2 = eventRig();
  r2.events.register({ ...r2.pkg, name: 'x-slow', expires: { min: 5000, max: 9000, default: 9000 } });
  const hour = r2.subscribe({ event: 'x-slow', expires: 3600 });
  assert.equal(hour.status, 200);
  assert.equal(hour.get('expires'), '3600', 'MUST NOT increase it');
});

test("RFC 6665 §4.2.1.1: an Accept without any of the package's types gets 406 naming them; wildcards are accepted", () => {
  const r = eventRig();
  const res = r.subscribe({ accept: 'application/pidf+xml' });
  assert.equal(res.status, 406);
  assert.equal(res.get('accept'), 'text/plain');
  assert.equal(r.subscribe({ accept: 'application/pidf+xml, text/*', callId: 'wild' }).status, 200);
});

test('RFC 6665 §4.1.2.1: a SUBSCRIBE without a Contact is refused 400 (no target for NOTIFYs)', () => {
  const r = eventRig();
  assert.equal(r.subscribe({ contact: null }).status, 400);
  assert.equal(r.events.count, 0);
});

test('RFC 6665 §4.2.1.3: a subscriber the policy refuses gets 403 — the same answer whether the resource exists or not; only an authorized subscriber learns of a 404', () => {
  const r = eventRig();
  const known = r.subscribe({ user: 'bob', resource: 'alice', callId: 'c1' });
  const unknown = r.subscribe({ user: 'bob', resource: 'nobody', callId: 'c2' });
  assert.equal(known.status, 403);
  assert.equal(unknown.status, 403);
  assert.equal(known.reason, unknown.reason);
  assert.deepEqual(
    known.headers.map((h) => h.name),
    unknown.headers.map((h) => h.name),
  );
  assert.equal(r.refused.length, 2, 'both reported (IDS: RequestNotAllowed)');
  assert.equal(r.refused[0]!.subscriber, 'bob');
  r.grants.set('bob', ['alice', 'nobody']);
  assert.equal(r.subscribe({ user: 'bob', resource: 'alice', callId: 'c3' }).status, 200);
  assert.equal(r.subscribe({ user: 'bob', resource: 'nobody', callId: 'c4' }).status, 404);
  assert.equal(r.subscribe({ user: 'alice', host: 'elsewhere.example', callId: 'c5' }).status, 403, 'a resource of another domain');
});

test('RFC 6665 §4.1.2.2: a refresh for a subscription the notifier does not have gets 481; one inside a dialog that is not ours, of a package we do not serve, is handed back', () => {
  const r = eventRig();
  assert.equal(r.subscribe({ toTag: 'nosuchtag', callId: 'unknown' }).status, 481);
  assert.equal(r.notOurs.length, 0);
  r.subscribe({ toTag: 'calltag', event: 'refer', callId: 'a-call' });
  assert.equal(r.notOurs.length, 1, "a call's own usage goes on to the B2BUA");
});

test('RFC 6665 §8.2.1: the Event id parameter is part of the subscription: its NOTIFYs carry it, and a refresh with another id gets 481', async () => {
  const r = eventRig();
  const ok = r.subscribe({ event: 'x-state;id=42' });
  await settle();
  assert.equal(r.notifies()[0]!.get('event'), 'x-state;id=42');
  const tag = ok.to.params.tag!;
  assert.equal(r.subscribe({ toTag: tag, event: 'x-state;id=43' }).status, 481);
  assert.equal(r.subscribe({ toTag: tag, event: 'x-state' }).status, 481);
  assert.equal(r.subscribe({ toTag: tag, event: 'x-state;id=42' }).status, 200);
});

test('RFC 3261 §12.2.2: a refresh with a CSeq lower than the last is answered 500; another user refreshing the dialog gets 403', () => {
  const r = eventRig();
  const ok = r.subscribe({ cseq: 10 });
  const tag = ok.to.params.tag!;
  assert.equal(r.subscribe({ toTag: tag, cseq: 5 }).status, 500);
  r.grants.set('bob', ['alice']);
  assert.equal(r.subscribe({ toTag: tag, cseq: 11, user: 'bob', resource: 'alice' }).status, 403);
  assert.equal(r.subscribe({ toTag: tag, cseq: 12 }).status, 200);
});

test('RFC 6665 §4.2.1.4: a refresh is granted "assuming that the subscriber is still authorized"; when it no longer is: 403 and NOTIFY terminated;reason=rejected without state', async () => {
  const r = eventRig();
  r.grants.set('bob', ['alice']);
  const ok = r.subscribe({ user: 'bob', resource: 'alice', fromTag: 'bobtag', callId: 'watch' });
  await settle();
  r.answerAll();
  r.grants.delete('bob');
  const res = r.subscribe({ user: 'bob', resource: 'alice', fromTag: 'bobtag', callId: 'watch', toTag: ok.to.params.tag! });
  assert.equal(res.status, 403);
  await settle();
  const last = r.notifies().at(-1)!;
  assert.equal(last.get('subscription-state'), 'terminated;reason=rejected');
  assert.equal(last.body.length, 0, 'the state is not sent to a subscriber no longer allowed to see it');
  assert.equal(r.events.count, 0);
  assert.deepEqual(r.ended.at(-1), { resource: 'alice', reason: 'rejected', status: undefined });
});

test('a cap on subscriptions per subscriber: refused 403, before the resource is looked at, and reported; refreshes and other subscribers still served', () => {
  const r = eventRig({ limits: { perSubscriber: 2, total: 100 } });
  r.grants.set('alice', ['bob', 'nobody']);
  const first = r.subscribe({ callId: 's1' });
  assert.equal(r.subscribe({ resource: 'bob', callId: 's2' }).status, 200);
  const over = r.subscribe({ resource: 'bob', callId: 's3' });
  const overUnknown = r.subscribe({ resource: 'nobody', callId: 's4' });
  assert.equal(over.status, 403);
  assert.equal(overUnknown.status, 403, 'the same answer for a resource that does not exist');
  assert.equal(r.events.stats.refusedLimit, 2);
  assert.match(r.refused.at(-1)!.detail, /more than 2 subscriptions/);
  assert.equal(r.subscribe({ callId: 's1', toTag: first.to.params.tag! }).status, 200, 'a refresh adds nothing');
  assert.equal(r.subscribe({ user: 'bob', callId: 's5' }).status, 200);
  assert.equal(r.events.count, 3);
});

test('a cap on subscriptions in total: refused 503 with Retry-After, not held against the subscriber; a subscription that ends frees its place', async () => {
  const r = eventRig({ limits: { perSubscriber: 10, total: 2 } });
  const a = r.subscribe({ callId: 't1' });
  r.subscribe({ user: 'bob', callId: 't2' });
  const full = r.subscribe({ callId: 't3' });
  assert.equal(full.status, 503);
  assert.ok(full.get('retry-after'));
  assert.equal(r.refused.length, 0, 'the server being full is not an offence');
  assert.equal(r.subscribe({ callId: 't1', toTag: a.to.params.tag!, expires: 0 }).status, 200);
  assert.equal(r.subscribe({ callId: 't4' }).status, 200);
  await settle();
});

test('RFC 6665 §4.4.3: an initial SUBSCRIBE with Expires: 0 fetches the state — 200 and one NOTIFY terminated;reason=timeout — and keeps nothing', async () => {
  const r = eventRig({ limits: { total: 0 } });
  r.state.set('alice', 'busy');
  const ok = r.subscribe({ expires: 0 });
  assert.equal(ok.status, 200, 'a fetch is no subscription: the total cap does not apply');
  assert.equal(ok.get('expires'), '0');
  await settle();
  const [n] = r.notifies();
  assert.equal(n!.get('subscription-state'), 'terminated;reason=timeout');
  assert.equal(n!.body.toString(), 'alice: busy\r\n');
  assert.equal(r.events.count, 0);
});
