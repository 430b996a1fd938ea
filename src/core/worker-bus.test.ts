// The worker bus (src/core/worker-bus.ts): topics through the link, peers,
// and steering rules that never name this worker or one that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerBus } from './worker-bus.js';

test('worker bus alone: publish goes nowhere, no rule names another worker', () => {
  const bus = new WorkerBus();
  assert.equal(bus.shared, false);
  bus.publish('t', 1);
  bus.steer(() => 0);
  assert.equal(bus.steerOf({ user: '*8', fromUser: '1001', toUser: '' }), -1, 'worker 0 of 1 is this one');
});

test('worker bus: topics reach their subscribers with the sender; peers; a throwing subscriber stops no other', () => {
  const bus = new WorkerBus(1, 3);
  const sent: unknown[] = [];
  bus.attach({ publish: (topic, body) => sent.push([topic, body]) });
  bus.publish('office.park', { slot: '701', held: true });
  assert.deepEqual(sent, [['office.park', { slot: '701', held: true }]]);
  const got: unknown[] = [];
  bus.subscribe('x', () => {
    throw new Error('boom');
  });
  const off = bus.subscribe('x', (body, from) => got.push([body, from]));
  bus.deliver('x', 'hello', 2);
  bus.deliver('y', 'nobody', 2);
  off();
  bus.deliver('x', 'gone', 2);
  assert.deepEqual(got, [['hello', 2]]);
  const peers: unknown[] = [];
  bus.onPeer((w, up) => peers.push([w, up]));
  bus.peer(0, false);
  bus.peer(0, true);
  assert.deepEqual(peers, [
    [0, false],
    [0, true],
  ]);
  bus.attach(null);
  bus.publish('office.park', {});
  assert.equal(sent.length, 1, 'detached: nothing leaves');
});

test('worker bus steering: the first rule naming another present worker wins; its own index, -1, out of range or a throw are passed over', () => {
  const bus = new WorkerBus(1, 3);
  assert.equal(bus.steering, false);
  const asked: string[] = [];
  bus.steer((r) => {
    asked.push(`a:${r.user}`);
    return r.user === 'self' ? 1 : r.user === 'far' ? 7 : -1;
  });
  bus.steer((r) => {
    asked.push(`b:${r.user}`);
    if (r.user === 'bad') throw new Error('broken rule');
    return r.user === '*8' && r.fromUser === '1003' ? 2 : -1;
  });
  assert.equal(bus.steering, true);
  assert.equal(bus.steerOf({ user: '*8', fromUser: '1003', toUser: '' }), 2);
  assert.equal(bus.steerOf({ user: '*8', fromUser: '1004', toUser: '' }), -1);
  assert.equal(bus.steerOf({ user: 'self', fromUser: '', toUser: '' }), -1, 'this worker is not steered to');
  assert.equal(bus.steerOf({ user: 'far', fromUser: '', toUser: '' }), -1, 'no worker 7 among 3');
  assert.equal(bus.steerOf({ user: 'bad', fromUser: '', toUser: '' }), -1);
  assert.deepEqual(asked.slice(0, 2), ['a:*8', 'b:*8']);
});

test('worker bus replay: the state a module holds is published again when a worker comes, not when one goes; removable', () => {
  const bus = new WorkerBus(0, 2);
  const sent: unknown[] = [];
  bus.attach({ publish: (topic, body) => sent.push([topic, body]) });
  const held = new Set(['701']);
  const off = bus.replay('office.park', () => [...held].map((slot) => ({ slot, held: true })));
  bus.replay('broken', () => {
    throw new Error('boom');
  });
  bus.peer(1, false);
  assert.deepEqual(sent, [], 'a worker gone is told nothing');
  held.add('702');
  bus.peer(1, true);
  assert.deepEqual(sent, [
    ['office.park', { slot: '701', held: true }],
    ['office.park', { slot: '702', held: true }],
  ]);
  off();
  bus.peer(1, true);
  assert.equal(sent.length, 2, 'removed: not replayed');
});
