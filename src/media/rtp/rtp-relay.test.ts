// The relay on real loopback UDP sockets: party sockets stand for phones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { RtpRelay } from './rtp-relay.js';
import { RtpRelayError, type RelaySession } from './relay-session.js';
import { parseSdp } from '../sdp/parse-sdp.js';
import { mediaTargets } from '../sdp/sdp-query.js';

const LO = '127.0.0.1';
// A range unlikely to meet other tests; each test closes its relay.
const BASE = 46000 + (process.pid % 200) * 20;

interface Party {
  sock: dgram.Socket;
  port: number;
  inbox: Array<{ msg: Buffer; from: number; address: string }>;
  waiters: Array<() => void>;
}

async function party(address = LO): Promise<Party> {
  const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  const p: Party = { sock, port: (sock.address() as AddressInfo).port, inbox: [], waiters: [] };
  sock.on('message', (msg, rinfo) => {
    p.inbox.push({ msg, from: rinfo.port, address: rinfo.address });
    for (const w of p.waiters.splice(0)) w();
  });
  return p;
}

function receive(p: Party, count = 1, ms = 2000): Promise<Party['inbox']> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} packet(s), have ${p.inbox.length}`)), ms);
    const check = (): void => {
      if (p.inbox.length >= count) {
        clearTimeout(timer);
        resolve(p.inbox.splice(0, count));
      } else p.waiters.push(check);
    };
    check();
  });
}

const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function send(p: Party, data: Buffer, port: number, address = LO): Promise<void> {
  return new Promise((r, j) => p.sock.send(data, port, address, (e) => (e ? j(e) : r())));
}

function rtpPacket(seq: number, size = 172): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80;
  b.writeUInt16BE(seq, 2);
  for (let i = 12; i < size; i++) b[i] = (seq + i) & 0xff;
  return b;
}

async function withRelay(
  opts: Partial<ConstructorParameters<typeof RtpRelay>[0]>,
  fn: (relay: RtpRelay, parties: Party[]) => Promise<void>,
  partyAddrs: string[] = [LO, LO],
): Promise<void> {
  const relay = new RtpRelay({ address: LO, portMin: BASE, portMax: BASE + 19, ...opts });
  const parties = await Promise.all(partyAddrs.map((a) => party(a)));
  try {
    await fn(relay, parties);
  } finally {
    for (const p of parties) p.sock.close();
    await relay.close();
  }
}

async function connected(relay: RtpRelay, a: Party, b: Party): Promise<RelaySession> {
  const s = relay.createSession();
  await s.ready;
  s.setRemote('a', { address: LO, port: a.port });
  s.setRemote('b', { address: LO, port: b.port });
  return s;
}

test("RTP crosses both ways byte-identical, out of the other leg's port", async () => {
  await withRelay({}, async (relay, [a, b]) => {
    const s = await connected(relay, a, b);
    assert.equal(s.legs.a.rtcpPort, s.legs.a.port + 1);
    assert.notEqual(s.legs.a.port, s.legs.b.port);
    for (let i = 0; i < 5; i++) await send(a, rtpPacket(i), s.legs.a.port);
    const atB = await receive(b, 5);
    atB.forEach((p, i) => {
      assert.deepEqual(p.msg, rtpPacket(i));
      assert.equal(p.from, s.legs.b.port, 'symmetric: B hears the relay from the port it sends to');
    });
    const back = rtpPacket(999, 60);
    await send(b, back, s.legs.b.port);
    const [atA] = await receive(a);
    assert.deepEqual(atA.msg, back);
    assert.equal(atA.from, s.legs.a.port);
    const st = s.legs.a.stats();
    assert.equal(st.rtp.packetsIn, 5);
    assert.equal(st.rtp.bytesIn, 5 * 172);
    assert.equal(st.rtp.packetsOut, 1);
    assert.equal(st.rtp.bytesOut, 60);
    assert.equal(s.legs.b.stats().rtp.packetsOut, 5);
  });
});

test("RTCP is relayed on port + 1 to the party's RTCP port", async () => {
  await withRelay(
    {},
    async (relay, [a, b, aRtcp, bRtcp]) => {
      const s = relay.createSession();
      await s.ready;
      s.setRemote('a', { address: LO, port: a.port, rtcpPort: aRtcp.port });
      s.setRemote('b', { address: LO, port: b.port, rtcpPort: bRtcp.port });
      const sr = Buffer.from('80c8000600000001deadbeef', 'hex');
      await send(aRtcp, sr, s.legs.a.port + 1);
      const [got] = await receive(bRtcp);
      assert.deepEqual(got.msg, sr);
      assert.equal(got.from, s.legs.b.rtcpPort);
      await send(bRtcp, sr, s.legs.b.rtcpPort);
      assert.deepEqual((await receive(aRtcp))[0].msg, sr);
      assert.equal(b.inbox.length + a.inbox.length, 0, 'nothing leaked onto the RTP sockets');
      assert.equal(s.legs.a.stats().rtcp.packetsIn, 1);
    },
    [LO, LO, LO, LO],
  );
});

test("symmetric RTP: sends to where the party's packets come from, not the SDP port (NAT)", async () => {
  await withRelay({}, async (relay, [a, b]) => {
    const s = relay.createSession();
    await s.ready;
    // A's SDP names a private port that nothing listens on; its NAT maps it to a.port.
    s.setRemote('a', { address: LO, port: 9 });
    s.setRemote('b', { address: LO, port: b.port });
    await send(a, rtpPacket(1), s.legs.a.port);
    await receive(b);
    await send(b, rtpPacket(2), s.legs.b.port);
    const [atA] = await receive(a);
    assert.deepEqual(atA.msg, rtpPacket(2));
    assert.deepEqual(s.legs.a.stats().rtpTarget, { address: LO, port: a.port, latched: true });
  });
});

test('once latched, packets from another source are dropped and counted (no hijack)', async () => {
  await withRelay(
    {},
    async (relay, [a, b, attacker]) => {
      const s = await connected(relay, a, b);
      await send(a, rtpPacket(1), s.legs.a.port);
      await receive(b);
      for (let i = 0; i < 10; i++) await send(attacker, Buffer.from('spray'), s.legs.a.port);
      await send(a, rtpPacket(2), s.legs.a.port);
      const [next] = await receive(b);
      assert.deepEqual(next.msg, rtpPacket(2), 'B only ever hears A');
      await quiet(30);
      assert.equal(b.inbox.length, 0);
      assert.equal(s.legs.a.stats().rtp.dropped, 10);
      // and B's media still goes to A, not to the attacker
      await send(b, rtpPacket(3), s.legs.b.port);
      assert.deepEqual((await receive(a))[0].msg, rtpPacket(3));
      await quiet(30);
      assert.equal(attacker.inbox.length, 0);
    },
    [LO, LO, '127.0.0.2'],
  );
});

test('a source that sprayed first loses the stream to the party at its exact SDP address', async () => {
  await withRelay(
    {},
    async (relay, [a, b, attacker]) => {
      const s = await connected(relay, a, b);
      await send(attacker, Buffer.from('first!'), s.legs.a.port);
      await receive(b); // the first packet is relayed: nothing better was known
      await send(a, rtpPacket(1), s.legs.a.port);
      assert.deepEqual((await receive(b))[0].msg, rtpPacket(1));
      await send(attacker, Buffer.from('again'), s.legs.a.port);
      await send(b, rtpPacket(2), s.legs.b.port);
      assert.deepEqual((await receive(a))[0].msg, rtpPacket(2));
      await quiet(30);
      assert.equal(b.inbox.length, 0, 'attacker dropped after the SDP source latched');
      assert.equal(attacker.inbox.length, 0);
      assert.equal(s.legs.a.stats().rtp.dropped, 1);
    },
    [LO, LO, '127.0.0.2'],
  );
});

test('hold with a=sendonly keeps forwarding (music on hold flows to the held party)', async () => {
  await withRelay({}, async (relay, [a, b]) => {
    const s = await connected(relay, a, b);
    await send(a, rtpPacket(1), s.legs.a.port);
    await receive(b);
    const hold = parseSdp(`v=0\r\no=- 1 2 IN IP4 ${LO}\r\ns=-\r\nc=IN IP4 ${LO}\r\nt=0 0\r\nm=audio ${a.port} RTP/AVP 0\r\na=sendonly\r\n`);
    const t = mediaTargets(hold)[0];
    assert.ok(t !== null);
    assert.equal(t.direction, 'sendonly');
    s.setRemote('a', t);
    for (let i = 2; i < 5; i++) await send(a, rtpPacket(i), s.legs.a.port);
    assert.equal((await receive(b, 3)).length, 3);
    await send(b, rtpPacket(9), s.legs.b.port);
    assert.deepEqual((await receive(a))[0].msg, rtpPacket(9));
  });
});

test('hold with c=0.0.0.0: nothing is sent to the held party until it gives an address again', async () => {
  await withRelay({}, async (relay, [a, b]) => {
    const s = await connected(relay, a, b);
    await send(a, rtpPacket(1), s.legs.a.port);
    await receive(b);
    s.setRemote('a', { address: '0.0.0.0', port: a.port });
    await send(b, rtpPacket(2), s.legs.b.port);
    await quiet(50);
    assert.equal(a.inbox.length, 0);
    assert.equal(s.legs.a.stats().rtp.noTarget, 1);
    s.setRemote('a', { address: LO, port: a.port });
    await send(b, rtpPacket(3), s.legs.b.port);
    assert.deepEqual((await receive(a))[0].msg, rtpPacket(3));
  });
});

test('exhaustion, then close releases the ports and the next session reuses the bound sockets', async () => {
  await withRelay({ portMin: BASE, portMax: BASE + 3 }, async (relay) => {
    const s1 = relay.createSession();
    await s1.ready;
    assert.throws(
      () => relay.createSession(),
      (e: unknown) => (e as { code?: string }).code === 'PAL_ERR_RTP_PORTS_EXHAUSTED',
    );
    assert.equal(relay.stats().portPairsFree, 0);
    s1.close();
    s1.close();
    assert.equal(relay.stats().portPairsFree, 2);
    assert.equal(relay.stats().pooledSockets, 4);
    const s2 = relay.createSession();
    await s2.ready;
    assert.deepEqual(relay.stats(), {
      sessions: 1,
      portPairsFree: 0,
      portPairsInUse: 2,
      pooledSockets: 0,
      binds: 4,
      poolHits: 4,
      strayPackets: 0,
      sendErrors: 0,
      receiveErrors: 0,
      retiredPorts: 0,
    });
    assert.throws(() => s1.setRemote('a', { address: LO, port: 4000 }), RtpRelayError);
  });
});

test('with free ports to spare, the bound sockets of a closed session are taken again once their quarantine is over', async () => {
  let now = 10_000;
  await withRelay({ portMin: BASE, portMax: BASE + 15, now: () => now }, async (relay) => {
    const s1 = relay.createSession();
    await s1.ready;
    s1.close();
    assert.equal(relay.stats().pooledSockets, 4);
    now += 100;
    const s2 = relay.createSession();
    await s2.ready;
    assert.equal(relay.stats().poolHits, 0, 'within the quarantine: fresh ports, late packets of s1 meet no call');
    assert.equal(relay.stats().binds, 8);
    now += 500;
    const s3 = relay.createSession();
    await s3.ready;
    assert.equal(relay.stats().poolHits, 4, "after it: s1's sockets, not a bind and a close per call");
    assert.equal(relay.stats().binds, 8);
    assert.deepEqual([s3.legs.a.port, s3.legs.b.port].sort(), [s1.legs.a.port, s1.legs.b.port].sort());
    s2.close();
    s3.close();
  });
});

test('without a pool, close really unbinds: the ports can be bound by someone else', async () => {
  await withRelay({ portMin: BASE, portMax: BASE + 3, socketPoolMax: 0 }, async (relay) => {
    const s = relay.createSession();
    await s.ready;
    const ports = [s.legs.a.port, s.legs.a.rtcpPort, s.legs.b.port, s.legs.b.rtcpPort];
    s.close();
    await quiet(20);
    for (const port of ports) {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r, j) => {
        sock.once('error', j);
        sock.bind(port, LO, () => r());
      });
      sock.close();
    }
  });
});

test('packets to a pooled socket after close are counted as stray, not relayed', async () => {
  await withRelay({}, async (relay, [a, b]) => {
    const s = await connected(relay, a, b);
    const port = s.legs.a.port;
    s.close();
    await send(a, rtpPacket(1), port);
    await quiet(50);
    assert.equal(b.inbox.length, 0);
    assert.equal(relay.stats().strayPackets, 1);
  });
});

test('a port held by another process makes session.ready reject and the pair is retired', async () => {
  const squatter = dgram.createSocket('udp4');
  await new Promise<void>((r) => squatter.bind(BASE + 2, LO, () => r()));
  try {
    await withRelay({ portMin: BASE, portMax: BASE + 7 }, async (relay) => {
      const s = relay.createSession();
      await assert.rejects(s.ready, (e: unknown) => e instanceof RtpRelayError && e.code === 'PAL_ERR_RTP_BIND');
      s.close();
      assert.equal(relay.stats().retiredPorts, 1);
      assert.equal(relay.stats().portPairsFree, 3, 'the good pair came back, the squatted one did not');
    });
  } finally {
    squatter.close();
  }
});

test("inactivity: lastActivity moves with packets; 'inactive' fires once per quiet period", async () => {
  let now = 1_000_000;
  await withRelay({ inactivityTimeoutMs: 30_000, now: () => now }, async (relay, [a, b]) => {
    const s = await connected(relay, a, b);
    let fired = 0;
    s.on('inactive', () => fired++);
    now += 10_000;
    await send(a, rtpPacket(1), s.legs.a.port);
    await receive(b);
    assert.equal(s.lastActivity, now);
    now += 29_000;
    assert.deepEqual(relay.checkInactivity(), []);
    now += 2_000;
    assert.deepEqual(relay.checkInactivity(), [s]);
    relay.checkInactivity();
    assert.equal(fired, 1);
    await send(b, rtpPacket(2), s.legs.b.port);
    await receive(a);
    now += 31_000;
    relay.checkInactivity();
    assert.equal(fired, 2);
  });
});

test('setRemote refuses what it cannot send to', async () => {
  await withRelay({}, async (relay) => {
    const s = relay.createSession();
    await s.ready;
    assert.throws(() => s.setRemote('a', { address: 'phone.example', port: 4000 }), RtpRelayError);
    assert.throws(() => s.setRemote('a', { address: '::1', port: 4000 }), RtpRelayError);
    assert.throws(() => s.setRemote('a', { address: LO, port: 70000 }), RtpRelayError);
  });
});

test('IPv6 relay on ::1', async (t) => {
  const probe = dgram.createSocket('udp6');
  const ok = await new Promise<boolean>((r) => {
    probe.once('error', () => r(false));
    probe.bind(0, '::1', () => r(true));
  });
  probe.close();
  if (!ok) {
    t.skip('no ::1 on this machine');
    return;
  }
  const relay = new RtpRelay({ address: '::1', portMin: BASE, portMax: BASE + 19 });
  const [a, b] = await Promise.all([party('::1'), party('::1')]);
  try {
    const s = relay.createSession();
    await s.ready;
    s.setRemote('a', { address: '0:0:0:0:0:0:0:1', port: a.port });
    s.setRemote('b', { address: '::1', port: b.port });
    await send(a, rtpPacket(1), s.legs.a.port, '::1');
    assert.deepEqual((await receive(b))[0].msg, rtpPacket(1));
    await send(b, rtpPacket(2), s.legs.b.port, '::1');
    assert.deepEqual((await receive(a))[0].msg, rtpPacket(2));
    assert.equal(s.legs.a.stats().rtpTarget?.latched, true);
  } finally {
    a.sock.close();
    b.sock.close();
    await relay.close();
  }
});
