// The UDP receive buffer: what the kernel grants, and the warning when it
// grants less than asked (bursts then overflow it and are lost); sends held
// to the end of the event-loop turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { TransportLayer } from './transport-layer.js';
import { UdpListener } from './udp-listener.js';
import type { Remote } from './types.js';
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

// Sends are held to the end of the event-loop turn and leave back to back:
// on a virtual machine each wake-up of a sleeping peer costs the sender
// some 25–35 µs, each further datagram to the woken peer under 1 µs.

async function receiver(): Promise<{ port: number; got: string[]; close: () => void }> {
  const s = dgram.createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m) => void got.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, got, close: () => s.close() };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

test("one turn's datagrams leave together when the turn ends, in the order sent", async () => {
  const rx = await receiver();
  const errors: Error[] = [];
  const l = new UdpListener(
    { transport: 'udp', address: '127.0.0.1', port: 0 },
    () => {},
    65536,
    (e) => void errors.push(e),
  );
  await l.start();
  const sock = (l as unknown as { socket: dgram.Socket }).socket;
  const real = sock.send.bind(sock) as (...a: unknown[]) => void;
  let syscalls = 0;
  (sock as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
    syscalls++;
    real(...a);
  };
  const to: Remote = { transport: 'udp', address: '127.0.0.1', port: rx.port };
  for (let i = 0; i < 5; i++) l.send(Buffer.from(`m${i}`), to);
  assert.equal(syscalls, 0, 'nothing is handed to the socket during the turn');
  await new Promise((r) => setImmediate(r));
  assert.equal(syscalls, 5, 'all five go out once the turn ends');
  await until(() => rx.got.length === 5);
  assert.deepEqual(rx.got, ['m0', 'm1', 'm2', 'm3', 'm4']);
  // a later turn starts a new batch; the address is the one given at send(), even if the caller's Remote changes after
  const moving: Remote = { ...to };
  l.send(Buffer.from('m5'), moving);
  moving.port = 9;
  await until(() => rx.got.length === 6);
  assert.equal(rx.got[5], 'm5');
  assert.deepEqual(errors, []);
  await l.close();
  rx.close();
});

test('close() sends what was queued first; a bad port is refused at once, to the caller', async () => {
  const rx = await receiver();
  const l = new UdpListener(
    { transport: 'udp', address: '127.0.0.1', port: 0 },
    () => {},
    65536,
    () => {},
  );
  await l.start();
  const to: Remote = { transport: 'udp', address: '127.0.0.1', port: rx.port };
  assert.throws(() => l.send(Buffer.from('x'), { ...to, port: 0 }), /bad port 0/);
  assert.throws(() => l.send(Buffer.from('x'), { ...to, port: 70000 }), /bad port 70000/);
  l.send(Buffer.from('last words'), to);
  await l.close();
  await until(() => rx.got.length === 1);
  assert.deepEqual(rx.got, ['last words']);
  rx.close();
});
