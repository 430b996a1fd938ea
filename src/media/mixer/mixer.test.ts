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

test('30 ms packets are re-framed into 20 ms frames without losing samples', () => {
  const clock = new MediaClock(20);
  const m = new Mixer(clock);
  const heard: Int16Array[] = [];
  const a = new MixParticipant(() => undefined);
  const b = new MixParticipant((f) => heard.push(f));
  m.add(a);
  m.add(b);
  a.push(new Int16Array(240).fill(7));
  a.push(new Int16Array(240).fill(9));
  m.tick();
  m.tick();
  m.tick();
  assert.deepEqual([heard[0]![0], heard[1]![0], heard[1]![80], heard[2]![0]], [7, 7, 9, 9]);
  m.remove(a);
  m.remove(b);
});

test('the media clock catches up after the event loop stalls (drift-free: ticks follow wall time)', async () => {
  const clock = new MediaClock(20);
  let n = 0;
  const fn = (): void => void n++;
  clock.add(fn);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 100));
  const stallUntil = performance.now() + 90; // block the loop for 90 ms (4.5 ticks)
  while (performance.now() < stallUntil);
  await new Promise((r) => setTimeout(r, 310));
  clock.remove(fn);
  const expected = (performance.now() - t0) / 20;
  assert.ok(Math.abs(n - expected) <= 2, `${n} ticks for ${expected.toFixed(1)} periods`);
  assert.ok(clock.lateTicks >= 1, 'the stall was noticed');
});
