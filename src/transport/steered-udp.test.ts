import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { receiveThrough, sendFrom } from '../../test/support/steered-sockets.js';
import { addressWorker, formatUdpFds, lastWord, openSteeredGroup, parseUdpFds, steeringProgram } from './steered-udp.js';

test('the last 32 bits of an address text, as the kernel reads them from the header', () => {
  assert.equal(lastWord('127.0.0.1'), 0x7f000001);
  assert.equal(lastWord('192.0.2.250'), 0xc00002fa);
  assert.equal(lastWord('255.255.255.255'), 0xffffffff);
  assert.equal(lastWord('::1'), 1);
  assert.equal(lastWord('2001:db8::a:1'), 0x000a0001);
  assert.equal(lastWord('2001:db8:1:2:3:4:ffff:fffe'), 0xfffffffe);
  assert.equal(lastWord('fe80::'), 0);
  assert.equal(lastWord('fe80::1:2%eth0'), 0x00010002);
  assert.equal(lastWord('::ffff:192.0.2.1'), 0xc0000201);
  assert.equal(lastWord('2001:db8::'), 0);
});

test('the address hash spreads loopback and LAN addresses over 2, 3 and 4 workers, and is stable', () => {
  for (const n of [2, 3, 4]) {
    const counts = new Array(n).fill(0);
    for (let i = 2; i < 250; i++) counts[addressWorker(`127.0.0.${i}`, n)]++;
    for (const c of counts) assert.ok(c > 248 / n / 1.5, `${n} workers: ${counts}`);
    const lan = new Array(n).fill(0);
    for (let i = 0; i < 250; i++) lan[addressWorker(`10.1.${i}.7`, n)]++;
    for (const c of lan) assert.ok(c > 250 / n / 1.5, `${n} workers: ${lan}`);
  }
  assert.equal(addressWorker('127.0.0.2', 1), 0);
  assert.equal(addressWorker('127.0.0.9', 3), addressWorker('127.0.0.9', 3));
  // the bench's two SIPp sources belong to different workers
  assert.notEqual(addressWorker('127.0.0.10', 2), addressWorker('127.0.0.11', 2));
});

test('the steering program loads the source address from the IP header and returns the hash modulo the workers', () => {
  const v4 = steeringProgram(false, 3);
  assert.equal(v4[0]!.k, (0x100000000 - 0x100000 + 12) >>> 0, 'SKF_NET_OFF + 12');
  assert.equal(steeringProgram(true, 3)[0]!.k, (0x100000000 - 0x100000 + 20) >>> 0, 'SKF_NET_OFF + 8 + 12');
  assert.equal(v4.at(-2)!.k, 3);
  assert.equal(v4.at(-1)!.code, 0x16, 'ret a');
});

test("a worker's descriptors pass through its environment", () => {
  const env = formatUdpFds([
    { point: { transport: 'udp', address: '127.0.0.1', port: 5060 }, fd: 4 },
    { point: { transport: 'udp', address: '::1', port: 5062 }, fd: 5 },
  ]);
  const m = parseUdpFds(env);
  assert.equal(m.get('udp:127.0.0.1:5060'), 4);
  assert.equal(m.get('udp:[::1]:5062'), 5);
  assert.equal(parseUdpFds(undefined).size, 0);
  assert.equal(parseUdpFds('udp:127.0.0.1:5060@1').size, 0, 'never a standard descriptor');
});

test('the kernel hands each source address to the socket addressWorker() names (3 sockets, 18 addresses, IPv4)', async () => {
  const fds = openSteeredGroup({ transport: 'udp', address: '127.0.0.1', port: 0 }, 3);
  assert.equal(fds.length, 3);
  const { got, sockets, port } = receiveThrough(fds, 'udp4');
  try {
    assert.ok(port > 0, 'port 0 took one free port for the whole group');
    for (const s of sockets) assert.equal(s.address().port, port);
    const from = Array.from({ length: 18 }, (_, i) => `127.0.0.${i + 2}`);
    for (const a of from) await sendFrom('udp4', a, '127.0.0.1', port, 4);
    await new Promise((r) => setTimeout(r, 100));
    for (const a of from) assert.deepEqual([...(got.get(a) ?? [])], [addressWorker(a, 3)], `${a}: ${JSON.stringify([...got])}`);
    // every socket got some: the program really chose (a group without it hashes by port too)
    assert.equal(new Set(from.map((a) => addressWorker(a, 3))).size, 3);
  } finally {
    for (const s of sockets) s.close();
  }
});

// more IPv6 sources, in a namespace of their own: test/interop/steered-udp-ipv6.test.ts
test('IPv6: the group steers by the last bits of the source address (::1 to its worker)', async () => {
  const fds = openSteeredGroup({ transport: 'udp', address: '::1', port: 0 }, 2);
  const { got, sockets, port } = receiveThrough(fds, 'udp6');
  try {
    for (let i = 0; i < 5; i++) await sendFrom('udp6', '::1', '::1', port, 3);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([...(got.get('::1') ?? [])], [addressWorker('::1', 2)], JSON.stringify([...got]));
  } finally {
    for (const s of sockets) s.close();
  }
});

test('a port taken by another socket: the group is not made, and what it opened is closed', async () => {
  const taken = dgram.createSocket('udp4');
  await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
  const open = () => readdirSync('/proc/self/fd').length;
  const before = open();
  try {
    assert.throws(() => openSteeredGroup({ transport: 'udp', address: '127.0.0.1', port: taken.address().port }, 2), /bind udp:127\.0\.0\.1:\d+: EADDRINUSE/);
    assert.equal(open(), before, 'no descriptor left open');
    assert.throws(() => openSteeredGroup({ transport: 'udp', address: 'fe80::1%lo', port: 0 }, 2), /scoped IPv6 address/);
    assert.equal(open(), before, 'none for an address it cannot steer either');
  } finally {
    taken.close();
  }
});
