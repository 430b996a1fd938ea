// The UDP receive buffer: what the kernel grants, and the warning when it
// grants less than asked (bursts then overflow it and are lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TransportLayer } from './transport-layer.js';
import { LogRoot } from '../observability/logger.js';

const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());

async function listen(asked: number, reportRecvBuffer?: boolean): Promise<{ events: Array<Record<string, unknown>>; granted: number }> {
  const lines: string[] = [];
  const log = new LogRoot('info', {}, { write: (l) => void lines.push(l) }).get('sip');
  const layer = new TransportLayer([{ transport: 'udp', address: '127.0.0.1', port: 0 }], log, { udpRecvBuffer: asked, maxMessageSize: 65535, reportRecvBuffer });
  await layer.start();
  const granted = (layer as unknown as { udp: Array<{ recvBufferGranted: number }> }).udp[0]!.recvBufferGranted;
  await layer.close();
  return { events: lines.map((l) => JSON.parse(l) as Record<string, unknown>), granted };
}

/** the socket was bound (the point where the warning would be logged was passed) and no warning was logged */
function assertBoundQuietly(events: Array<Record<string, unknown>>): void {
  assert.ok(
    events.some((e) => e.event === 'listening'),
    'the socket was bound',
  );
  assert.equal(
    events.find((e) => e.event === 'udp-recv-buffer-capped'),
    undefined,
  );
}

test('a receive buffer within net.core.rmem_max is granted whole, without a warning', async () => {
  const asked = Math.min(256 * 1024, rmemMax);
  const r = await listen(asked);
  assert.equal(r.granted, asked);
  assertBoundQuietly(r.events);
});

test('a receive buffer above net.core.rmem_max is capped there, and the log says so with the fix', async () => {
  const asked = rmemMax * 2;
  const r = await listen(asked);
  assert.equal(r.granted, rmemMax, 'the kernel caps it at rmem_max');
  const w = r.events.find((e) => e.event === 'udp-recv-buffer-capped');
  assert.ok(w, JSON.stringify(r.events));
  assert.equal(w.level, 'warn');
  assert.equal(w.asked, asked);
  assert.equal(w.granted, rmemMax);
  assert.match(String(w.fix), new RegExp(`net\\.core\\.rmem_max=${asked}`));
});

test('a second worker on the shared socket does not repeat the warning (the first says it once for all)', async () => {
  const asked = rmemMax * 2;
  const r = await listen(asked, false);
  assert.equal(r.granted, rmemMax, 'capped all the same');
  assertBoundQuietly(r.events);
});
