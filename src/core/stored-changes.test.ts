import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoredChangeHub } from './stored-changes.js';

test('a change goes to the carrier (none alone); a remote change runs the readers of its kind only', async () => {
  const hub = new StoredChangeHub();
  hub.changed('routes'); // alone: nowhere to go, no error
  const sent: string[] = [];
  hub.carry((k) => sent.push(k));
  assert.throws(() => hub.carry(() => {}), /set already/);
  hub.changed('extensions');
  assert.deepEqual(sent, ['extensions']);
  const read: string[] = [];
  hub.onChanged('routes', async () => void read.push('routes-1'));
  hub.onChanged('routes', () => void read.push('routes-2'));
  hub.onChanged('extensions', () => void read.push('extensions'));
  assert.equal(await hub.applyRemote('routes'), 2);
  assert.deepEqual(read, ['routes-1', 'routes-2']);
  assert.equal(await hub.applyRemote('queue-members'), 0);
  hub.onChanged('queue-members', () => Promise.reject(new Error('db down')));
  await assert.rejects(hub.applyRemote('queue-members'), /db down/);
});

test('two carriers (worker 0 of a clustered node): a change from one is read here and passed to the other, never back', async () => {
  const hub = new StoredChangeHub();
  const sent: string[] = [];
  hub.carry((k) => sent.push(`cluster:${k}`));
  hub.carry((k) => sent.push(`workers:${k}`), 'workers');
  hub.changed('trunks');
  assert.deepEqual(sent, ['cluster:trunks', 'workers:trunks'], 'a change made here goes to both');
  const read: string[] = [];
  hub.onChanged('extensions', () => void read.push('extensions'));
  sent.length = 0;
  await hub.applyRemote('extensions');
  assert.deepEqual(sent, ['workers:extensions'], "the cluster's news to the workers");
  sent.length = 0;
  await hub.applyRemote('extensions', 'workers');
  assert.deepEqual(sent, ['cluster:extensions'], "a worker's news to the cluster");
  assert.deepEqual(read, ['extensions', 'extensions']);
});
