import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeSpec, type TimeSpec } from '../../dialplan/time-spec.js';
import { parseDestination, presentedCallerId, rewriteNumber, RouteTable } from './route-table.js';
import type { OutboundRouteConfig, RoutesConfig } from './route-config.js';
import type { TrunkConfig } from './trunk-config.js';
import { FakeClock } from '../../../test/support/fake-clock.js';

const trunk = (name: string, o: Partial<TrunkConfig> = {}): TrunkConfig => ({
  name,
  type: 'sip',
  host: '192.0.2.1',
  port: 5060,
  portGiven: false,
  transport: 'udp',
  username: null,
  secret: null,
  register: false,
  expiry: 3600,
  retryInterval: 30,
  allowFrom: [],
  authInbound: false,
  context: 'from-trunk',
  maxChannels: 0,
  callerIdNumber: null,
  callerIdName: null,
  fromUser: null,
  fromDomain: null,
  sendPai: false,
  privacy: 'none',
  callPermissions: null,
  dailySpendLimit: null,
  ...o,
});
const route = (name: string, match: string[], o: Partial<OutboundRouteConfig> = {}): OutboundRouteConfig => ({
  name,
  match,
  trunks: ['a'],
  strip: 0,
  prepend: '',
  pin: null,
  callerIdNumber: null,
  callerIdName: null,
  privacy: null,
  contexts: [],
  allowTrunkCalls: false,
  timeout: 60,
  ...o,
});
const spec = (t: string): TimeSpec => parseTimeSpec(t) as TimeSpec;

test('outbound: first matching route in order, Asterisk patterns, strip then prepend, contexts, never a trunk call by default', () => {
  const routes: RoutesConfig = {
    outbound: [
      route('emergency', ['112', '110']),
      route('office-b', ['_2XXX']),
      route('intl', ['_00.'], { contexts: ['managers'] }),
      route('national', ['_0[1-9].'], { strip: 1, prepend: '0049' }),
      route('transit', ['_9X.'], { strip: 1, allowTrunkCalls: true }),
    ],
    inbound: [],
    timeConditions: [],
  };
  const t = new RouteTable(routes, [trunk('a'), trunk('b', { context: 'from-provider' })]);
  assert.deepEqual(t.outbound('internal', '2001'), { route: routes.outbound[1], number: '2001' });
  assert.equal(t.outbound('internal', '20011'), null, '_2XXX is exactly four digits');
  assert.equal(t.outbound('internal', '112')?.route.name, 'emergency');
  assert.equal(t.outbound('internal', '0301234567')?.number, '0049301234567');
  assert.equal(t.outbound('internal', '0044207946000'), null, 'intl only for the managers context; national needs [1-9] after 0');
  assert.equal(t.outbound('managers', '0044207946000')?.route.name, 'intl');
  // a call that came in on a trunk (its context) only leaves by a route that allows it
  assert.equal(t.outbound('from-trunk', '2001'), null);
  assert.equal(t.outbound('from-provider', '0301234567'), null);
  assert.deepEqual(t.outbound('from-provider', '9123'), { route: routes.outbound[4], number: '123' });
  assert.equal(rewriteNumber('12', 5, '9'), '9', 'strip beyond the number leaves nothing of it');
});

test('inbound: DID and caller-ID patterns, trunk filter, destinations, time condition with holidays (fake clock)', () => {
  const clock = new FakeClock(Date.parse('2026-12-04T10:00:00Z')); // Friday
  const routes: RoutesConfig = {
    outbound: [],
    inbound: [
      { did: '_4930123456', cid: '_0900.', trunk: '', to: 'voicemail:1001', timeCondition: null, else: null },
      { did: '_4930123456', cid: '', trunk: 'b', to: 'ivr,s,1', timeCondition: 'office', else: 'voicemail:1001' },
      { did: '_2XXX', cid: '', trunk: '', to: '${EXTEN}', timeCondition: null, else: null },
    ],
    timeConditions: [{ name: 'office', times: [spec('09:00-17:00,mon-fri,*,*,UTC')], holidays: ['2026-12-24', '2026-12-25'] }],
  };
  const t = new RouteTable(routes, [trunk('a'), trunk('b')], () => clock.now());
  assert.equal(t.inbound('b', '4930123456', '09001234'), routes.inbound[0], 'premium callers go to voicemail');
  assert.equal(t.inbound('a', '4930123456', '0301111'), null, 'the office route is only for trunk b');
  const r = t.inbound('b', '4930123456', '0301111')!;
  assert.deepEqual(t.destination(r, '4930123456'), { kind: 'dialplan', context: 'ivr', exten: 's', priority: '1' });
  clock.advance(8 * 3600_000); // 18:00
  assert.deepEqual(t.destination(r, '4930123456'), { kind: 'voicemail', mailbox: '1001' }, 'after hours');
  clock.advance(19 * 86400_000 + 16 * 3600_000); // Thursday 24 December, 10:00: a holiday
  assert.equal(t.timeConditionNow('office'), false);
  assert.deepEqual(t.destination(r, '4930123456'), { kind: 'voicemail', mailbox: '1001' });
  assert.deepEqual(t.destination(t.inbound('a', '2001', '')!, '2001'), { kind: 'extension', number: '2001' });
  assert.equal(t.inbound(null, '2001', ''), routes.inbound[2], 'null: any trunk');
  assert.deepEqual(parseDestination('voicemail:${EXTEN}', '2002'), { kind: 'voicemail', mailbox: '2002' });
});

test('caller ID: the trunk wins over the route, the route over the caller; privacy from either', () => {
  const plain = trunk('a');
  assert.deepEqual(presentedCallerId(plain, null, { number: '1001', name: 'Al' }), { number: '1001', name: 'Al', hide: false, pai: false });
  const r = route('r', ['_X.'], { callerIdNumber: '4930100', callerIdName: 'Office', privacy: 'id' });
  assert.deepEqual(presentedCallerId(plain, r, { number: '1001', name: 'Al' }), { number: '4930100', name: 'Office', hide: true, pai: false });
  const t = trunk('b', { callerIdNumber: '4940999', sendPai: true });
  assert.deepEqual(presentedCallerId(t, r, { number: '1001', name: 'Al' }), { number: '4940999', name: 'Office', hide: true, pai: true });
});
