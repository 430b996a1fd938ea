import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterCalls } from './cluster-calls.js';

const p = (id: string, perMinute = 0) => ({ id, perMinute });

test('the other nodes’ calls count per principal (placing and receiving) until they close', () => {
  const c = new ClusterCalls();
  c.open('a:1', 'a', [p('ext:1001'), p('trunk:prov')], 'ext:1002', 1000);
  c.open('a:1', 'a', [p('ext:1001')], undefined, 1000); // a record read twice counts once
  c.open('b:1', 'b', [p('ext:1001')], undefined, 2000);
  assert.deepEqual([c.active('ext:1001'), c.outbound('ext:1001'), c.active('trunk:prov'), c.active('ext:1002'), c.outbound('ext:1002')], [2, 2, 1, 1, 0]);
  c.close('a:1');
  c.close('a:1');
  c.close('never-opened');
  assert.deepEqual([c.active('ext:1001'), c.active('trunk:prov'), c.active('ext:1002')], [1, 0, 0]);
  assert.equal(c.size, 1);
});

test('a node gone takes its calls with it, and no one else’s', () => {
  const c = new ClusterCalls();
  c.open('a:1', 'a', [p('ext:1001')], 'ext:1003', 0);
  c.open('a:2', 'a', [p('ext:1002')], undefined, 0);
  c.open('b:1', 'b', [p('ext:1001')], undefined, 0);
  assert.equal(c.dropNode('a'), 2);
  assert.deepEqual([c.active('ext:1001'), c.active('ext:1002'), c.active('ext:1003')], [1, 0, 0]);
  assert.equal(c.dropNode('a'), 0);
});

test('attempts count for a minute, whatever order they arrive in; uncapped principals keep none', () => {
  const c = new ClusterCalls();
  const t0 = 1_000_000;
  c.open('a:1', 'a', [p('ext:1001', 5), p('trunk:prov', 0)], undefined, t0 + 30_000);
  // one from before a broker outage, arriving late
  c.open('a:2', 'a', [p('ext:1001', 5)], undefined, t0);
  c.open('a:3', 'a', [p('ext:1001', 5)], undefined, t0 + 50_000);
  assert.equal(c.attempts('ext:1001', t0 + 50_000), 3);
  assert.equal(c.attempts('ext:1001', t0 + 60_000), 2, 'the first is a minute old');
  assert.equal(c.attempts('ext:1001', t0 + 110_000), 0);
  assert.equal(c.attempts('trunk:prov', t0 + 30_000), 0);
  // closing a call does not undo its attempt
  c.open('a:4', 'a', [p('ext:1001', 5)], undefined, t0 + 120_000);
  c.close('a:4');
  assert.equal(c.attempts('ext:1001', t0 + 121_000), 1);
});
