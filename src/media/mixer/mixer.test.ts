import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mixer, MixParticipant } from './mixer.js';
import { MediaClock } from '../media-clock.js';

test('each participant hears the sum of the others, never itself, saturated', () => {
  const clock = new MediaClock(20);
  const m = new Mixer(clock);
  const heard: Int16Array[][] = [[], [], []];
  const ps = heard.map((h) => new MixParticipant((f) => h.push(f)));
  for (const p of ps) m.add(p);
  ps[0]!.push(new Int16Array(160).fill(1000));
  ps[1]!.push(new Int16Array(160).fill(20000));
  ps[2]!.push(new Int16Array(160).fill(20000));
  m.tick();
  assert.equal(heard[0]![0]![0], 32767); // 40000 saturates
  assert.equal(heard[1]![0]![5], 21000);
  assert.equal(heard[2]![0]![159], 21000);
  // next tick nobody spoke: silence for all
  m.tick();
  assert.deepEqual([...new Set(heard[0]![1]!)], [0]);
  for (const p of ps) m.remove(p);
  assert.equal(clock.size, 0);
});

test('the shared clock ticks the mixer every 20 ms without drift', async () => {
  const clock = new MediaClock(20);
  let n = 0;
  const fn = (): void => void n++;
  clock.add(fn);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 500));
  clock.remove(fn);
  const expected = (performance.now() - t0) / 20;
  assert.ok(Math.abs(n - expected) <= 2, `${n} ticks in ${expected * 20} ms`);
});
