// The quality: section: defaults, decimals, and file:line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/config-error.js';
import { parseConfig } from '../../security/config/load-config.js';
import { ModuleHost } from '../../host/module-host.js';
import { qualityModule } from './quality-module.js';
import { openDatabase } from '../../storage/database.js';
import type { StorageConfig } from '../../config/config-types.js';
import { createMetricsRegistry } from '../../observability/metrics.js';
import type { CdrInput } from '../../core/cdr.js';

const BASE = 'sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\n';
const sections = new ModuleHost([qualityModule()]).sections;
const parse = (text: string) => parseConfig(text, 'palisade.yaml', { sections });

test('quality: defaults loss > 5 %, MOS < 3.6, one-way after 5 s; decimals accepted', () => {
  assert.deepEqual(parse(BASE).sections.quality, { enabled: true, lossPctMax: 5, mosMin: 3.6, oneWayAfterS: 5 });
  const q = parse(`${BASE}quality:\n  loss_pct_max: 2.5\n  mos_min: 4\n  one_way_after: 0\n  accounting: false\n`).sections.quality;
  assert.deepEqual(q, { enabled: false, lossPctMax: 2.5, mosMin: 4, oneWayAfterS: 0 });
});

test('quality: bad values and unknown keys are reported with file:line', () => {
  try {
    parse(`${BASE}quality:\n  mos_min: 7\n  loss_pct: 3\n`);
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = (err as Error).message;
    assert.match(text, /palisade\.yaml:5:\d+.*quality\.mos_min 7 is out of range/);
    assert.match(text, /palisade\.yaml:6:\d+.*unknown key quality\.loss_pct; did you mean loss_pct_max\?|palisade\.yaml:6:\d+.*unknown key quality\.loss_pct/);
  }
});

test('quality: the module hands the thresholds to the media layer', async () => {
  const h = new ModuleHost([qualityModule()]);
  const cfg = parseConfig(`${BASE}quality:\n  mos_min: 4.1\n`, 'palisade.yaml', { sections: h.sections });
  let set: unknown;
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:', tablePrefix: '' } as StorageConfig);
  await db.migrate();
  await h.start({ cfg, media: { setQuality: (t) => void (set = t) }, storage: db });
  assert.deepEqual(set, { enabled: true, lossPctMax: 5, mosMin: 4.1, oneWayAfterS: 5 });
  await db.close();
});

test('quality: `cdr` lists the newest calls with loss, jitter and MOS per direction; `show-call` gives one call by uniqueid; filters and bad arguments', async () => {
  const h = new ModuleHost([qualityModule()]);
  const cfg = parseConfig(BASE, 'palisade.yaml', { sections: h.sections });
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:', tablePrefix: '' } as StorageConfig);
  await db.migrate();
  await h.start({ cfg, media: { setQuality: () => undefined }, storage: db });
  const leg = (lossPct: number, mos: number) => ({ packets: 500, lost: Math.round(lossPct * 5), lossPct, jitterMeanMs: 1.25, jitterMaxMs: 4.5, maxDeltaMs: 31, mos });
  await db.cdr.insert({
    src: '1001',
    dst: '1002',
    disposition: 'ANSWERED',
    uniqueid: '1700000000.1',
    start: 1_700_000_000_000,
    end: 1_700_000_010_000,
    billsec: 10,
    quality: { a: leg(0, 4.4), b: leg(0, 4.4), flags: [] },
  });
  await db.cdr.insert({
    src: '1001',
    dst: '1003',
    disposition: 'ANSWERED',
    uniqueid: '1700000100.2',
    start: 1_700_000_100_000,
    end: 1_700_000_120_000,
    billsec: 20,
    quality: { a: leg(8, 3.1), b: null, flags: ['poor-a', 'one-way-b'] },
  });
  await db.cdr.insert({ src: '1004', dst: '1001', disposition: 'BUSY', uniqueid: '1700000200.3', start: 1_700_000_200_000, end: 1_700_000_201_000 });
  const all = (await h.commands.run('cdr', {})) as Array<Record<string, unknown>>;
  assert.deepEqual(
    all.map((r) => r.uniqueid),
    ['1700000200.3', '1700000100.2', '1700000000.1'],
    'newest first',
  );
  assert.deepEqual([all[1]!.loss_a, all[1]!.loss_b, all[1]!.jitter_a, all[1]!.mos_a, all[1]!.flags], ['8 %', '-', '1.25 ms', '3.1', 'poor-a,one-way-b']);
  assert.equal(all[0]!.loss_a, '-', 'a call without media has no figures');
  const flagged = (await h.commands.run('cdr', { flagged: true })) as Array<Record<string, unknown>>;
  assert.deepEqual(
    flagged.map((r) => r.uniqueid),
    ['1700000100.2'],
  );
  const busy = (await h.commands.run('cdr', { disposition: 'busy', limit: '5' })) as Array<Record<string, unknown>>;
  assert.deepEqual(
    busy.map((r) => r.src),
    ['1004'],
  );
  const one = (await h.commands.run('show-call', { arg: '1700000100.2' })) as { call: Record<string, unknown>; media: Array<Record<string, unknown>> };
  assert.equal(one.call.dst, '1003');
  assert.equal(one.call.quality_flags, 'poor-a,one-way-b');
  assert.deepEqual(
    one.media.map((m) => [m.stream, m.packets, m.lost, m.loss, m.jitter_max, m.max_delta, m.mos]),
    [['a (from the caller)', 500, 40, '8 %', '4.5 ms', '31 ms', '3.1']],
  );
  await assert.rejects(async () => h.commands.run('show-call', { arg: 'nope' }), /no call record nope/);
  await assert.rejects(async () => h.commands.run('cdr', { limit: 0 }), /limit: a whole number/);
  await assert.rejects(async () => h.commands.run('cdr', { disposition: 'HAPPY' }), /disposition: one of/);
  await db.close();
});

test('quality: every call record with media adds its loss, jitter and MOS per direction to Prometheus histograms, and its flags to a counter', async () => {
  const h = new ModuleHost([qualityModule()]);
  const cfg = parseConfig(BASE, 'palisade.yaml', { sections: h.sections });
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:', tablePrefix: '' } as StorageConfig);
  await db.migrate();
  const metrics = createMetricsRegistry();
  const watchers: Array<(rec: CdrInput) => void> = [];
  await h.start({ cfg, media: { setQuality: () => undefined }, storage: db, metrics, onCdr: (fn) => (watchers.push(fn), () => undefined) });
  assert.equal(watchers.length, 1, 'the module watches the call records');
  const leg = (lossPct: number, jitterMeanMs: number, mos: number) => ({ packets: 500, lost: 0, lossPct, jitterMeanMs, jitterMaxMs: 9, maxDeltaMs: 40, mos });
  const rec = (quality: CdrInput['quality']): CdrInput => ({ src: '1', dst: '2', disposition: 'ANSWERED', uniqueid: 'u', start: 0, end: 1, quality });
  watchers[0]!(rec({ a: leg(0, 1.5, 4.4), b: leg(8, 25, 3.1), flags: ['poor-b'] }));
  watchers[0]!(rec({ a: leg(0.2, 0.5, 4.39), b: null, flags: ['one-way-b'] }));
  watchers[0]!(rec(null));
  const text = await metrics.metrics();
  assert.match(text, /^palisade_call_mos_count\{leg="a"\} 2$/m);
  assert.match(text, /^palisade_call_mos_count\{leg="b"\} 1$/m);
  assert.match(text, /^palisade_call_mos_bucket\{le="3.5",leg="b"\} 1$/m);
  assert.match(text, /^palisade_call_mos_bucket\{le="4.2",leg="a"\} 0$/m);
  assert.match(text, /^palisade_call_rtp_loss_percent_bucket\{le="10",leg="b"\} 1$/m);
  assert.match(text, /^palisade_call_rtp_loss_percent_bucket\{le="5",leg="b"\} 0$/m);
  assert.match(text, /^palisade_call_rtp_jitter_ms_sum\{leg="a"\} 2$/m);
  assert.match(text, /^palisade_call_quality_flags_total\{flag="poor-b"\} 1$/m);
  assert.match(text, /^palisade_call_quality_flags_total\{flag="one-way-b"\} 1$/m);
  await h.stop();
  await db.close();
});
