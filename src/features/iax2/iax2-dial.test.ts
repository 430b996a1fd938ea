import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialContext } from '../../channel/dial-technology.js';
import type { CallAttempt, GateDecision } from '../../core/call-gate.js';
import { iax2DialTechnology, type DialTrunk, type Iax2DialDeps } from './iax2-dial.js';

const ctx = (o: Partial<DialContext> = {}): DialContext => ({
  channelName: 'SIP/1001-1',
  channelId: 'c1',
  callerIdNum: '1001',
  callerIdName: 'Al',
  context: 'internal',
  peer: { transport: 'udp', address: '127.0.0.1', port: 5062, account: '1001' },
  timeoutMs: 0,
  vars: new Map(),
  ...o,
});

/** an IAX2 trunk "hq" and a gate that refuses everything it is asked: a call that reaches the gate ends CONGESTION, nothing is sent */
function rig() {
  const checks: CallAttempt[] = [];
  const warned: string[] = [];
  const hq: DialTrunk = { name: 'hq', username: 'office-a', secret: 'x', maxChannels: 0, active: 0, address: () => ({ address: '192.0.2.1', port: 4569 }) };
  const deps: Iax2DialDeps = {
    engine: {} as Iax2DialDeps['engine'],
    trunk: (n) => (n === 'hq' ? hq : undefined),
    peer: () => null,
    isPeer: () => false,
    gate: {
      check: (a: CallAttempt): GateDecision => {
        checks.push(a);
        return { ok: false, verdict: 'refused:test', reason: 'Forbidden' } as unknown as GateDecision;
      },
    } as unknown as Iax2DialDeps['gate'],
    log: { info() {}, debug() {}, error() {}, warn: (event: string) => warned.push(event) } as unknown as Iax2DialDeps['log'],
    isTrunkContext: (c) => c === 'from-trunk',
    routeAllowsTrunkCalls: (r) => r === 'transit',
  };
  return { tech: iax2DialTechnology(deps), checks, warned };
}

const fromTrunk = (vars: Record<string, string> = {}) =>
  ctx({ context: 'from-trunk', peer: { transport: 'udp', address: '198.51.100.7', port: 5060 }, vars: new Map(Object.entries(vars)) });

test('IAX2 trunks: no trunk-to-trunk call unless the outbound route that dials allows it; the trunk, not the extension, is the gate principal', async () => {
  const { tech, checks, warned } = rig();
  // a call that came in on a trunk: refused before the gate, nothing sent
  const refused = tech.dial({ tech: 'IAX2', resource: 'hq/2001' }, fromTrunk());
  assert.deepEqual(await refused?.result, { status: 'CHANUNAVAIL' });
  assert.deepEqual(warned, ['trunk-to-trunk-refused']);
  assert.equal(checks.length, 0);
  // a route that does not allow trunk calls changes nothing
  assert.deepEqual(await tech.dial({ tech: 'IAX2', resource: 'hq/2001' }, fromTrunk({ OUTBOUND_ROUTE: 'national' }))?.result, { status: 'CHANUNAVAIL' });
  assert.equal(checks.length, 0);
  // a route with allow_trunk_calls: on to the call gate
  assert.deepEqual(await tech.dial({ tech: 'IAX2', resource: 'hq/2001' }, fromTrunk({ OUTBOUND_ROUTE: 'transit' }))?.result, { status: 'CONGESTION' });
  assert.equal(checks.length, 1);
  // an extension's call: the gate sees the trunk as principal with no caller (the extension was checked when its call began)
  assert.deepEqual(await tech.dial({ tech: 'IAX2', resource: 'hq/2001' }, ctx())?.result, { status: 'CONGESTION' });
  assert.equal(checks.length, 2);
  assert.equal(checks[1]!.trunk, 'hq');
  assert.equal(checks[1]!.caller, '');
  assert.equal(checks[1]!.dialled, '2001');
});
