import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEndpoint } from '../../test/support/memory-endpoint.js';
import { EndpointBridge } from './endpoint-bridge.js';

test('an answered leg of any technology is bridged through the endpoints: frames both ways, DTMF passed on, bounded delay, clean unhook', () => {
  const a = new MemoryEndpoint(); // the calling channel's endpoint
  const b = new MemoryEndpoint(); // e.g. an IAX2 or trunk leg's endpoint
  b.echo = true;
  const bridge = new EndpointBridge(a, b);
  assert.equal(b.echo, false, 'a bridged leg does not echo');
  // a's caller speaks: b sends it to its far end on its next tick, and back
  a.receive(1000);
  a.receive(1001);
  b.receive(-500);
  assert.equal(b.tick(), true);
  assert.equal(b.tick(), true);
  assert.equal(b.tick(), false, 'nothing more to send: silence, not a repeat');
  assert.equal(a.tick(), true);
  assert.deepEqual([b.sent[0]![0], b.sent[1]![0], a.sent[0]![0]], [1000, 1001, -500], 'copies of each frame, in order (the tap buffer was reused)');
  // DTMF crosses both ways; a side that cannot send DTMF is not counted
  a.receiveDigit('5');
  b.receiveDigit('#');
  b.canSendDigits = false;
  a.receiveDigit('6');
  assert.deepEqual([b.digitsSent, a.digitsSent], [['5'], ['#']]);
  // a far end that stops reading: the queue keeps the newest 6 frames (120 ms), no delay builds up
  for (let i = 0; i < 20; i++) a.receive(i);
  for (let i = 0; i < 6; i++) b.tick();
  assert.deepEqual(
    b.sent.slice(-6).map((f) => f[0]),
    [14, 15, 16, 17, 18, 19],
  );
  assert.deepEqual(bridge.stats, { aToB: 22, bToA: 1, digitsAToB: 1, digitsBToA: 1, dropped: 14 });
  bridge.close();
  assert.equal(a.source, null);
  assert.equal(b.source, null);
  assert.equal(a.tapCount + b.tapCount, 0, 'every tap removed');
});
