import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DialContext } from '../../channel/dial-technology.js';
import type { CallAttempt, GateDecision } from '../../core/call-gate.js';
import { parseTrunkTarget, ROUTE_VAR, sipTrunkTechnology, type TrunkTechnologyDeps } from './trunk-technology.js';
import type { TrunkConfig } from './trunk-config.js';
import type { OutboundRouteConfig } from './route-config.js';

const t = (name: string, o: Partial<TrunkConfig> = {}) => ({ name, type: 'sip', host: '192.0.2.1', port: 5060, maxChannels: 0, ...o }) as TrunkConfig;
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

function rig(gate: (a: CallAttempt) => GateDecision = () => ({ ok: true, verdict: 'pass', ticket: { answered() {}, ended() {} } })) {
  const inUse = new Map<string, number>();
  const checks: CallAttempt[] = [];
  const trunks = new Map([
    ['prov', t('prov', { maxChannels: 1 })],
    ['hq', t('hq', { type: 'iax2' })],
  ]);
  const routes = new Map<string, OutboundRouteConfig>([['transit', { name: 'transit', allowTrunkCalls: true } as OutboundRouteConfig]]);
  const deps = {
    legs: {} as TrunkTechnologyDeps['legs'],
    allocatePair: () => {
      throw new Error('no media in this test');
    },
    mediaAddress: '127.0.0.1',
    log: { info() {}, warn() {}, debug() {}, error() {} } as unknown as TrunkTechnologyDeps['log'],
    trunk: (n: string) => trunks.get(n),
    route: (n: string) => routes.get(n),
    isTrunkContext: (c: string) => c === 'from-trunk',
    moh: { load: () => [] },
    // the far end is never reached in this test: no targets
    targets: async () => ({ targets: [] }),
    callGate: {
      check: (a: CallAttempt) => {
        checks.push(a);
        return gate(a);
      },
    },
    claimChannel: (n: string) => {
      const c = inUse.get(n) ?? 0;
      if (c >= (trunks.get(n)?.maxChannels || Number.POSITIVE_INFINITY)) return false;
      inUse.set(n, c + 1);
      return true;
    },
    releaseChannel: (n: string) => void inUse.set(n, (inUse.get(n) ?? 1) - 1),
  } satisfies TrunkTechnologyDeps;
  return { tech: sipTrunkTechnology(deps), inUse, checks };
}

test('Dial() targets: PJSIP/number@trunk and SIP/trunk/number; what names no SIP trunk is not ours', () => {
  assert.deepEqual(parseTrunkTarget({ tech: 'PJSIP', resource: '2001@office-b' }), { trunk: 'office-b', number: '2001' });
  assert.deepEqual(parseTrunkTarget({ tech: 'SIP', resource: 'office-b/2001' }), { trunk: 'office-b', number: '2001' });
  assert.equal(parseTrunkTarget({ tech: 'SIP', resource: '1002' }), null);
  const { tech } = rig();
  assert.equal(tech.dial({ tech: 'PJSIP', resource: '2001@nobody' }, ctx()), null);
  assert.equal(tech.dial({ tech: 'SIP', resource: 'hq/2001' }, ctx()), null, 'an IAX2 trunk is the IAX2 technology’s');
});

test('per-trunk fraud rules: the call gate with the trunk as principal, max_channels (trunk full), no trunk-to-trunk unless a route allows it', async () => {
  const { tech, inUse, checks } = rig();
  // our extension's call: the gate is asked with the trunk as principal; the channel is counted until the attempt ends
  const a = tech.dial({ tech: 'PJSIP', resource: '0301234@prov' }, ctx())!;
  assert.deepEqual(checks[0], { caller: '', trunk: 'prov', dialled: '0301234', remote: ctx().peer, callId: 'c1' });
  assert.equal(inUse.get('prov'), 1);
  // a second call while the first holds the only channel: trunk full → CONGESTION (a route fails over)
  assert.deepEqual(await tech.dial({ tech: 'SIP', resource: 'prov/0301235' }, ctx())!.result, { status: 'CONGESTION' });
  assert.deepEqual(await a.result, { status: 'CHANUNAVAIL' }, 'no address for the host');
  assert.equal(inUse.get('prov'), 0, 'released');
  // a call that came in on a trunk: refused before the gate is even asked
  const n = checks.length;
  const fromTrunk = ctx({ context: 'from-trunk', peer: { transport: 'udp', address: '192.0.2.9', port: 5060 } });
  assert.deepEqual(await tech.dial({ tech: 'PJSIP', resource: '0900123@prov' }, fromTrunk)!.result, { status: 'CHANUNAVAIL' });
  assert.equal(checks.length, n);
  // ... unless the route that dials says so
  const viaTransit = ctx({ context: 'from-trunk', peer: fromTrunk.peer, vars: new Map([[ROUTE_VAR, 'transit']]) });
  await tech.dial({ tech: 'PJSIP', resource: '0301236@prov' }, viaTransit)!.result;
  assert.equal(checks.length, n + 1);
  // not a number: refused
  assert.deepEqual(await tech.dial({ tech: 'PJSIP', resource: 'evil;x=1@prov' }, ctx())!.result, { status: 'INVALIDARGS' });
});

test('a refusal of the call gate (e.g. international on a trunk without it) ends the attempt with CHANUNAVAIL and holds no channel', async () => {
  const { tech, inUse } = rig((a) => ({ ok: false, status: 403, reason: 'Forbidden', verdict: `refused:class-not-permitted:international@trunk:${a.trunk}` }));
  assert.deepEqual(await tech.dial({ tech: 'PJSIP', resource: '0044207946000@prov' }, ctx())!.result, { status: 'CHANUNAVAIL' });
  assert.equal(inUse.get('prov') ?? 0, 0);
});
