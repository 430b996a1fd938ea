// The quality: section: defaults, decimals, and file:line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/config-error.js';
import { parseConfig } from '../../security/config/load-config.js';
import { ModuleHost } from '../../host/module-host.js';
import { qualityModule } from './quality-module.js';

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
  await h.start({ cfg, media: { setQuality: (t) => void (set = t) } });
  assert.deepEqual(set, { enabled: true, lossPctMax: 5, mosMin: 4.1, oneWayAfterS: 5 });
});
