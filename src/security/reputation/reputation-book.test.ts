import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReputationBook, scoreOf } from './reputation-book.js';

const HOUR = 3_600_000;

test('an unknown subject scores 5; first positive → 6, first negative → 4 (docs/configuration.md, Reputation)', () => {
  const book = new ReputationBook({ halfLifeMs: HOUR, clock: () => 0 });
  assert.equal(book.score('ip:1.2.3.4'), 5);
  assert.equal(book.good('ip:1.2.3.4'), 6);
  assert.equal(book.score('ip:1.2.3.4'), 6);
  assert.equal(book.bad('user:1001'), 4);
  assert.equal(book.score('user:1001'), 4);
});

test('the beta formula with prior 2/2: good over all events', () => {
  assert.equal(scoreOf(0, 0), 5);
  assert.equal(scoreOf(1, 1), 5);
  assert.equal(scoreOf(3, 1), 6.3); // 5/8
  assert.equal(scoreOf(0, 2), 3.3); // 2/6
  assert.equal(scoreOf(1000, 0), 10);
  assert.equal(scoreOf(0, 1000), 0);
});

test('evidence halves every half-life so old behaviour fades towards 5', () => {
  let now = 0;
  const book = new ReputationBook({ halfLifeMs: HOUR, clock: () => now });
  book.bad('ip:9.9.9.9');
  book.bad('ip:9.9.9.9');
  assert.equal(book.score('ip:9.9.9.9'), 3.3);
  now = HOUR; // b = 1
  assert.equal(book.score('ip:9.9.9.9'), 4);
  now = 3 * HOUR; // b = 0.25
  assert.equal(book.score('ip:9.9.9.9'), 4.7);
  now = 10 * HOUR;
  assert.equal(book.score('ip:9.9.9.9'), 5);
});

test('memory stays bounded: the stalest subject is evicted', () => {
  const book = new ReputationBook({ halfLifeMs: HOUR, maxSubjects: 3, clock: () => 0 });
  for (const a of ['a', 'b', 'c']) book.bad(a);
  book.bad('a'); // a is now the freshest
  book.bad('d');
  assert.equal(book.size, 3);
  assert.equal(book.score('b'), 5, 'b was the stalest and is forgotten');
  assert.equal(book.score('a'), 3.3);
});

test('decisions take microseconds', () => {
  const book = new ReputationBook({ halfLifeMs: HOUR });
  for (let i = 0; i < 10_000; i++) book.good(`ip:10.0.${i >> 8}.${i & 255}`);
  const t0 = process.hrtime.bigint();
  let s = 0;
  for (let i = 0; i < 100_000; i++) s += book.score(`ip:10.0.${(i >> 8) & 39}.${i & 255}`);
  const perOpUs = Number(process.hrtime.bigint() - t0) / 1000 / 100_000;
  assert.ok(s > 0);
  assert.ok(perOpUs < 50, `${perOpUs} µs per score`); // docs/architecture.md, Security rules: under 50 µs per decision
});
