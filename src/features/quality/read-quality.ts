// The `quality:` section: when a call's media counts as poor (loss or
// estimated MOS of a received stream) and how soon a silent party is
// reported as one-way audio. docs/media-quality.md defines the figures.
//
//   quality:
//     accounting: true        # per-packet statistics on the relay and channels
//     loss_pct_max: 5         # a received stream losing more than 5 % is poor
//     mos_min: 3.6            # ... or one whose estimated MOS is below 3.6
//     one_way_after: 5        # seconds after answer; 0 = no one-way check
import { isScalar } from 'yaml';
import { DEFAULT_QUALITY, type QualityThresholds } from '../../media/quality/call-quality.js';
import { describe, type MapReader } from '../../config/yaml-reader.js';

/** a decimal number within [min, max] (MapReader.int takes whole numbers only) */
function decimal(m: MapReader, key: string, def: number, min: number, max: number, unit: string): number {
  const n = m.node(key);
  if (n === undefined) return def;
  if (!isScalar(n) || typeof n.value !== 'number' || !Number.isFinite(n.value)) {
    m.error(key, `quality.${key} must be a number, found ${describe(n)}; expected ${min}..${max} ${unit}`);
    return def;
  }
  if (n.value < min || n.value > max) {
    m.error(key, `quality.${key} ${n.value} is out of range; expected ${min}..${max} ${unit}`);
    return def;
  }
  return n.value;
}

export function readQuality(m: MapReader): QualityThresholds {
  const enabled = m.bool('accounting', DEFAULT_QUALITY.enabled);
  const lossPctMax = decimal(m, 'loss_pct_max', DEFAULT_QUALITY.lossPctMax, 0, 100, 'percent');
  const mosMin = decimal(m, 'mos_min', DEFAULT_QUALITY.mosMin, 1, 4.5, '(estimated MOS, 1 to 4.5)');
  const oneWayAfterS = m.int('one_way_after', DEFAULT_QUALITY.oneWayAfterS, 0, 3600, 'seconds (0 = off)');
  m.done();
  return { enabled, lossPctMax, mosMin, oneWayAfterS };
}
