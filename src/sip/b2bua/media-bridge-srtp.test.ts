// SRTP through the relay: a leg that offers RTP/SAVP with a=crypto gets
// Palisade's own key; Palisade decrypts what one party sends and encrypts it
// again for the other, and neither party ever sees the other's key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { createMediaApi } from './media-bridge.js';
import { SrtpContext, newKeySalt, parseCrypto } from '../../media/srtp/index.js';
import { parseSdp } from '../../media/sdp/index.js';
import { checkEncryption, offersSrtp } from './encryption-policy.js';

const LO = '127.0.0.1';
// a range of its own, away from the other relay tests (20000 + pid spread)
const BASE = 42000 + ((process.pid * 8) % 4000) * 2;

function sdp(port: number, crypto: string[], proto = 'RTP/SAVP'): Buffer {
  const lines = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} ${proto} 0`,
    'a=rtpmap:0 PCMU/8000',
    ...crypto.map((c) => `a=crypto:${c}`),
    'a=sendrecv',
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

function rtp(seq: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

async function party(): Promise<{ sock: dgram.Socket; port: number; next(): Promise<Buffer> }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, LO, () => r()));
  const inbox: Buffer[] = [];
  const waiters: Array<(b: Buffer) => void> = [];
  sock.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  return {
    sock,
    port: (sock.address() as AddressInfo).port,
    next: () =>
      new Promise((resolve, reject) => {
        const m = inbox.shift();
        if (m) return resolve(m);
        const t = setTimeout(() => reject(new Error('no packet')), 2000);
        waiters.push((b) => {
          clearTimeout(t);
          resolve(b);
        });
      }),
  };
}

const cryptoOf = (body: Buffer) =>
  parseSdp(body)
    .media[0]!.attributes.filter((a) => a.name === 'crypto')
    .map((a) => a.value!);

test('SRTP both ways through the relay, each leg with its own keys', async () => {
  const api = createMediaApi({ address: LO, advertisedAddress: LO, portMin: BASE, portMax: BASE + 7, inactivityTimeoutMs: 0 });
  const a = await party();
  const b = await party();
  try {
    const relay = api.createRelay();
    const keyA = newKeySalt(); // what A sends with
    const keyB = newKeySalt(); // what B sends with
    const toB = relay.offerAnswer('a', sdp(a.port, [`1 AES_CM_128_HMAC_SHA1_80 inline:${keyA.toString('base64')}`, `2 AES_CM_128_HMAC_SHA1_32 inline:${keyA.toString('base64')}`]));
    const offered = cryptoOf(toB);
    assert.equal(offered.length, 1);
    const pb = parseCrypto(offered[0]!)!;
    assert.equal(pb.tag, 1);
    assert.equal(pb.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.ok(!pb.keySalt!.equals(keyA), "A's key is never passed to B");
    assert.ok(!toB.toString().includes(keyA.toString('base64')));
    assert.match(toB.toString(), /m=audio \d+ RTP\/SAVP 0/);
    const toA = relay.offerAnswer('b', sdp(b.port, [`1 AES_CM_128_HMAC_SHA1_80 inline:${keyB.toString('base64')}`]));
    const pa = parseCrypto(cryptoOf(toA)[0]!)!;
    assert.equal(pa.tag, 1, 'the answer carries the tag A offered');
    assert.ok(!pa.keySalt!.equals(keyB) && !pa.keySalt!.equals(pb.keySalt!), 'four distinct keys');
    assert.match(relay.describe(), / srtp ab$/);
    const relayA = parseSdp(toA).media[0]!.port; // where A sends
    const relayB = parseSdp(toB).media[0]!.port; // where B sends

    const aTx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', keyA);
    const bRx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', pb.keySalt!);
    const bTx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', keyB);
    const aRx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', pa.keySalt!);
    const voice = Buffer.alloc(160, 0x55);
    for (let i = 0; i < 3; i++) {
      a.sock.send(aTx.protectRtp(rtp(100 + i, 0xa, voice))!, relayA, LO);
      const got = await b.next();
      assert.ok(!got.subarray(12, 172).equals(voice), 'B receives ciphertext');
      assert.deepEqual(bRx.unprotectRtp(got), rtp(100 + i, 0xa, voice), 'B decrypts with the key Palisade gave it');
      b.sock.send(bTx.protectRtp(rtp(500 + i, 0xb, voice))!, relayB, LO);
      assert.deepEqual(aRx.unprotectRtp(await a.next()), rtp(500 + i, 0xb, voice));
    }
    // RTCP too (SRTCP)
    const sr = Buffer.concat([Buffer.from([0x80, 200, 0, 6]), Buffer.from('0000000a', 'hex'), Buffer.alloc(20, 7)]);
    a.sock.send(aTx.protectRtcp(sr)!, relayA + 1, LO);
    const bRtcp = dgram.createSocket('udp4');
    // B's RTCP port is b.port + 1: bind it to receive
    await new Promise<void>((r) => bRtcp.bind(b.port + 1, LO, () => r()));
    a.sock.send(aTx.protectRtcp(sr)!, relayA + 1, LO);
    const rtcpGot = await new Promise<Buffer>((r) => bRtcp.once('message', r));
    assert.deepEqual(bRx.unprotectRtcp(rtcpGot), sr);
    bRtcp.close();
    // a forged packet (right format, wrong key) is dropped, not relayed
    const forger = new SrtpContext('AES_CM_128_HMAC_SHA1_80', newKeySalt());
    a.sock.send(forger.protectRtp(rtp(200, 0xa, voice))!, relayA, LO);
    a.sock.send(aTx.protectRtp(rtp(201, 0xa, voice))!, relayA, LO);
    assert.deepEqual(bRx.unprotectRtp(await b.next()), rtp(201, 0xa, voice), 'only the authentic packet arrives');
    relay.close();
  } finally {
    a.sock.close();
    b.sock.close();
    await api.close();
  }
});

test('best-effort SRTP (RTP/AVP with a=crypto) answered without a=crypto: plain RTP on both legs', async () => {
  const api = createMediaApi({ address: LO, advertisedAddress: LO, portMin: BASE + 16, portMax: BASE + 23, inactivityTimeoutMs: 0 });
  const a = await party();
  const b = await party();
  try {
    const relay = api.createRelay();
    const toB = relay.offerAnswer('a', sdp(a.port, [`1 AES_CM_128_HMAC_SHA1_80 inline:${newKeySalt().toString('base64')}`], 'RTP/AVP'));
    assert.equal(cryptoOf(toB).length, 1, 'B is offered SRTP with a key of Palisade');
    const toA = relay.offerAnswer('b', sdp(b.port, [], 'RTP/AVP'));
    assert.equal(cryptoOf(toA).length, 0);
    const relayA = parseSdp(toA).media[0]!.port;
    const relayB = parseSdp(toB).media[0]!.port;
    const voice = Buffer.alloc(160, 0x55);
    a.sock.send(rtp(1, 0xa, voice), relayA, LO);
    assert.deepEqual(await b.next(), rtp(1, 0xa, voice), 'plain from A reaches B unchanged');
    b.sock.send(rtp(2, 0xb, voice), relayB, LO);
    assert.deepEqual(await a.next(), rtp(2, 0xb, voice));
    relay.close();
  } finally {
    a.sock.close();
    b.sock.close();
    await api.close();
  }
});

test('plain RTP offers stay plain; SAVP without a usable key is refused', async () => {
  const api = createMediaApi({ address: LO, advertisedAddress: LO, portMin: BASE + 8, portMax: BASE + 15, inactivityTimeoutMs: 0 });
  try {
    const relay = api.createRelay();
    const out = relay.offerAnswer('a', sdp(4000, [], 'RTP/AVP'));
    assert.equal(cryptoOf(out).length, 0);
    assert.throws(() => relay.offerAnswer('a', sdp(4000, [])), /without a=crypto/);
    assert.throws(() => relay.offerAnswer('a', sdp(4000, ['1 AEAD_AES_256_GCM inline:' + Buffer.alloc(44).toString('base64')])), /supported suite/);
    relay.close();
  } finally {
    await api.close();
  }
});

test('encryption: required refuses non-TLS signalling (403) and offers without SRTP (488)', () => {
  const req = { number: '1001', name: 'A', context: 'x', directMedia: false, encryption: 'required' as const };
  const opt = { number: '1002', name: 'B', context: 'x', directMedia: false };
  const srtpOffer = sdp(4000, [`1 AES_CM_128_HMAC_SHA1_80 inline:${newKeySalt().toString('base64')}`]);
  const plain = sdp(4000, [], 'RTP/AVP');
  const tls = { transport: 'tls' as const, address: LO, port: 5061 };
  const udp = { transport: 'udp' as const, address: LO, port: 5060 };
  const bTls = { contactUri: 'sip:1002@127.0.0.1;transport=tls', remote: tls };
  const bUdp = { contactUri: 'sip:1002@127.0.0.1', remote: udp };
  assert.equal(offersSrtp(srtpOffer), true);
  assert.equal(offersSrtp(plain), false);
  assert.equal(offersSrtp(Buffer.alloc(0)), false);
  assert.deepEqual(checkEncryption(opt, opt, udp, plain, [bUdp]), { ok: true, bindings: [bUdp] });
  const r1 = checkEncryption(req, opt, udp, srtpOffer, [bUdp]);
  assert.equal(!r1.ok && r1.status, 403);
  const r2 = checkEncryption(req, opt, tls, plain, [bUdp]);
  assert.equal(!r2.ok && r2.status, 488);
  assert.deepEqual(checkEncryption(req, opt, tls, srtpOffer, [bUdp]), { ok: true, bindings: [bUdp] });
  // to a callee that requires it: only its TLS contacts ring; none → 403
  assert.deepEqual(checkEncryption(opt, { ...opt, encryption: 'required' }, udp, srtpOffer, [bUdp, bTls]), { ok: true, bindings: [bTls] });
  const r3 = checkEncryption(opt, { ...opt, encryption: 'required' }, udp, srtpOffer, [bUdp]);
  assert.equal(!r3.ok && r3.status, 403);
  const r4 = checkEncryption(opt, { ...opt, encryption: 'required' }, tls, plain, [bTls]);
  assert.equal(!r4.ok && r4.status, 488);
});
