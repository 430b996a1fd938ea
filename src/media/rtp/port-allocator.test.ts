import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortAllocator, PortExhaustedError } from './port-allocator.js';

test('hands out even RTP ports with room for RTCP = RTP + 1, never twice', () => {
  const a = new PortAllocator(10001, 10010); // pairs 10002/3, 10004/5, 10006/7, 10008/9
  assert.equal(a.capacity, 4);
  const got = [a.allocate(), a.allocate(), a.allocate(), a.allocate()];
  assert.deepEqual(got, [10002, 10004, 10006, 10008]);
  for (const p of got) {
    assert.equal(p % 2, 0);
    assert.ok(p + 1 <= 10010);
  }
  assert.equal(a.free, 0);
  assert.equal(a.inUse, 4);
});

test('exhaustion throws PAL_ERR_RTP_PORTS_EXHAUSTED', () => {
  const a = new PortAllocator(20000, 20003);
  a.allocate();
  a.allocate();
  assert.throws(
    () => a.allocate(),
    (e: unknown) => e instanceof PortExhaustedError && e.code === 'PAL_ERR_RTP_PORTS_EXHAUSTED',
  );
});

test('a released pair is reused last: the longest-idle pair goes out first', () => {
  const a = new PortAllocator(20000, 20007); // 4 pairs
  const p1 = a.allocate(); // 20000
  const p2 = a.allocate(); // 20002
  a.release(p1);
  assert.equal(a.allocate(), 20004);
  assert.equal(a.allocate(), 20006);
  a.release(p2);
  assert.equal(a.allocate(), p1, 'released first, reused first');
  assert.equal(a.allocate(), p2);
  assert.throws(() => a.allocate(), PortExhaustedError);
});

test('release of a port that is not allocated is refused and changes nothing', () => {
  const a = new PortAllocator(20000, 20003);
  const p = a.allocate();
  assert.equal(a.release(p + 1), false, 'odd port');
  assert.equal(a.release(30000), false, 'outside the range');
  assert.equal(a.release(p), true);
  assert.equal(a.release(p), false, 'second release');
  assert.equal(a.free, 2);
  assert.equal(a.isAllocated(p), false);
});

test('rejects ranges that cannot work', () => {
  assert.throws(() => new PortAllocator(20000, 19000), RangeError);
  assert.throws(() => new PortAllocator(80, 2000), RangeError);
  assert.throws(() => new PortAllocator(20001, 20001), RangeError);
});

test('a pair released warm (sockets still bound) is preferred once its quarantine is over, never during it', () => {
  let now = 1000;
  const a = new PortAllocator(20000, 20009, { quarantineMs: 500, now: () => now }); // 5 pairs
  const p1 = a.allocate(); // 20000
  const p2 = a.allocate(); // 20002
  a.release(p1, true);
  a.release(p2); // cold: back of the cold queue
  assert.equal(a.warmFree, 1);
  assert.equal(a.free, 5);
  now += 499;
  assert.equal(a.allocate(), 20004, 'still in quarantine: a cold pair instead');
  now += 1;
  assert.equal(a.allocate(), p1, 'quarantine over: the warm pair, ahead of the longest-idle cold one');
  assert.equal(a.warmFree, 0);
  assert.equal(a.allocate(), 20006, 'then cold pairs in their order');
});

test('warm pairs go out oldest first; with no cold pair left, a warm one in quarantine rather than nothing', () => {
  let now = 0;
  const a = new PortAllocator(20000, 20005, { quarantineMs: 500, now: () => now }); // 3 pairs
  const [p1, p2, p3] = [a.allocate(), a.allocate(), a.allocate()];
  a.release(p2, true);
  now += 10;
  a.release(p1, true);
  assert.equal(a.allocate(), p2, 'nothing cold is free: the warm pair released longest ago');
  assert.equal(a.allocate(), p1);
  assert.throws(() => a.allocate(), PortExhaustedError);
  a.release(p3, true);
  assert.equal(a.release(p3, true), false, 'a second release is refused');
  assert.equal(a.free, 1);
  assert.equal(a.inUse, 2);
  assert.equal(a.isAllocated(p3), false);
});
