// `status` with several workers: worker 0's answer with the per-process
// figures summed and a line per worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeStatus } from './worker-link.js';

test('mergeStatus: calls, transactions, packets and memory summed over the workers; what every worker holds alike is worker 0s; a line per worker', () => {
  const w = (active: number, rss: number, extra: Record<string, unknown> = {}) => ({
    version: '0.1.0',
    registrations: 40,
    active_calls: active,
    calls: { started: active * 10, ended: active * 10 - active },
    packets: { received: 100 * (active + 1), gated: 1 },
    rss_mb: rss,
    heap_used_mb: 20,
    security: { bans_active: 3 },
    ...extra,
  });
  const m = mergeStatus([
    { worker: 1, status: w(2, 90) },
    { worker: 0, status: w(3, 110, { tcp_connections: 4 }) },
  ]);
  assert.equal(m.registrations, 40, 'held alike: once');
  assert.deepEqual(m.security, { bans_active: 3 });
  assert.equal(m.tcp_connections, 4, "worker 0's own");
  assert.equal(m.active_calls, 5);
  assert.deepEqual(m.calls, { started: 50, ended: 45 });
  assert.deepEqual(m.packets, { received: 700, gated: 2 });
  assert.equal(m.rss_mb, 200);
  assert.deepEqual(m.workers, [
    { worker: 0, active_calls: 3, rss_mb: 110, heap_used_mb: 20 },
    { worker: 1, active_calls: 2, rss_mb: 90, heap_used_mb: 20 },
  ]);
});

test("mergeStatus: a module's counted fields are summed over the workers that have them; its shared state stays worker 0's", () => {
  const w = (dropped: number, received: number | null) => ({
    security: { bans_active: 2, events: { 'auth-failed': dropped }, ids: { dropped, bansIssued: 1 }, security_log_lines: dropped * 2 },
    messaging: received === null ? null : { received, delivered: received },
    iax2: { calls: 1 },
  });
  const m = mergeStatus(
    [
      { worker: 0, status: w(5, 3) },
      { worker: 1, status: w(7, 4) },
      { worker: 2, status: w(1, null) }, // the module does not run there
    ],
    ['security.events', 'security.ids', 'security.security_log_lines', 'messaging', 'presence'],
  );
  assert.deepEqual(m.security, { bans_active: 2, events: { 'auth-failed': 13 }, ids: { dropped: 13, bansIssued: 3 }, security_log_lines: 26 });
  assert.deepEqual(m.messaging, { received: 7, delivered: 7 });
  assert.deepEqual(m.iax2, { calls: 1 }, 'not counted: worker 0 runs it');
  assert.equal(m.presence, undefined, 'a counted field no worker has stays absent');
});
