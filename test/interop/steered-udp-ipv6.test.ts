// The workers' steered UDP sockets (src/transport/steered-udp.ts) with IPv6
// sources: in a namespace of its own, loopback gets 12 more IPv6 addresses,
// and each address's datagrams must reach the socket addressWorker() names,
// which proves the BPF program reads the last 32 bits of the IPv6 source
// (SKF_NET_OFF + 20), not some other word of the header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { receiveThrough, sendFrom } from '../support/steered-sockets.js';
import { netnsSuite } from '../helpers/netns.js';
import { addressWorker, openSteeredGroup } from '../../src/transport/steered-udp.js';

netnsSuite(import.meta.url, 'steered UDP sockets, IPv6 sources', () => {
  test('12 IPv6 source addresses each reach the socket addressWorker() names (3 sockets)', async () => {
    const from = Array.from({ length: 12 }, (_, i) => `fd00::${(i + 2).toString(16)}:${(i * 37 + 5).toString(16)}`);
    for (const a of from) {
      const r = spawnSync('ip', ['-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `ip addr add ${a}: ${r.stderr}`);
    }
    const fds = openSteeredGroup({ transport: 'udp', address: '::1', port: 0 }, 3);
    const { got, sockets, port } = receiveThrough(fds, 'udp6');
    try {
      for (const a of from) await sendFrom('udp6', a, '::1', port, 4);
      await new Promise((r) => setTimeout(r, 100));
      for (const a of from) assert.deepEqual([...(got.get(a) ?? [])], [addressWorker(a, 3)], `${a}: ${JSON.stringify([...got].map(([k, v]) => [k, [...v]]))}`);
      assert.equal(new Set(from.map((a) => addressWorker(a, 3))).size, 3, 'the addresses belong to all three workers');
    } finally {
      for (const s of sockets) s.close();
    }
  });
});
