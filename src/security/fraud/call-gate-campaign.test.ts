// A campaign is a principal of its own at the call gate: only the classes
// its configuration names, its own calls at once and per minute, and a
// refusal is a FraudRuleHit like any other principal's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallGate } from './call-gate.js';
import { NumberPlan } from './number-plan.js';
import { RateTable } from './rate-table.js';
import { FraudList } from './fraud-list.js';
import { CallingProfiles, DEFAULT_ANOMALY } from './calling-profile.js';
import { makePolicy } from './principal.js';
import { ReputationService, DEFAULT_REPUTATION } from '../reputation/reputation-service.js';
import type { SecurityEvent } from '../../core/security-event.js';
import type { CampaignPrincipal } from '../../core/call-gate.js';

function setup(rates: Record<string, number> = {}) {
  const plan = new NumberPlan();
  const events: SecurityEvent[] = [];
  const gate = new CallGate({
    plan,
    rates: new RateTable(rates),
    fraudList: new FraudList(plan),
    reputation: new ReputationService(DEFAULT_REPUTATION),
    profiles: new CallingProfiles({ ...DEFAULT_ANOMALY }),
    policyOf: (n) => makePolicy('extension', n),
    isExtension: () => false,
    sink: { emit: (e) => events.push(e) },
  });
  const camp = (o: Partial<CampaignPrincipal> = {}): CampaignPrincipal => ({ name: 'spring', permissions: ['national'], maxCalls: 2, callsPerMinute: 0, dailySpendLimit: 0, ...o });
  const call = (dialled: string, c = camp()) =>
    gate.check({ caller: '', campaign: c, dialled, remote: { address: '127.0.0.1', port: 5060, transport: 'udp' }, callId: `x${Math.random()}` });
  return { gate, events, call, camp };
}

test('a campaign dials only the classes it names; emergency is never blocked', () => {
  const { call, events, camp } = setup();
  assert.equal(call('02079460000').verdict, 'pass:national');
  assert.equal(call('00442079460000').verdict, 'refused:class-not-permitted:international@campaign:spring');
  assert.equal(call('07700900123').verdict, 'refused:class-not-permitted:mobile@campaign:spring');
  assert.equal(call('07700900123', camp({ permissions: ['national', 'mobile'] })).ok, true);
  assert.equal(call('0900123456', camp({ permissions: ['national', 'mobile', 'international'] })).verdict, 'refused:class-not-permitted:premium@campaign:spring');
  assert.ok(
    events.some((e) => e.type === 'FraudRuleHit'),
    'a class refusal is reported',
  );
  const r = call('00442079460000');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.status, 403);
});

test("a campaign's own limits: calls at once and per minute", () => {
  const { call, camp } = setup();
  const a = call('02079460001');
  const b = call('02079460002');
  assert.ok(a.ok && b.ok);
  assert.equal(call('02079460003').verdict, 'refused:max_outbound_calls:2@campaign:spring');
  if (a.ok) a.ticket.ended(0);
  assert.equal(call('02079460004').ok, true, 'a slot came free');
  const rated = camp({ name: 'autumn', maxCalls: 0, callsPerMinute: 3 });
  for (let i = 0; i < 3; i++) {
    const d = call(`0207946010${i}`, rated);
    assert.ok(d.ok);
    if (d.ok) d.ticket.ended(0);
  }
  assert.equal(call('02079460200', rated).verdict, 'refused:calls_per_minute:3@campaign:autumn');
});

test('paid destinations need a daily spend limit', () => {
  const { call, camp } = setup({ '44': 0.02 });
  assert.equal(call('00442079460000', camp({ permissions: ['international'] })).verdict, 'refused:no-paid-calls@campaign:spring');
  assert.equal(call('00442079460000', camp({ permissions: ['international'], dailySpendLimit: 5 })).ok, true);
});
