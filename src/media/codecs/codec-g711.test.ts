// G.711 tables against the standard's known code points and error bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALAW_TO_ULAW, ULAW_TO_ALAW, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw, transcode, ULAW_DECODE, ALAW_DECODE } from './codec-g711.js';

test('µ-law known vectors: silence is 0xFF/0x7F, full scale 0x80/0x00', () => {
  assert.equal(encodeUlaw(Int16Array.of(0))[0], 0xff);
  assert.equal(ULAW_DECODE[0xff], 0);
  assert.equal(ULAW_DECODE[0x7f], 0);
  assert.equal(ULAW_DECODE[0x80], 32124);
  assert.equal(ULAW_DECODE[0x00], -32124);
  assert.equal(encodeUlaw(Int16Array.of(32767))[0], 0x80);
  assert.equal(encodeUlaw(Int16Array.of(-32768))[0], 0x00);
});

test('A-law known vectors: the even bits are inverted (0xD5 / 0x55 around zero)', () => {
  assert.equal(encodeAlaw(Int16Array.of(0))[0], 0xd5);
  assert.equal(encodeAlaw(Int16Array.of(-1))[0], 0x55);
  assert.equal(ALAW_DECODE[0xd5], 8);
  assert.equal(ALAW_DECODE[0x55], -8);
  assert.equal(ALAW_DECODE[0xaa], 32256);
  assert.equal(ALAW_DECODE[0x2a], -32256);
});

test('round trip error stays within half a quantisation step (≤ 1/32 of the value, or 8 near zero)', () => {
  const pcm = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) pcm[i] = i - 32768;
  for (const [enc, dec] of [
    [encodeUlaw, decodeUlaw],
    [encodeAlaw, decodeAlaw],
  ] as const) {
    const back = dec(enc(pcm));
    for (let i = 0; i < pcm.length; i++) {
      const x = pcm[i]!;
      if (Math.abs(x) > 32000) continue; // clipping region
      const err = Math.abs(back[i]! - x);
      assert.ok(err <= Math.max(16, Math.abs(x) / 16), `sample ${x} → ${back[i]}`);
    }
  }
});

test('decode(encode(decode(c))) is the identity on every code (tables agree)', () => {
  for (let c = 0; c < 256; c++) {
    const u = ULAW_DECODE[c]!;
    assert.equal(ULAW_DECODE[encodeUlaw(Int16Array.of(u))[0]!], u);
    const a = ALAW_DECODE[c]!;
    assert.equal(ALAW_DECODE[encodeAlaw(Int16Array.of(a))[0]!], a);
  }
});

test('µ↔A transcoding tables keep the value within a quantisation step', () => {
  for (let c = 0; c < 256; c++) {
    const u = ULAW_DECODE[c]!;
    const a = ALAW_DECODE[ULAW_TO_ALAW[c]!]!;
    assert.ok(Math.abs(a - u) <= Math.max(16, Math.abs(u) / 16), `µ ${c} (${u}) → A ${a}`);
    const a2 = ALAW_DECODE[c]!;
    const u2 = ULAW_DECODE[ALAW_TO_ULAW[c]!]!;
    assert.ok(Math.abs(a2 - u2) <= Math.max(16, Math.abs(a2) / 16), `A ${c} (${a2}) → µ ${u2}`);
  }
  const frame = Uint8Array.from({ length: 160 }, (_, i) => i);
  assert.deepEqual(transcode(transcode(frame, ULAW_TO_ALAW), ALAW_TO_ULAW).length, 160);
});

test('a 1 kHz tone survives µ-law → A-law transcoding (SNR > 30 dB)', () => {
  const pcm = Int16Array.from({ length: 800 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  const out = decodeAlaw(transcode(encodeUlaw(pcm), ULAW_TO_ALAW));
  let sig = 0;
  let noise = 0;
  for (let i = 0; i < pcm.length; i++) {
    sig += pcm[i]! ** 2;
    noise += (pcm[i]! - out[i]!) ** 2;
  }
  assert.ok(10 * Math.log10(sig / noise) > 30);
});
