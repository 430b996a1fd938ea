import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFreePort } from './baresip.js';

// Two phones get their ports before either binds them: the probe alone saw
// both spans free and once gave phones 30379 and 30380, which overlap.
test('findFreePort never hands out a port twice in one process, even before anything binds it', async () => {
  const min = 31500;
  // 12 spans of 2 in 60 ports: drawn at random alone, some would overlap
  // (about 3 pairs on average); each span placed blocks at most 3 of the 58
  // starting points, so a free one is always left to draw
  const max = 31560;
  const taken = new Set<number>();
  for (let i = 0; i < 12; i++) {
    const base = await findFreePort(2, min, max);
    assert.ok(base >= min && base + 1 < max, `${base} within [${min}, ${max})`);
    for (const p of [base, base + 1]) {
      assert.ok(!taken.has(p), `port ${p} handed out twice`);
      taken.add(p);
    }
  }
});
