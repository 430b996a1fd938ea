// The office: section's parking and pickup keys (defaults, file:line
// errors) and which ringing calls a pickup may take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/config-error.js';
import { parseConfig } from '../../security/config/load-config.js';
import { ModuleHost } from '../../host/module-host.js';
import { officeModule } from './office-module.js';
import { OFFICE_DEFAULTS, ParkPickup, type OfficeConfig } from './park-pickup.js';
import { WorkerBus } from '../../core/worker-bus.js';
import { ChannelFeatures } from '../../channel/channel-features.js';
import type { MediaServiceDeps } from '../../channel/endpoint-media.js';
import { Pickup } from './pickup.js';
import { PARKING_DEFAULTS, ParkingLot } from './parking.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { BridgedCall, RingingCall } from '../../channel/channel-features.js';
import type { MediaEndpoint } from '../../media/media-endpoint.js';
import { FEATURE_DEFAULTS, FeatureCodes } from './feature-codes.js';
import type { Channel } from '../../channel/channel.js';
import type { Logger } from '../../observability/logger.js';

const BASE = 'sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\n';
const sections = new ModuleHost([officeModule()]).sections;
const parse = (text: string) => parseConfig(text, 'palisade.yaml', { sections }).sections.office as OfficeConfig | undefined;

function errors(text: string): string {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return (err as Error).message;
  }
  assert.fail('accepted');
}

test('office: parking and pickup read with Asterisk names; defaults 700, 701-720, 45 s, *8, **', () => {
  const c = parse(
    `${BASE}office:\n  parking:\n    parkext: 800\n    parkpos: 801-805\n    parkingtime: 60\n    comebacktoorigin: false\n  pickup:\n    pickupexten: "*88"\n    groups:\n      sales: [1001, "1002"]\n`,
  )!;
  assert.deepEqual(
    { ...c.parking },
    { enabled: true, parkext: '800', first: 801, last: 805, parkingtime: 60, comebackdialtime: 30, comebacktoorigin: false, parkedmusicclass: 'default' },
  );
  assert.equal(c.pickup.pickupexten, '*88');
  assert.equal(c.pickup.directedPrefix, '**');
  assert.deepEqual([...c.pickup.groups], [['sales', ['1001', '1002']]]);
  const d = parse(`${BASE}office:\n  parking: {}\n`)!;
  assert.equal(d.parking.parkext, '700');
  assert.equal(d.parking.first, 701);
  assert.equal(d.parking.last, 720);
  assert.equal(d.parking.parkingtime, 45);
  assert.equal(d.pickup.pickupexten, '*8');
});

test('office: a bad slot range, a park extension among the slots, a bad member and a misspelt key are reported with file:line', () => {
  const text = errors(`${BASE}office:\n  parking:\n    parkext: 705\n    parkpos: 701-720\n    parkingtim: 30\n  pickup:\n    groups:\n      sales: [1001, abc]\n`);
  assert.match(text, /palisade\.yaml:6:\d+.*parkext 705 is one of the slots 701-720/);
  assert.match(text, /palisade\.yaml:8:\d+.*unknown key office\.parking\.parkingtim; did you mean parkingtime\?/);
  assert.match(text, /palisade\.yaml:11:\d+.*office\.pickup\.groups\.sales: "abc" is not an extension number/);
  assert.match(errors(`${BASE}office:\n  parking:\n    parkpos: 720-701\n`), /palisade\.yaml:6:\d+.*parkpos "720-701" is not valid/);
  assert.match(errors(`${BASE}office:\n  parking:\n    parkingtime: 0\n`), /parkingtime 0 is out of range; expected 1\.\.3600 seconds/);
});

const log = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

function ringing(caller: string, extensions: string[], since: number, seen: string[]): RingingCall {
  return {
    channel: { name: `SIP/${caller}`, peer: { account: caller } } as unknown as Channel,
    extensions,
    since,
    pickup: async () => {
      seen.push(`${caller}->${extensions.join('&')}`);
      return true;
    },
  };
}

test('pickup: *8 takes the longest ringing call of a group member, never one of its own; **EXT takes that extension whatever the group', async () => {
  const seen: string[] = [];
  const calls = [ringing('1001', ['1005'], 1, seen), ringing('1001', ['1002'], 3, seen), ringing('1004', ['1003'], 2, seen), ringing('1003', ['1002'], 0, seen)];
  const features = { ringingNow: (ext?: string) => calls.filter((c) => ext === undefined || c.extensions.includes(ext)).sort((a, b) => a.since - b.since) };
  const p = new Pickup({ pickupexten: '*8', directedPrefix: '**', directedNeedsGroup: false, groups: new Map([['sales', ['1002', '1003']]]) }, features, log);
  const me = { name: 'SIP/1003-1', answered: true } as unknown as Channel;
  // 1003's own call to 1002 (since 0) is not its to take; 1004 → 1003 rings 1003 itself; 1001 → 1002 is the one
  assert.deepEqual(
    p.candidates('1003').map((c) => c.channel.name),
    ['SIP/1001'],
  );
  assert.equal(await p.pickup(me, '1003'), true);
  assert.deepEqual(seen, ['1001->1002']);
  // 1006 is in no group: *8 finds nothing, **1005 finds the call ringing 1005
  assert.equal(await p.pickup(me, '1006'), false);
  assert.equal(p.directedTarget('**1005'), '1005');
  assert.equal(p.directedTarget('**'), '');
  assert.equal(await p.pickup(me, '1006', '1005'), true);
  assert.deepEqual(seen, ['1001->1002', '1001->1005']);
  // directed_needs_group: no shared group, nothing
  const strict = new Pickup({ ...p.config, directedNeedsGroup: true }, features, log);
  assert.equal(strict.candidates('1006', '1005').length, 0);
});

test('several workers: a pickup code goes to the worker where a call it may take rings, only when none rings here', () => {
  const seen: string[] = [];
  const local: RingingCall[] = [];
  const features = { ringingNow: (ext?: string) => local.filter((c) => ext === undefined || c.extensions.includes(ext)) };
  const p = new Pickup({ pickupexten: '*8', directedPrefix: '**', directedNeedsGroup: false, groups: new Map([['sales', ['1002', '1003']]]) }, features, log);
  const elsewhere = [
    { worker: 2, event: { fromExtension: '1003' }, rung: ['1002'] },
    { worker: 1, event: { fromExtension: '1001' }, rung: ['1005'] },
    { worker: 3, event: { fromExtension: '1001' }, rung: ['1002'] },
  ];
  // 1003's own call (worker 2) is not its to take; 1001 -> 1002 rings in worker 3
  assert.equal(
    p.workerFor('*8', '1003', () => elsewhere),
    3,
  );
  // directed: the call ringing 1005, whatever the group
  assert.equal(
    p.workerFor('**1005', '1006', () => elsewhere),
    1,
  );
  // in no group: *8 has nothing to take anywhere; not a pickup code: never steered
  assert.equal(
    p.workerFor('*8', '1006', () => elsewhere),
    -1,
  );
  assert.equal(
    p.workerFor('1002', '1003', () => elsewhere),
    -1,
  );
  assert.equal(
    p.workerFor('**', '1003', () => elsewhere),
    -1,
  );
  // a call it may take rings here: this worker answers, whatever rings elsewhere
  local.push(ringing('1001', ['1002'], 1, seen));
  assert.equal(
    p.workerFor('*8', '1003', () => elsewhere),
    -1,
  );
});

test('several workers: a park slot another worker holds is not free here', () => {
  const held = new Set(['701', '702']);
  const changes: string[] = [];
  const lot = new ParkingLot(
    { ...PARKING_DEFAULTS, first: 701, last: 703 },
    {
      prompts: { load: () => new Int16Array(0) },
      mediaFor: () => ({}) as never,
      log,
      heldElsewhere: (slot) => held.has(slot),
      changed: (slot, on) => changes.push(`${slot}:${on}`),
    },
  );
  let hang: () => void = () => undefined;
  const ended = new Promise<void>((r) => (hang = r));
  const channel = { name: 'SIP/1001-1', hungUp: false, callerIdNum: '1001', vars: new Map(), ended, hangup: async () => hang() } as unknown as Channel;
  const media = { musicOnHold: async () => undefined } as unknown as ChannelMedia;
  const r = lot.park(channel, media, '1002');
  assert.equal(r?.slot, '703', 'the first slot free in every worker');
  assert.deepEqual(lot.held(), ['703']);
  assert.equal(lot.holds('703'), true);
  held.add('703');
  lot.stop();
  assert.deepEqual(changes, ['703:true', '703:false'], 'the other workers hear the slot taken and freed');
  held.delete('701');
  const other = {
    name: 'SIP/1004-1',
    hungUp: false,
    callerIdNum: '1004',
    vars: new Map(),
    ended: new Promise(() => undefined),
    hangup: async () => undefined,
  } as unknown as Channel;
  assert.equal(lot.park(other, media, null)?.slot, '701');
  lot.stop();
});

test("pickup by Replaces: the early dialog must match call-id, to-tag (the stand-in) and from-tag (the phone); the codes' rules decide; refused and unknown alike give null", async () => {
  const seen: string[] = [];
  const call = {
    ...ringing('1001', ['1002', '1005'], 1, seen),
    early: () => [
      { extension: '1002', callId: 'leg-a@pbx', phoneTag: 'ph2', pickupTag: 'st2' },
      { extension: '1005', callId: 'leg-b@pbx', phoneTag: 'ph5', pickupTag: 'st5' },
    ],
  };
  const features = { ringingNow: () => [call] };
  const p = new Pickup({ pickupexten: '*8', directedPrefix: '**', directedNeedsGroup: true, groups: new Map([['sales', ['1002', '1003']]]) }, features, log);
  const me = { name: 'SIP/1003-1', answered: false, answer: async () => void seen.push('answered') } as unknown as Channel;
  // the tags as the Replaces of a phone names them: to-tag = what the lamp showed as remote-tag, from-tag = its local-tag
  assert.equal(p.byReplaces('1003', { callId: 'leg-a@pbx', toTag: 'ph2', fromTag: 'st2' }), null, 'tags the wrong way round name nothing');
  assert.equal(p.byReplaces('1003', { callId: 'leg-a@pbx', toTag: 'st2', fromTag: 'nope' }), null, 'another phone tag names nothing');
  assert.equal(p.byReplaces('1003', { callId: 'leg-b@pbx', toTag: 'st5', fromTag: 'ph5' }), null, '1005 shares no group with 1003 (directed_needs_group)');
  assert.equal(p.byReplaces('1006', { callId: 'leg-a@pbx', toTag: 'st2', fromTag: 'ph2' }), null, '1006 is in no group');
  assert.equal(p.byReplaces('1001', { callId: 'leg-a@pbx', toTag: 'st2', fromTag: 'ph2' }), null, "never one's own call");
  const found = p.byReplaces('1003', { callId: 'leg-a@pbx', toTag: 'st2', fromTag: 'ph2' });
  assert.ok(found);
  assert.equal(found.callerIdNum, call.channel.callerIdNum);
  assert.equal(await found.take(me), true);
  assert.deepEqual(seen, ['answered', '1001->1002&1005']);
  // without directed_needs_group, **EXT would take any call: so may a lamp
  const open = new Pickup({ ...p.config, directedNeedsGroup: false }, features, log);
  assert.ok(open.byReplaces('1006', { callId: 'leg-b@pbx', toTag: 'st5', fromTag: 'ph5' }));
  // pickup turned off (no codes): nothing
  const off = new Pickup({ ...p.config, pickupexten: '', directedPrefix: '' }, features, log);
  assert.equal(off.byReplaces('1003', { callId: 'leg-a@pbx', toTag: 'st2', fromTag: 'ph2' }), null);
});

test('office.features: defaults ## and *2 with the Dial t option; overlapping codes are refused with file:line', () => {
  const d = parse(`${BASE}office: {}\n`)!;
  assert.deepEqual(d.features, { blindxfer: '##', atxfer: '*2', transferdigittimeout: 3, featuredigittimeout: 1000, requireDialOption: true });
  const c = parse(`${BASE}office:\n  features:\n    blindxfer: "#1"\n    atxfer: ""\n    require_dial_option: false\n`)!;
  assert.equal(c.features.blindxfer, '#1');
  assert.equal(c.features.atxfer, '');
  assert.equal(c.features.requireDialOption, false);
  assert.match(errors(`${BASE}office:\n  features:\n    blindxfer: "*2"\n    atxfer: "2"\n`), /palisade\.yaml:7:\d+.*atxfer "2" and blindxfer "\*2" overlap/);
  assert.match(errors(`${BASE}office:\n  features:\n    blindxfer: "#a"\n`), /palisade\.yaml:6:\d+.*blindxfer "#a" is not valid; expected a code of keypad digits/);
});

/** a Dial() bridge in memory: the far party's keypad, and what the feature codes asked of it */
function fakeBridge(options: string) {
  const taps = new Set<(d: string) => void>();
  const did: string[] = [];
  let end!: () => void;
  const b: BridgedCall = {
    channel: { name: 'SIP/1001-1' } as unknown as Channel,
    options,
    far: {
      number: '1002',
      endpoint: {
        codec: 'PCMU',
        source: null,
        echo: false,
        tapReceived: () => () => undefined,
        tapSent: () => () => undefined,
        tapDigits: (fn: (d: string) => void) => {
          taps.add(fn);
          return () => taps.delete(fn);
        },
        sendDigits: () => true,
      } as unknown as MediaEndpoint,
    },
    ended: new Promise<void>((r) => (end = r)),
    hold: () => did.push('hold'),
    resume: () => did.push('resume'),
    transfer: async (target) => {
      did.push(`transfer ${target}`);
      return target === '1003' ? 'SUCCESS' : 'FAILURE';
    },
    consult: async (target) => {
      did.push(`consult ${target}`);
      return null;
    },
  };
  const key = async (digits: string) => {
    for (const d of digits) {
      for (const t of [...taps]) t(d);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { b, did, key, end: () => end() };
}

test('feature codes: ## then the number and # transfers blind; *2 consults; nothing without the t option or with a pause inside the code', async () => {
  const codes = new FeatureCodes(
    { ...FEATURE_DEFAULTS, transferdigittimeout: 1, featuredigittimeout: 300 },
    {
      // no prompt here: nothing pulls frames from a fake endpoint, so "invalid" is skipped
      prompts: {
        load: () => {
          throw new Error('no prompts');
        },
      },
      log,
    },
  );
  const t = fakeBridge('t');
  codes.attach(t.b);
  await t.key('5##');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(t.did, ['hold']);
  await t.key('1003#');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(t.did, ['hold', 'transfer 1003']);
  // a failed number: back with the caller
  await t.key('##1009#');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(t.did.slice(2), ['hold', 'transfer 1009', 'resume']);
  await t.key('*21004#');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(t.did.slice(5), ['hold', 'consult 1004', 'resume']);
  t.end();
  // without t: the keys are ordinary DTMF
  const n = fakeBridge('');
  codes.attach(n.b);
  await n.key('##1003#');
  assert.deepEqual(n.did, []);
  // a pause longer than featuredigittimeout between the two #
  const p = fakeBridge('t');
  codes.attach(p.b);
  await p.key('#');
  await new Promise((r) => setTimeout(r, 400));
  await p.key('#');
  assert.deepEqual(p.did, []);
  p.end();
});

test('several workers: two parks crossing on the bus at the same moment end in two slots, and each caller hears its final slot', async () => {
  // two workers' buses, wired as the link wires them: a message reaches the other worker a little later
  const buses = [new WorkerBus(0, 2), new WorkerBus(1, 2)];
  for (const [i, b] of buses.entries()) {
    const other = buses[1 - i]!;
    b.attach({ publish: (topic, body) => void setTimeout(() => other.deliver(topic, JSON.parse(JSON.stringify(body)), i), 2) });
  }
  const moved: unknown[] = [];
  const workerLog = { ...log, info: (event: string, f: unknown) => void (event === 'park-slot-moved' && moved.push(f)) } as unknown as Logger;
  const lots = buses.map(
    (bus) =>
      new ParkPickup(
        OFFICE_DEFAULTS,
        {
          callRouters: { add: () => () => undefined },
          channelFeatures: new ChannelFeatures(),
          mediaServices: { prompts: { load: () => new Int16Array(0) } } as unknown as MediaServiceDeps,
          extensions: { has: () => true },
          workers: bus,
          callEvents: { remoteRinging: () => [] },
        },
        workerLog,
      ),
  );
  const said: string[][] = [[], []];
  const park = (w: number, n: number) => {
    const channel = {
      name: `SIP/10${w}${n}-1`,
      hungUp: false,
      callerIdNum: `10${w}${n}`,
      vars: new Map(),
      ended: new Promise(() => undefined),
      hangup: async () => undefined,
    } as unknown as Channel;
    const media = { musicOnHold: async () => undefined } as unknown as ChannelMedia;
    const r = lots[w]!.lot.park(channel, media, null, async (slot) => void said[w]!.push(slot));
    assert.ok(r);
    return { r, channel };
  };
  // both take 701 before either hears of the other's
  const a = park(0, 1);
  const b = park(1, 1);
  assert.equal(a.r.slot, '701');
  assert.equal(b.r.slot, '701', 'the race: each worker thought 701 free');
  const [sa, sb] = await Promise.all([a.r.settled, b.r.settled]);
  assert.notEqual(sa, sb, 'two calls, two slots');
  assert.deepEqual([sa, sb].sort(), ['701', '702']);
  assert.equal(moved.length, 1, `one of the two moved, once: ${JSON.stringify(moved)}`);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(said, [[sa], [sb]], 'each caller heard its final slot, and only it');
  assert.equal(a.channel.vars.get('PARKINGSLOT'), sa);
  assert.equal(b.channel.vars.get('PARKINGSLOT'), sb);
  assert.deepEqual([lots[0]!.lot.held(), lots[1]!.lot.held()], [[sa], [sb]]);
  // a third park in worker 0, now that both claims are known everywhere: the next free slot, no move
  const c = park(0, 2);
  assert.equal(await c.r.settled, '703');
  assert.equal(moved.length, 1);
  for (const l of lots) l.lot.stop();
});
