// The quality: section: defaults, decimals, and file:line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './index.js';

const BASE = 'sip:\n  listen: [udp:127.0.0.1:5060]\n  domain: pbx.example.org\n';

test('quality: defaults loss > 5 %, MOS < 3.6, one-way after 5 s; decimals accepted', () => {
  assert.deepEqual(parseConfig(BASE, 'palisade.yaml').quality, { enabled: true, lossPctMax: 5, mosMin: 3.6, oneWayAfterS: 5 });
  const q = parseConfig(`${BASE}quality:\n  loss_pct_max: 2.5\n  mos_min: 4\n  one_way_after: 0\n  accounting: false\n`, 'palisade.yaml').quality;
  assert.deepEqual(q, { enabled: false, lossPctMax: 2.5, mosMin: 4, oneWayAfterS: 0 });
});

test('quality: bad values and unknown keys are reported with file:line', () => {
  try {
    parseConfig(`${BASE}quality:\n  mos_min: 7\n  loss_pct: 3\n`, 'palisade.yaml');
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = (err as Error).message;
    assert.match(text, /palisade\.yaml:5:\d+.*quality\.mos_min 7 is out of range/);
    assert.match(text, /palisade\.yaml:6:\d+.*unknown key quality\.loss_pct; did you mean loss_pct_max\?|palisade\.yaml:6:\d+.*unknown key quality\.loss_pct/);
  }
});
