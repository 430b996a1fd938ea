// The RTP endpoint on real loopback sockets from the relay's pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { RtpRelay } from './rtp-relay.js';
import { RtpEndpoint, type RtcpReportInfo } from './rtp-endpoint.js';

const BASE = 47000 + (process.pid % 100) * 10;

async function peer(): Promise<{ sock: dgram.Socket; port: number; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const p = { sock, port: (sock.address() as AddressInfo).port, got: [] as Buffer[] };
  sock.on('message', (m) => p.got.push(m));
  return p;
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('sequence numbers +1, timestamps +160 per frame, one SSRC, marker on the first packet of each talkspurt', async () => {
  const relay = new RtpRelay({ address: '127.0.0.1', portMin: BASE, portMax: BASE + 9 });
  const ep = new RtpEndpoint(relay.allocatePair(), '127.0.0.1');
  await ep.ready();
  const far = await peer();
  try {
    ep.setRemote('127.0.0.1', far.port);
    const frame = new Uint8Array(160).fill(0xff);
    ep.sendAudio(0, frame);
    ep.sendAudio(0, frame);
    ep.skip(); // a 20 ms gap: the next packet starts a talkspurt
    ep.sendAudio(8, frame);
    await settle();
    assert.equal(far.got.length, 3);
    const h = far.got.map((b) => ({ m: b[1]! >> 7, pt: b[1]! & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), len: b.length }));
    assert.deepEqual(
      h.map((x) => x.m),
      [1, 0, 1],
    );
    assert.deepEqual(
      h.map((x) => x.pt),
      [0, 0, 8],
    );
    assert.equal((h[1]!.seq - h[0]!.seq) & 0xffff, 1);
    assert.equal((h[2]!.seq - h[1]!.seq) & 0xffff, 1);
    assert.equal((h[1]!.ts - h[0]!.ts) >>> 0, 160);
    assert.equal((h[2]!.ts - h[1]!.ts) >>> 0, 320);
    assert.equal(new Set(h.map((x) => x.ssrc)).size, 1);
    assert.equal(h[0]!.len, 172);
  } finally {
    ep.close();
    far.sock.close();
    await relay.close();
  }
});

test('receive: payload-type dispatch, symmetric latching to the source, other sources dropped, RTCP SR/RR exchanged', async () => {
  const relay = new RtpRelay({ address: '127.0.0.1', portMin: BASE, portMax: BASE + 9 });
  const a = new RtpEndpoint(relay.allocatePair(), '127.0.0.1');
  const b = new RtpEndpoint(relay.allocatePair(), '127.0.0.1');
  await Promise.all([a.ready(), b.ready()]);
  const intruder = await peer();
  try {
    // a only knows a wrong port from "SDP": latching must find b anyway
    a.setRemote('127.0.0.1', 9);
    b.setRemote('127.0.0.1', a.localPort);
    const got: Array<[number, number]> = [];
    a.on(0, (p, info) => got.push([info.payloadType, p.length]));
    a.on(101, (p, info) => got.push([info.payloadType, p.length]));
    b.sendAudio(0, new Uint8Array(160));
    b.send(101, Buffer.from([1, 0, 0, 160]), true, b.timestamp);
    await settle();
    assert.deepEqual(got, [
      [0, 160],
      [101, 4],
    ]);
    assert.deepEqual(a.remote, { address: '127.0.0.1', port: b.localPort, latched: true });
    const fake = Buffer.alloc(172);
    fake[0] = 0x80;
    intruder.sock.send(fake, a.localPort, '127.0.0.1');
    await settle();
    assert.equal(got.length, 2);
    assert.equal(a.stats.dropped, 1);
    // RTCP: b sent media → SR; a only received → RR with a report block about b
    const reports: RtcpReportInfo[] = [];
    a.onRtcp = (r) => reports.push(r);
    const bReports: RtcpReportInfo[] = [];
    b.onRtcp = (r) => bReports.push(r);
    b.sendRtcp();
    await settle();
    a.sendRtcp();
    await settle();
    assert.equal(reports[0]?.type, 'SR');
    assert.equal(reports[0]?.ssrc, b.ssrc);
    assert.equal(bReports[0]?.type, 'RR');
    assert.equal(bReports[0]?.cumulativeLost, 0);
    assert.equal(a.stats.rtcpSent, 1);
  } finally {
    a.close();
    b.close();
    intruder.sock.close();
    await relay.close();
  }
});

test('endpoint pairs come from the relay port range and go back to its pool', async () => {
  const relay = new RtpRelay({ address: '127.0.0.1', portMin: BASE, portMax: BASE + 3 });
  const p1 = relay.allocatePair();
  const p2 = relay.allocatePair();
  assert.throws(() => relay.allocatePair(), /no free RTP port pair/);
  assert.equal(p1.rtcp.port, p1.rtp.port + 1);
  assert.equal(relay.endpointCount, 2);
  p1.release();
  p1.release();
  const p3 = relay.allocatePair();
  assert.equal(p3.rtp.port, p1.rtp.port);
  assert.equal(relay.stats().poolHits, 2);
  p2.release();
  p3.release();
  await relay.close();
});

test('a payload handler that throws drops that packet, counted; the process and the endpoint go on', async () => {
  const relay = new RtpRelay({ address: '127.0.0.1', portMin: BASE + 6, portMax: BASE + 9 });
  const ep = new RtpEndpoint(relay.allocatePair(), '127.0.0.1');
  const got: number[] = [];
  ep.on(3, (payload) => {
    if (payload[0] === 0xff) throw new Error('a frame no decoder expected');
    got.push(payload[0]!);
  });
  const p = await peer();
  const packet = (seq: number, first: number): Buffer => {
    const b = Buffer.alloc(12 + 33);
    b[0] = 0x80;
    b[1] = 3;
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(seq * 160, 4);
    b.writeUInt32BE(0x1234, 8);
    b[12] = first;
    return b;
  };
  const rtpPort = ep.localPort;
  p.sock.send(packet(1, 0xff), rtpPort, '127.0.0.1');
  await settle();
  p.sock.send(packet(2, 0x0d), rtpPort, '127.0.0.1');
  await settle();
  assert.deepEqual(got, [0x0d]);
  assert.equal(relay.stats().receiveErrors, 1);
  p.sock.close();
  ep.close();
  await relay.close();
});
