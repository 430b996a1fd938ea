// The defence hub's carriers: the cluster module and the worker link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefenceSyncHub, type DefenceChange } from './defence-sync.js';

const ban = (address: string): DefenceChange => ({ kind: 'ban', ban: { address, since: 1, until: 2, reason: 'test', offences: 1, manual: true } });

test('alone: publish goes nowhere; a remote change is applied by every applier', () => {
  const hub = new DefenceSyncHub();
  assert.equal(hub.carried, false);
  hub.publish(ban('192.0.2.1'));
  const applied: string[] = [];
  hub.onRemote((c) => applied.push(c.kind));
  hub.applyRemote({ kind: 'fraud-reload' });
  assert.deepEqual(applied, ['fraud-reload']);
});

test('worker 0 of a clustered node: a change from the cluster reaches the workers, one from a worker reaches the cluster, none goes back', () => {
  const hub = new DefenceSyncHub();
  const out: string[] = [];
  hub.carry((c) => out.push(`cluster:${c.kind}`));
  hub.carry((c) => out.push(`workers:${c.kind}`), 'workers');
  assert.throws(() => hub.carry(() => undefined, 'workers'), /named workers is set already/);
  assert.equal(hub.carried, true);
  const applied: string[] = [];
  hub.onRemote((c) => applied.push(c.kind));
  hub.publish(ban('192.0.2.1'));
  assert.deepEqual(out, ['cluster:ban', 'workers:ban'], 'made here: both');
  assert.deepEqual(applied, [], 'and not applied again here');
  out.length = 0;
  hub.applyRemote(ban('192.0.2.2'));
  assert.deepEqual(out, ['workers:ban']);
  out.length = 0;
  hub.applyRemote({ kind: 'unban', address: '192.0.2.2' }, 'workers');
  assert.deepEqual(out, ['cluster:unban']);
  assert.deepEqual(applied, ['ban', 'unban']);
});
