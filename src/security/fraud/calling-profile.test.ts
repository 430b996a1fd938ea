import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallingProfiles, DEFAULT_ANOMALY } from './calling-profile.js';

const at = (day: number, hour: number, min = 0) => new Date(2026, 0, day, hour, min).getTime();

test('nothing is judged while learning; then new destinations, unusual hours and bursts are flagged', () => {
  const p = new CallingProfiles({ ...DEFAULT_ANOMALY, minCalls: 20 });
  // an office phone: 20 calls over four days, 9–12 h, to two UK regions
  for (let i = 0; i < 20; i++) {
    const t = at(5 + (i % 4), 9 + (i % 4));
    assert.deepEqual(p.check('ext:1001', '+4420', t), [], 'learning');
    p.learn('ext:1001', i % 2 ? '+4420' : '+4416', t);
  }
  assert.deepEqual(p.check('ext:1001', '+4420', at(10, 10)), []);
  assert.deepEqual(p.check('ext:1001', '+2341', at(10, 10)), ['new-destination']);
  assert.deepEqual(p.check('ext:1001', '+4420', at(10, 3)), ['unusual-hour']);
  // a burst: 12 calls in ten minutes against a learned ~0.2/hour
  for (let i = 0; i < 12; i++) p.learn('ext:1001', '+4420', at(11, 10, i));
  assert.ok(p.check('ext:1001', '+4420', at(11, 10, 15)).includes('frequency'));
});

test('a call far longer than the learned lengths is flagged after it ends', () => {
  const p = new CallingProfiles({ ...DEFAULT_ANOMALY, minCalls: 5, longCallMin: 600 });
  p.learn('ext:1001', 'x', Date.now());
  for (const s of [60, 90, 120, 75, 100]) assert.equal(p.learnLength('ext:1001', s), undefined);
  assert.equal(p.learnLength('ext:1001', 500), undefined, 'under long_call_min');
  assert.equal(p.learnLength('ext:1001', 7200), 'long-call');
});

test('mode off learns and flags nothing', () => {
  const p = new CallingProfiles({ ...DEFAULT_ANOMALY, mode: 'off', minCalls: 1 });
  p.learn('ext:1', 'a', 0);
  assert.deepEqual(p.check('ext:1', 'b', 0), []);
  assert.equal(p.summary('ext:1'), undefined);
});

test('drop forgets the profiles it picks, by principal or by the time of their last call; a dropped principal learns again from nothing', () => {
  const p = new CallingProfiles({ ...DEFAULT_ANOMALY, minCalls: 5 });
  for (let i = 0; i < 6; i++) {
    p.learn('ext:1001', '+4420', at(5, 9 + i));
    p.learn('ext:1002', '+4420', at(6, 9 + i));
  }
  p.learn('trunk:carrier', '+4416', at(7, 10));
  assert.deepEqual(p.check('ext:1001', '+2341', at(8, 10)), ['new-destination']);
  const told: Array<[string, number]> = [];
  const dropped = p.drop((id, last) => {
    told.push([id, last]);
    return id === 'ext:1001';
  });
  assert.deepEqual(dropped, ['ext:1001']);
  assert.deepEqual(told, [
    ['ext:1001', at(5, 14)],
    ['ext:1002', at(6, 14)],
    ['trunk:carrier', at(7, 10)],
  ]);
  assert.equal(p.size, 2);
  assert.equal(p.state('ext:1001', at(8, 10)), undefined);
  // the number's next holder: nothing learned, nothing judged
  assert.deepEqual(p.check('ext:1001', '+2341', at(8, 10)), []);
  p.learn('ext:1001', '+2341', at(8, 10));
  assert.equal(p.state('ext:1001', at(8, 10))!.calls, 1);
  // by age: whatever has called nothing since the 6th
  assert.deepEqual(
    p.drop((_, last) => last < at(7, 0)),
    ['ext:1002'],
  );
  assert.equal(p.state('trunk:carrier', at(8, 10))!.updatedAt, at(7, 10), 'the last call, persisted as updated_at');
});
