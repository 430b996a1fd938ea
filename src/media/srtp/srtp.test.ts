// RFC 3711 Appendix B test vectors, the libsrtp reference packets for the
// AES_CM_128_HMAC_SHA1_80 policy, and the ROC / replay rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { chooseCrypto, deriveKey, deriveSessionKeys, formatCrypto, KeyLabel, newKeySalt, parseCrypto, SrtpContext } from './index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('RFC 3711 B.3: key derivation', () => {
  const mk = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const ms = hex('0EC675AD498AFEEBB6960B3AABE6');
  assert.equal(deriveKey(mk, ms, KeyLabel.RtpEncryption, 16).toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
  assert.equal(deriveKey(mk, ms, KeyLabel.RtpSalt, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  assert.equal(deriveKey(mk, ms, KeyLabel.RtpAuth, 20).toString('hex').toUpperCase(), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  const k = deriveSessionKeys(mk, ms, false);
  assert.equal(k.encKey.toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
});

test('RFC 3711 B.2: AES-CM keystream', () => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const ks = createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(16 * 0xff02));
  const block = (n: number) =>
    ks
      .subarray(n * 16, n * 16 + 16)
      .toString('hex')
      .toUpperCase();
  assert.equal(block(0x0000), 'E03EAD0935C95E80E166B16DD92B4EB4');
  assert.equal(block(0x0001), 'D23513162B02D0F72A43A2FE4A5F97AB');
  assert.equal(block(0x0002), '41E95B3BB0A2E8DD477901E4FCA894C0');
  assert.equal(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  assert.equal(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  assert.equal(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
});

// libsrtp test/srtp_driver.c: key = the B.3 master key || salt, SSRC 0xcafebabe, seq 0x1234
const MASTER = hex('E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6');
const RTP_PLAIN = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
const SRTP = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb');
const RTCP_PLAIN = hex('81c8000bcafebabe' + 'ab'.repeat(16));
const SRTCP = hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798');

test('SRTP protect/unprotect match the libsrtp reference packet (AES_CM_128_HMAC_SHA1_80)', () => {
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', MASTER);
  assert.deepEqual(tx.protectRtp(RTP_PLAIN), SRTP);
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', MASTER);
  assert.deepEqual(rx.unprotectRtp(SRTP), RTP_PLAIN);
  const tx32 = new SrtpContext('AES_CM_128_HMAC_SHA1_32', MASTER);
  assert.deepEqual(tx32.protectRtp(RTP_PLAIN), SRTP.subarray(0, SRTP.length - 6));
});

test('SRTCP protect/unprotect match the libsrtp reference packet', () => {
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', MASTER);
  assert.deepEqual(tx.protectRtcp(RTCP_PLAIN), SRTCP);
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', MASTER);
  assert.deepEqual(rx.unprotectRtcp(SRTCP), RTCP_PLAIN);
  assert.equal(rx.unprotectRtcp(SRTCP), null, 'an SRTCP replay is refused');
  assert.equal(rx.counters.replays, 1);
});

test('a flipped bit fails authentication; a replayed packet is refused; the wrong key is refused', () => {
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', MASTER);
  const bad = Buffer.from(SRTP);
  bad[20]! ^= 1;
  assert.equal(rx.unprotectRtp(bad), null);
  assert.equal(rx.counters.authFailures, 1);
  assert.ok(rx.unprotectRtp(SRTP));
  assert.equal(rx.unprotectRtp(SRTP), null);
  assert.equal(rx.counters.replays, 1);
  const other = new SrtpContext('AES_CM_128_HMAC_SHA1_80', newKeySalt());
  assert.equal(other.unprotectRtp(SRTP), null);
});

function rtp(seq: number, ssrc = 0x11223344, payload = Buffer.from('payload-' + seq)): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

test('the rollover counter follows a sequence wrap on both ends, with reordering across it', () => {
  const key = newKeySalt();
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  const seqs = [65530, 65531, 65533, 65532, 65534, 65535, 0, 2, 1, 3, 4, 65533 + 0 /* late, before wrap */];
  const sent = seqs.slice(0, 11).map((s) => tx.protectRtp(rtp(s))!);
  for (let i = 0; i < sent.length; i++) assert.deepEqual(rx.unprotectRtp(sent[i]!), rtp(seqs[i]!), `seq ${seqs[i]}`);
  // a packet from before the wrap arriving late still authenticates with ROC 0 (it's a replay here)
  assert.equal(rx.unprotectRtp(sent[2]!), null);
  assert.equal(rx.counters.replays, 1);
  assert.equal(rx.counters.authFailures, 0);
  // a different sender SSRC keeps its own counter
  const x = tx.protectRtp(rtp(100, 0x55555555))!;
  assert.deepEqual(rx.unprotectRtp(x), rtp(100, 0x55555555));
});

test('packets older than the 64-packet window are refused, newer ones inside it accepted once', () => {
  const key = newKeySalt();
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  const pk = Array.from({ length: 100 }, (_, i) => tx.protectRtp(rtp(1000 + i))!);
  assert.ok(rx.unprotectRtp(pk[99]!));
  assert.ok(rx.unprotectRtp(pk[50]!), 'within the window');
  assert.equal(rx.unprotectRtp(pk[50]!), null, 'twice');
  assert.equal(rx.unprotectRtp(pk[10]!), null, 'older than the window');
});

test('RTP with CSRCs and a header extension: only the payload is encrypted', () => {
  const key = newKeySalt();
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  const hdr = hex('92000005' + '00000320' + 'aabbccdd' + '01020304' + '05060708' + 'bede0001' + '11223344');
  const pkt = Buffer.concat([hdr, Buffer.from('secret audio')]);
  const enc = tx.protectRtp(pkt)!;
  assert.deepEqual(enc.subarray(0, hdr.length), hdr);
  assert.notDeepEqual(enc.subarray(hdr.length, pkt.length), Buffer.from('secret audio'));
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  assert.deepEqual(rx.unprotectRtp(enc), pkt);
});

test('SDES a=crypto parsing and choice (RFC 4568)', () => {
  const k = newKeySalt();
  const line = formatCrypto(1, 'AES_CM_128_HMAC_SHA1_80', k);
  assert.match(line, /^1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/);
  assert.deepEqual(parseCrypto(line)?.keySalt, k);
  assert.equal(parseCrypto('1 AES_CM_128_HMAC_SHA1_80 inline:' + k.toString('base64') + '|2^20|1:4')?.keySalt, null, 'MKI is not supported');
  const chosen = chooseCrypto([
    '1 AEAD_AES_256_GCM inline:' + Buffer.alloc(44).toString('base64'),
    '2 AES_CM_128_HMAC_SHA1_32 inline:' + k.toString('base64') + '|2^31',
    '3 AES_CM_128_HMAC_SHA1_80 inline:' + k.toString('base64'),
  ]);
  assert.equal(chosen?.tag, 2);
  assert.equal(chosen?.suite, 'AES_CM_128_HMAC_SHA1_32');
  assert.equal(chooseCrypto(['1 AES_CM_128_HMAC_SHA1_80 inline:' + k.toString('base64') + ' UNENCRYPTED_SRTP']), null);
  assert.equal(chooseCrypto(['x AES_CM_128_HMAC_SHA1_80 inline:abc']), null);
});

test('a context remembers at most 32 SSRCs', () => {
  const key = newKeySalt();
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  for (let ssrc = 1; ssrc <= 1000; ssrc++) tx.protectRtp(rtp(1, ssrc));
  assert.ok((tx as unknown as { rtpStreams: Map<number, unknown> }).rtpStreams.size <= 32);
  const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', key);
  assert.deepEqual(rx.unprotectRtp(tx.protectRtp(rtp(2, 1000))!), rtp(2, 1000));
});
