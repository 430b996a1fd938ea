import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchedLength, batchFrames, decodeFrame, encodeBatch, encodeFrame, FrameKind } from './ipc.js';

test('a forwarded packet keeps its transport, source, flow and listen point', () => {
  const data = Buffer.from('OPTIONS sip:a SIP/2.0\r\n\r\n');
  const f = decodeFrame(encodeFrame(FrameKind.Inbound, data, { transport: 'tcp', address: '2001:db8::1', port: 5062, flow: 7 }, 2));
  assert.deepEqual(f, { kind: FrameKind.Inbound, remote: { transport: 'tcp', address: '2001:db8::1', port: 5062, flow: 7 }, listenIndex: 2, data });
  const u = decodeFrame(encodeFrame(FrameKind.StreamOut, data, { transport: 'udp', address: '127.0.0.3', port: 5060 }, 0));
  assert.deepEqual(u?.remote, { transport: 'udp', address: '127.0.0.3', port: 5060 });
  assert.equal(u?.kind, FrameKind.StreamOut);
  assert.equal(decodeFrame(Buffer.from([1, 0, 0])), null);
  assert.equal(decodeFrame(Buffer.from([1, 9, 0, 0, 0, 0, 0, 0, 0, 0])), null);
});

test('frames for one worker travel in one datagram and come out whole, in order; a cut tail is dropped', () => {
  const pa = {
    kind: FrameKind.Inbound,
    data: Buffer.from('REGISTER sip:x SIP/2.0\r\n\r\n'),
    remote: { transport: 'udp', address: '127.0.0.10', port: 5060 },
    listenIndex: 0,
  } as const;
  const pb = { kind: FrameKind.StreamOut, data: Buffer.alloc(1400, 0x41), remote: { transport: 'tls', address: '::1', port: 5061, flow: 3 }, listenIndex: 1 } as const;
  const a = encodeFrame(pa.kind, pa.data, pa.remote, pa.listenIndex);
  const b = encodeFrame(pb.kind, pb.data, pb.remote, pb.listenIndex);
  const batch = encodeBatch([pa, pb]);
  assert.equal(batch.length, batchedLength(pa) + batchedLength(pb));
  assert.deepEqual([...batchFrames(batch)], [a, b]);
  assert.deepEqual([...batchFrames(encodeBatch([pa]))], [a]);
  // a datagram cut short (it never is on loopback, but a frame must not be read past its end)
  assert.deepEqual([...batchFrames(batch.subarray(0, batch.length - 10))], [a]);
  assert.deepEqual([...batchFrames(Buffer.from([0]))], []);
});
