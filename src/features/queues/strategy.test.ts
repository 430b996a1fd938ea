// The strategies pick as app_queue.c calc_metric() and ring_one() do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickMembers, type Candidate, type PickContext } from './strategy.js';

const m = (pos: number, o: Partial<Candidate> = {}): Candidate & { id: string } => ({ id: `m${pos}`, pos, penalty: 0, calls: 0, lastCallMs: 0, ...o });
const ctx = (o: Partial<PickContext>): PickContext => ({
  strategy: 'ringall',
  memberCount: 4,
  penaltymemberslimit: 0,
  minPenalty: null,
  maxPenalty: null,
  nextPos: 0,
  nowMs: 1_000_000,
  random: Math.random,
  ...o,
});
const ids = (c: Array<{ id: string }>) => c.map((x) => x.id);

test('ringall rings everyone of the lowest penalty; penalties are ignored up to penaltymemberslimit members', () => {
  const c = [m(0), m(1, { penalty: 1 }), m(2), m(3, { penalty: 1 })];
  assert.deepEqual(ids(pickMembers(c, ctx({}))), ['m0', 'm2']);
  assert.deepEqual(ids(pickMembers(c, ctx({ penaltymemberslimit: 4 }))), ['m0', 'm1', 'm2', 'm3']);
  assert.deepEqual(ids(pickMembers(c, ctx({ minPenalty: 1 }))), ['m1', 'm3'], 'QUEUE_MIN_PENALTY');
  assert.deepEqual(ids(pickMembers([m(1, { penalty: 5 })], ctx({ maxPenalty: 2 }))), [], 'QUEUE_MAX_PENALTY');
});

test('linear and rrmemory take the first member at or after the remembered position, wrapping round', () => {
  const c = [m(0), m(1), m(2)];
  assert.deepEqual(ids(pickMembers(c, ctx({ strategy: 'linear', nextPos: 0 }))), ['m0']);
  assert.deepEqual(ids(pickMembers(c, ctx({ strategy: 'linear', nextPos: 2 }))), ['m2']);
  assert.deepEqual(ids(pickMembers(c, ctx({ strategy: 'rrmemory', nextPos: 3 }))), ['m0']);
  assert.deepEqual(ids(pickMembers([m(0), m(2)], ctx({ strategy: 'rrmemory', nextPos: 1 }))), ['m2'], 'a busy member is skipped');
  assert.deepEqual(ids(pickMembers([m(0), m(1, { penalty: 1 })], ctx({ strategy: 'rrmemory', nextPos: 1 }))), ['m0'], 'a lower penalty first');
});

test('leastrecent: never called first, then the longest idle; fewestcalls: fewest completed calls', () => {
  const now = 1_000_000;
  const c = [m(0, { lastCallMs: now - 5_000 }), m(1, { lastCallMs: now - 60_000 }), m(2, { lastCallMs: now - 1_000 })];
  assert.deepEqual(ids(pickMembers(c, ctx({ strategy: 'leastrecent', nowMs: now }))), ['m1']);
  assert.deepEqual(ids(pickMembers([...c, m(3)], ctx({ strategy: 'leastrecent', nowMs: now }))), ['m3']);
  assert.deepEqual(ids(pickMembers([m(0, { calls: 4 }), m(1, { calls: 2 }), m(2, { calls: 2 })], ctx({ strategy: 'fewestcalls' }))), ['m1']);
});

test('random picks any member uniformly; wrandom weighs by penalty (rng given)', () => {
  const seq = [0.9, 0.1, 0.5];
  let i = 0;
  const rng = () => seq[i++ % seq.length]!;
  assert.deepEqual(ids(pickMembers([m(0), m(1), m(2)], ctx({ strategy: 'random', random: rng }))), ['m1']);
  // wrandom: metric in [0, (1+penalty)*1000): 0.5*1000 = 500 for m0 vs 0.2*10000 = 2000 for m1
  const w = [0.5, 0.2];
  let j = 0;
  assert.deepEqual(ids(pickMembers([m(0), m(1, { penalty: 9 })], ctx({ strategy: 'wrandom', random: () => w[j++]! }))), ['m0']);
  // over many draws each member is picked; the penalty-9 one about 1 time in 20
  const counts = [0, 0];
  for (let k = 0; k < 4000; k++) counts[pickMembers([m(0), m(1, { penalty: 9 })], ctx({ strategy: 'wrandom' }))[0]!.pos]!++;
  assert.ok(counts[1]! > 100 && counts[1]! < 320, `penalty 9 won ${counts[1]} of 4000`);
  const r = [0, 0, 0];
  for (let k = 0; k < 3000; k++) r[pickMembers([m(0), m(1), m(2)], ctx({ strategy: 'random' }))[0]!.pos]!++;
  assert.ok(
    r.every((n) => n > 850 && n < 1150),
    r.join(),
  );
});
