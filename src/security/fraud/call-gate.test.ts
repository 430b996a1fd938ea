import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallGate, type SharedCallChange } from './call-gate.js';
import { NumberPlan } from './number-plan.js';
import { RateTable } from './rate-table.js';
import { FraudList } from './fraud-list.js';
import { CallingProfiles, DEFAULT_ANOMALY } from './calling-profile.js';
import { makePolicy, type PrincipalPolicy } from './principal.js';
import { ReputationService, DEFAULT_REPUTATION } from '../reputation/reputation-service.js';
import { Acl } from '../acl/acl.js';
import type { SecurityEvent } from '../../core/security-event.js';
import type { GateDecision } from '../../sip/b2bua/types.js';

function setup(
  policies: Record<string, PrincipalPolicy>,
  o: { rates?: Record<string, number>; anomaly?: Partial<typeof DEFAULT_ANOMALY>; clock?: () => number; trunks?: Record<string, PrincipalPolicy> } = {},
) {
  const plan = new NumberPlan();
  const events: SecurityEvent[] = [];
  const reputation = new ReputationService(DEFAULT_REPUTATION, o.clock);
  const fraudList = new FraudList(plan);
  const gate = new CallGate({
    plan,
    rates: new RateTable(o.rates ?? {}),
    fraudList,
    reputation,
    profiles: new CallingProfiles({ ...DEFAULT_ANOMALY, ...o.anomaly }),
    policyOf: (n) => policies[n] ?? makePolicy('extension', n),
    isExtension: (n) => n in policies,
    trunkPolicyOf: (name) => o.trunks?.[name],
    sink: { emit: (e) => events.push(e) },
    clock: o.clock,
  });
  const call = (caller: string, dialled: string, address = '10.0.0.5'): GateDecision =>
    gate.check({ caller, dialled, callee: dialled in policies ? dialled : undefined, remote: { address, port: 5060, transport: 'udp' }, callId: 'c' + Math.random() });
  return { gate, events, reputation, fraudList, call };
}

const verdict = (d: GateDecision) => d.verdict;

test('classes: international and premium refused by default, allowed when permitted; refusal is a generic 403', () => {
  const { call, events } = setup({
    '1001': makePolicy('extension', '1001'),
    '1002': makePolicy('extension', '1002'),
    '1003': makePolicy('extension', '1003', { permissions: ['international'] }),
  });
  const d = call('1001', '0044207946000');
  assert.equal(d.ok, false);
  assert.ok(!d.ok && d.status === 403 && d.reason === 'Forbidden');
  assert.equal(verdict(d), 'refused:class-not-permitted:international');
  assert.equal(events.at(-1)?.type, 'FraudRuleHit');
  assert.equal(verdict(call('1002', '0900123456')), 'refused:class-not-permitted:premium');
  assert.equal(verdict(call('1003', '0044207946000')), 'pass:international');
});

test('emergency is never blocked by any rule', () => {
  const p = makePolicy('extension', '1001', { permissions: [], maxCalls: 1, callsPerMinute: 1, dailySpendLimit: 0, callFrom: Acl.permitOnly(['192.0.2.0/24']) });
  const { call, reputation, fraudList } = setup({ '1001': p }, { rates: { '112': 100, '911': 100 }, anomaly: { mode: 'block', minCalls: 1 } });
  fraudList.add('112');
  fraudList.add('911');
  for (let i = 0; i < 5; i++) reputation.bad('user:1001');
  assert.ok(reputation.refused('user:1001'));
  // several at once: past max_calls, calls_per_minute and max_outbound_calls
  for (const n of ['112', '911', '999', '112']) {
    const d = call('1001', n, '203.0.113.9');
    assert.equal(d.ok, true, `${n}: ${d.verdict}`);
    assert.equal(d.verdict, 'pass:emergency');
  }
});

test('known fraud numbers are refused by prefix, even with international allowed', () => {
  const { call, fraudList } = setup({ '1001': makePolicy('extension', '1001', { permissions: ['international', 'premium'] }) });
  fraudList.add('88213');
  assert.equal(verdict(call('1001', '+88213000111')), 'refused:fraud-list:88213');
});

test('limits: one outbound call at a time unless allowed more; concurrent calls; calls per minute', () => {
  let now = 1_000_000;
  const { call } = setup(
    {
      '1001': makePolicy('extension', '1001'),
      '1002': makePolicy('extension', '1002', { maxOutboundCalls: 3, maxCalls: 2 }),
      '1003': makePolicy('extension', '1003', { callsPerMinute: 2, maxOutboundCalls: 5 }),
    },
    { clock: () => now },
  );
  const first = call('1001', '5551234');
  assert.ok(first.ok);
  assert.equal(verdict(call('1001', '5551235')), 'refused:max_outbound_calls:1');
  first.ticket.ended(0);
  assert.ok(call('1001', '5551235').ok, 'free again once the first ended');

  assert.ok(call('1002', '5551234').ok);
  assert.ok(call('1002', '5551234').ok);
  assert.equal(verdict(call('1002', '5551234')), 'refused:max_calls:2');

  const a = call('1003', '5551234');
  const b = call('1003', '5551234');
  assert.ok(a.ok && b.ok);
  a.ticket.ended(0);
  b.ticket.ended(0);
  assert.equal(verdict(call('1003', '5551234')), 'refused:calls_per_minute:2');
  now += 61_000;
  assert.ok(call('1003', '5551234').ok);
});

test('spend: 80% and 100% alerts, then rated calls refused; unrated calls still pass', () => {
  const { call, events } = setup({ '1001': makePolicy('extension', '1001', { dailySpendLimit: 1 }) }, { rates: { '5551': 0.5 } });
  const a = call('1001', '5551234');
  assert.ok(a.ok);
  a.ticket.ended(100); // 100 s at 0.5/min = 0.8333
  assert.deepEqual(
    events.map((e) => e.detail),
    ['daily_spend_limit:1:80%'],
  );
  const b = call('1001', '5551234');
  assert.ok(b.ok);
  b.ticket.ended(30);
  assert.equal(events.at(-1)?.detail, 'daily_spend_limit:1:100%');
  assert.equal(verdict(call('1001', '5551999')), 'refused:daily_spend_limit:1');
  assert.ok(call('1001', '4441234').ok, 'an unrated number is not a paid call');
});

test('a running call is cut when its projected spend reaches the limit', async () => {
  const { call } = setup({ '1001': makePolicy('extension', '1001', { dailySpendLimit: 0.01 }) }, { rates: { '5551': 3 } });
  const d = call('1001', '5551234');
  assert.ok(d.ok);
  const keepAlive = setTimeout(() => {}, 5000); // the gate's timer does not hold the process open
  const t0 = Date.now();
  const cut = await new Promise<string>((resolve) => d.ticket.answered(resolve)); // 0.01 / 3 per min = 200 ms
  clearTimeout(keepAlive);
  assert.equal(cut, 'spend-limit');
  assert.ok(Date.now() - t0 >= 150, 'not before the money runs out');
});

test('two gates (two nodes) share one spend limit: running calls split what is left, ended calls count on both, a gone node stops counting', async () => {
  const policy = () => ({ '1001': makePolicy('extension', '1001', { dailySpendLimit: 0.02, maxOutboundCalls: 10, maxCalls: 10 }) });
  const a = setup(policy(), { rates: { '5551': 3 } });
  const b = setup(policy(), { rates: { '5551': 3 } });
  const sent: Array<[string, SharedCallChange]> = [];
  // each gate's records reach the other, as the cluster carries them
  (a.gate as unknown as { d: { shared: (c: SharedCallChange) => void } }).d.shared = (c) => (sent.push(['a', c]), b.gate.applyShared(c));
  (b.gate as unknown as { d: { shared: (c: SharedCallChange) => void } }).d.shared = (c) => (sent.push(['b', c]), a.gate.applyShared(c));
  const keepAlive = setTimeout(() => {}, 5000);
  const da = a.call('1001', '5551234');
  const db = b.call('1001', '5551234');
  assert.ok(da.ok && db.ok);
  const t0 = Date.now();
  // 0.02 at 3 per minute is 400 ms for one call; two at once (one per node) use it up in 200 ms
  const cuts = await Promise.all([
    new Promise<number>((r) => da.ticket.answered(() => r(Date.now() - t0))),
    new Promise<number>((r) => db.ticket.answered(() => r(Date.now() - t0))),
  ]);
  clearTimeout(keepAlive);
  for (const ms of cuts) assert.ok(ms >= 150 && ms < 350, `cut after ${ms} ms: the two calls shared the limit`);
  da.ticket.ended(0);
  db.ticket.ended(0);
  assert.deepEqual(
    sent.filter(([, c]) => c.kind.startsWith('spend')).map(([n, c]) => `${n}:${c.kind}`),
    ['a:spend-open', 'b:spend-open', 'a:spend', 'b:spend'],
  );
  // both nodes hold the whole day's spend, and refuse the next priced call
  for (const g of [a, b]) {
    assert.ok(Math.abs(g.gate.spend.spent('ext:1001', Date.now()) - 0.02) < 0.003, String(g.gate.spend.spent('ext:1001', Date.now())));
    assert.equal(verdict(g.call('1001', '5551234')), 'refused:daily_spend_limit:0.02');
  }
  // a call another node had running when it died stops counting once the node is gone
  const c = setup(policy(), { rates: { '5551': 3 } });
  c.gate.applyShared({ kind: 'spend-open', call: 'x:1:1', node: 'x', principals: ['ext:1001'], perMinute: 3, t: Date.now() - 60_000 });
  assert.equal(verdict(c.call('1001', '5551234')), 'refused:daily_spend_limit:0.02');
  c.gate.applyShared({ kind: 'node-gone', node: 'x' });
  assert.ok(c.call('1001', '5551234').ok);
});

/** two gates (two nodes) whose records reach each other as the cluster carries them; `link.up` false holds them back (a broker outage) */
function twoNodes(policy: () => Record<string, PrincipalPolicy>, clock?: () => number) {
  const a = setup(policy(), { clock });
  const b = setup(policy(), { clock });
  const link = { up: true, held: [] as Array<() => void> };
  const carry = (to: CallGate) => (c: SharedCallChange) => {
    const deliver = () => to.applyShared(c);
    if (link.up) deliver();
    else link.held.push(deliver);
  };
  (a.gate as unknown as { d: { shared: (c: SharedCallChange) => void } }).d.shared = carry(b.gate);
  (b.gate as unknown as { d: { shared: (c: SharedCallChange) => void } }).d.shared = carry(a.gate);
  const reconnect = () => {
    link.up = true;
    for (const f of link.held.splice(0)) f();
  };
  return { a, b, link, reconnect };
}

test('two gates (two nodes) share max_calls: a call up on one refuses the next on the other until it ends; a gone node stops counting', () => {
  const { a, b } = twoNodes(() => ({
    '1001': makePolicy('extension', '1001', { maxCalls: 1, maxOutboundCalls: 5, callsPerMinute: 0 }),
    '1002': makePolicy('extension', '1002', { maxCalls: 0, maxOutboundCalls: 5, callsPerMinute: 0 }),
  }));
  const first = a.call('1001', '5551234');
  assert.ok(first.ok);
  assert.equal(b.gate.activeCalls('ext:1001'), 1, 'B counts the call up on A');
  assert.equal(verdict(b.call('1001', '5551234')), 'refused:max_calls:1');
  // the limit counts calls received too: a call to 1001 through B finds it busy
  const busy = b.call('1002', '1001');
  assert.ok(!busy.ok && busy.status === 486, busy.verdict);
  first.ticket.ended(3);
  assert.equal(b.gate.activeCalls('ext:1001'), 0);
  const second = b.call('1001', '5551234');
  assert.ok(second.ok, second.verdict);
  assert.equal(verdict(a.call('1001', '5551234')), 'refused:max_calls:1', 'and now A counts the call up on B');
  // B dies with its call up: once it is gone, A lets 1001 call again
  a.gate.applyShared({ kind: 'node-gone', node: '' });
  assert.ok(a.call('1001', '5551234').ok);
});

test('two gates (two nodes) share calls_per_minute; a node cut off enforces alone and catches up when it returns', () => {
  let now = Date.parse('2026-03-02T10:00:00Z');
  const { a, b, link, reconnect } = twoNodes(
    () => ({ '1001': makePolicy('extension', '1001', { callsPerMinute: 3, maxOutboundCalls: 100, maxCalls: 0 }) }),
    () => now,
  );
  const place = (g: typeof a) => {
    const d = g.call('1001', '5551234');
    if (d.ok) d.ticket.ended(0);
    return d;
  };
  assert.ok(place(a).ok);
  assert.ok(place(b).ok);
  assert.ok(place(a).ok);
  // three in this minute, two through A and one through B: the fourth is refused through either
  assert.equal(verdict(place(b)), 'refused:calls_per_minute:3');
  assert.equal(verdict(place(a)), 'refused:calls_per_minute:3');
  now += 61_000;
  // the broker is gone: each node still holds the limit with what it sees itself
  link.up = false;
  for (let i = 0; i < 3; i++) assert.ok(place(a).ok);
  assert.equal(verdict(place(a)), 'refused:calls_per_minute:3');
  assert.ok(place(b).ok, 'B does not know of A’s calls while cut off');
  // back: the held records arrive and B counts A's attempts of this minute
  reconnect();
  assert.equal(b.gate.others.attempts('ext:1001', now), 3);
  assert.equal(verdict(place(b)), 'refused:calls_per_minute:3');
  // a minute on, the old attempts no longer count anywhere
  now += 60_000;
  assert.equal(b.gate.others.attempts('ext:1001', now), 0);
  assert.ok(place(b).ok);
});

test('anomaly: after learning, a new destination is flagged (flag mode) or refused (block mode)', () => {
  for (const mode of ['flag', 'block'] as const) {
    const { call, events } = setup({ '1001': makePolicy('extension', '1001', { maxOutboundCalls: 100 }) }, { anomaly: { mode, minCalls: 3, hourShare: 0 } });
    for (let i = 0; i < 3; i++) call('1001', '5551234');
    assert.equal(events.length, 0);
    const d = call('1001', '5559876');
    assert.equal(events.at(-1)?.detail, 'anomaly:new-destination');
    assert.equal(d.ok, mode === 'flag');
  }
});

test('refusals count against the user: first negative 4 — and one more makes the user unable to call', () => {
  const { call, reputation } = setup({ '1001': makePolicy('extension', '1001'), '1002': makePolicy('extension', '1002') });
  call('1001', '0900123456');
  assert.equal(reputation.score('user:1001'), 4);
  assert.equal(verdict(call('1001', '1002')), 'refused:reputation:caller');
  assert.equal(verdict(call('1002', '1001')), 'refused:reputation:callee');
});

test("a trunk is a principal of its own: its classes, ACL, limits and spend apply on top of the extension's", () => {
  const trunk = makePolicy('trunk', 'provider-a', {
    permissions: ['local', 'national'],
    maxCalls: 1,
    maxOutboundCalls: 5,
    dailySpendLimit: 1,
    callFrom: Acl.permitOnly(['10.0.0.0/8', '198.51.100.10']),
  });
  const ext = makePolicy('extension', '1001', { permissions: ['national', 'international'], maxOutboundCalls: 5 });
  const { gate, call, reputation } = setup({ '1001': ext }, { trunks: { 'provider-a': trunk }, rates: { '0161': 1 } });
  for (let i = 0; i < 10; i++) reputation.book.good('user:1001'); // a long good record: refusals below do not shut it out
  const via = (dialled: string, address = '10.0.0.5', caller = '1001') =>
    gate.check({ caller, trunk: 'provider-a', dialled, remote: { address, port: 5060, transport: 'udp' }, callId: 'x' });
  assert.equal(verdict(via('0044207946000')), 'refused:class-not-permitted:international@trunk:provider-a', 'the extension may, the trunk may not');
  assert.equal(verdict(via('5551234')), 'refused:class-not-permitted:local', 'the trunk may, the extension may not');
  const first = via('02079460000');
  assert.equal(first.verdict, 'pass:national');
  assert.equal(verdict(via('02079460001')), 'refused:max_calls:1@trunk:provider-a');
  assert.ok(first.ok);
  first.ticket.ended(0);
  // an inbound trunk call (no calling extension) from an address the trunk does not come from
  assert.equal(verdict(via('1001', '203.0.113.1', '')), 'refused:call_from@trunk:provider-a');
  assert.equal(verdict(via('1001', '198.51.100.10', '')), 'pass:internal');
  // an unknown trunk: internal and emergency only
  const unknown = gate.check({ caller: '', trunk: 'nobody', dialled: '02079460000', remote: { address: '10.0.0.1', port: 5060, transport: 'udp' }, callId: 'y' });
  assert.equal(unknown.verdict, 'refused:class-not-permitted:national@trunk:nobody');
  assert.equal(call('1001', '112').verdict, 'pass:emergency');
});

test('a callee at its max_calls is busy (486, no event, no bad mark)', () => {
  const { call, events, reputation } = setup({
    '1001': makePolicy('extension', '1001'),
    '1002': makePolicy('extension', '1002'),
    '1003': makePolicy('extension', '1003', { maxCalls: 1 }),
  });
  assert.ok(call('1001', '1003').ok);
  const d = call('1002', '1003');
  assert.ok(!d.ok && d.status === 486 && d.reason === 'Busy Here');
  assert.equal(d.verdict, 'callee-max_calls:1');
  assert.equal(events.length, 0);
  assert.equal(reputation.score('user:1002'), 5);
});

test('a call the callee declined (603/607) is bad evidence for the caller', () => {
  const { call, reputation } = setup({ '1001': makePolicy('extension', '1001'), '1002': makePolicy('extension', '1002') });
  const d = call('1001', '1002');
  assert.ok(d.ok);
  d.ticket.ended(0, true);
  assert.equal(reputation.score('user:1001'), 4);
  const e = call('1002', '1001', '10.0.0.6');
  assert.equal(e.verdict, 'refused:reputation:callee');
});

test('a call in from a trunk (inbound) reaches a number we serve: internal whatever its digits; the trunk ACL and limits still apply', () => {
  const trunk = makePolicy('trunk', 'provider-a', { permissions: ['local'], maxCalls: 1, maxOutboundCalls: 100, callFrom: Acl.permitOnly(['198.51.100.10']) });
  const { gate } = setup({}, { trunks: { 'provider-a': trunk } });
  const inbound = (did: string, address = '198.51.100.10') =>
    gate.check({ caller: '', trunk: 'provider-a', dialled: did, remote: { address, port: 5060, transport: 'udp' }, callId: 'i', inbound: true });
  // a DID in E.164 form would classify as international; as an inbound call it is internal
  const first = inbound('4930123456');
  assert.equal(first.verdict, 'pass:internal');
  assert.equal(verdict(inbound('4930123457')), 'refused:max_calls:1@trunk:provider-a');
  assert.ok(first.ok);
  first.ticket.ended(0);
  assert.equal(verdict(inbound('4930123456', '203.0.113.1')), 'refused:call_from@trunk:provider-a');
  // the same digits dialled out are not internal
  assert.equal(
    verdict(gate.check({ caller: '', trunk: 'provider-a', dialled: '004930123456', remote: { address: '198.51.100.10', port: 5060, transport: 'udp' }, callId: 'o' })),
    'refused:class-not-permitted:international@trunk:provider-a',
  );
});
