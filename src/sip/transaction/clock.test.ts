import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheelClock } from './clock.js';
import { FakeClock } from '../../../test/support/fake-clock.js';

test('FakeClock fires due timers in deadline order, each seeing its own deadline as now()', () => {
  const c = new FakeClock(1000);
  const seen: [string, number][] = [];
  c.setTimer(300, () => seen.push(['c', c.now()]));
  c.setTimer(100, () => seen.push(['a', c.now()]));
  c.setTimer(100, () => seen.push(['b', c.now()]));
  c.setTimer(500, () => seen.push(['late', c.now()]));
  c.advance(300);
  assert.deepEqual(seen, [
    ['a', 1100],
    ['b', 1100],
    ['c', 1300],
  ]);
  assert.equal(c.now(), 1300);
  assert.equal(c.pending, 1);
});

test('FakeClock runs timers scheduled by a callback within the same advance, and clearTimer cancels', () => {
  const c = new FakeClock();
  const seen: number[] = [];
  c.setTimer(10, () => c.setTimer(10, () => seen.push(c.now())));
  const t = c.setTimer(15, () => seen.push(-1));
  c.clearTimer(t);
  c.clearTimer(t);
  c.advance(25);
  assert.deepEqual(seen, [20]);
  assert.equal(c.pending, 0);
});

test('FakeClock passes the context argument', () => {
  const c = new FakeClock();
  const box = { n: 0 };
  c.setTimer(1, (b: { n: number }) => b.n++, box);
  c.advance(1);
  assert.equal(box.n, 1);
});

test('TimerWheelClock: advanceTo fires timers never early, in order, with O(1) cancel', () => {
  const c = new TimerWheelClock({ tickMs: 10, slots: 8 });
  const t0 = c.now();
  const fired: string[] = [];
  c.setTimer(25, () => fired.push('25'));
  c.setTimer(5, () => fired.push('5'));
  const x = c.setTimer(15, () => fired.push('cleared'));
  // 8 slots of 10 ms: 200 ms is more than two revolutions of the wheel
  c.setTimer(200, () => fired.push('200'));
  c.clearTimer(x);
  assert.equal(c.size, 3);
  c.advanceTo(t0 + 4);
  assert.deepEqual(fired, []);
  c.advanceTo(t0 + 40);
  assert.deepEqual(fired, ['5', '25']);
  c.advanceTo(t0 + 180);
  assert.deepEqual(fired, ['5', '25'], 'a timer beyond one revolution waits out its rounds');
  c.advanceTo(t0 + 215);
  assert.deepEqual(fired, ['5', '25', '200']);
  assert.equal(c.size, 0);
  c.stop();
});

test('TimerWheelClock: a callback may clear a timer due in the same tick, or schedule new ones', () => {
  const c = new TimerWheelClock({ tickMs: 10 });
  const t0 = c.now();
  const fired: string[] = [];
  let second: ReturnType<typeof c.setTimer> | undefined;
  c.setTimer(10, () => {
    fired.push('first');
    c.clearTimer(second!);
    c.setTimer(0, () => fired.push('scheduled-by-first'));
  });
  second = c.setTimer(10, () => fired.push('second'));
  c.setTimer(10, () => fired.push('third'));
  c.advanceTo(t0 + 25);
  assert.deepEqual(fired, ['first', 'third'], 'a cleared timer of the same tick does not fire');
  c.advanceTo(t0 + 45);
  assert.deepEqual(fired, ['first', 'third', 'scheduled-by-first'], 'a timer set by a callback fires on a later tick');
  assert.equal(c.size, 0);
  c.stop();
});

test('TimerWheelClock: an exception in one callback does not stop the others', () => {
  const errors: unknown[] = [];
  const c = new TimerWheelClock({ tickMs: 10, onError: (e) => errors.push(e) });
  const t0 = c.now();
  let ran = false;
  c.setTimer(10, () => {
    throw new Error('boom');
  });
  c.setTimer(10, () => (ran = true));
  c.advanceTo(t0 + 30);
  assert.equal(ran, true);
  assert.equal(errors.length, 1);
  c.stop();
});

test('TimerWheelClock drives itself from one interval in real time', async () => {
  const c = new TimerWheelClock({ tickMs: 5, ref: true });
  const start = performance.now();
  const at: number[] = [];
  await new Promise<void>((resolve) => {
    c.setTimer(30, () => at.push(performance.now() - start));
    c.setTimer(10, () => at.push(performance.now() - start));
    c.setTimer(50, () => {
      at.push(performance.now() - start);
      resolve();
    });
  });
  assert.equal(at.length, 3);
  assert.ok(at[0]! >= 10 && at[1]! >= 30 && at[2]! >= 50, `fired early: ${at.join(',')}`);
  assert.ok(at[0]! < at[1]! && at[1]! < at[2]!);
  assert.equal(c.size, 0);
  c.stop();
});

test('TimerWheelClock holds 50,000 timers and cancels them cheaply', () => {
  const c = new TimerWheelClock();
  const refs = [];
  for (let i = 0; i < 50_000; i++) refs.push(c.setTimer(1000 + (i % 30_000), () => {}));
  assert.equal(c.size, 50_000);
  for (const r of refs) c.clearTimer(r);
  assert.equal(c.size, 0);
  c.stop();
});
