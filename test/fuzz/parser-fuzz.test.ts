// Parser fuzz test: deterministic mutations of the RFC 4475 messages and of
// realistic captured-style messages. Nothing but SipParseError may escape any
// public entry point of the message layer, and every input is bounded in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../../src/sip-message/parser.js';
import { checkRequest } from '../../src/sip-message/sanity.js';
import { buildResponse } from '../../src/sip-message/response.js';
import { parseAuthHeader } from '../../src/sip-message/auth-header.js';
import { StreamFramer } from '../../src/sip-message/stream-framer.js';
import { SipParseError } from '../../src/sip-message/errors.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';
import { sharedTestdata } from '../helpers/paths.js';

/** mulberry32: small, fast, deterministic */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Messages in the shape real phones and trunks send (Linphone-, Yealink-
// and Asterisk-style REGISTER/INVITE/200/NOTIFY), for coverage of the
// common path alongside the torture set.
const CAPTURED = [
  'REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK.Xy7aB3;rport\r\nFrom: <sip:1001@pbx.example.com>;tag=Ab3dEf\r\nTo: sip:1001@pbx.example.com\r\nCSeq: 21 REGISTER\r\nCall-ID: 7dfWq1Zr0a\r\nMax-Forwards: 70\r\nSupported: replaces, outbound, gruu, path\r\nAccept: application/sdp\r\nAccept: text/plain\r\nContact: <sip:1001@192.168.1.20;transport=udp>;+sip.instance="<urn:uuid:5b1a3c4e-0000-4000-8000-00163e000001>";expires=600\r\nAuthorization: Digest realm="pbx.example.com", nonce="a1b2c3d4e5", algorithm=MD5, username="1001", uri="sip:pbx.example.com", response="0123456789abcdef0123456789abcdef", cnonce="xyz", nc=00000001, qop=auth\r\nUser-Agent: Linphone/5.2 (belle-sip/5.2)\r\nContent-Length: 0\r\n\r\n',
  'INVITE sip:1002@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/TCP [2001:db8::20]:5060;branch=z9hG4bK1d8e6f;rport\r\nMax-Forwards: 70\r\nFrom: "Alice Smith" <sip:1001@pbx.example.com>;tag=9f2c\r\nTo: <sip:1002@pbx.example.com>\r\nCall-ID: 0a1b2c3d@2001:db8::20\r\nCSeq: 1 INVITE\r\nContact: <sip:1001@[2001:db8::20]:5060;transport=tcp>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY\r\nSupported: 100rel, timer, replaces\r\nSession-Expires: 1800;refresher=uac\r\nContent-Type: application/sdp\r\nContent-Length: 129\r\n\r\nv=0\r\no=- 1 1 IN IP6 2001:db8::20\r\ns=-\r\nc=IN IP6 2001:db8::20\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n',
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-524287-1---9a8b;received=203.0.113.9;rport=61234\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKabc\r\nRecord-Route: <sip:10.0.0.1;lr;ftag=9f2c>, <sip:10.0.0.2;lr>\r\nFrom: <sip:1001@pbx.example.com>;tag=9f2c\r\nTo: <sip:1002@pbx.example.com>;tag=as5f3e2b1\r\nCall-ID: 4d2a@10.0.0.5\r\nCSeq: 102 INVITE\r\nServer: Asterisk PBX 20.5.0\r\nContact: <sip:1002@10.0.0.7:5060>\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n',
  'NOTIFY sip:1001@192.168.1.20:5060 SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK77\r\nf: <sip:pbx.example.com>;tag=n1\r\nt: <sip:1001@pbx.example.com>;tag=s1\r\ni: notify-1@192.0.2.1\r\nCSeq: 4 NOTIFY\r\no: message-summary\r\nSubscription-State: active;expires=3600\r\nc: application/simple-message-summary\r\nl: 43\r\n\r\nMessages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n',
  'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK.Xy7aB3;rport=5060;received=198.51.100.4\r\nFrom: <sip:1001@pbx.example.com>;tag=Ab3dEf\r\nTo: <sip:1001@pbx.example.com>;tag=srv1\r\nCall-ID: 7dfWq1Zr0a\r\nCSeq: 20 REGISTER\r\nWWW-Authenticate: Digest realm="pbx.example.com", nonce="Zm9vYmFy", opaque="x", algorithm=SHA-256, qop="auth"\r\nContent-Length: 0\r\n\r\n',
].map(withContentLength);

/** rewrite Content-Length / l: to the real body size so the seeds are valid */
function withContentLength(s: string): Buffer {
  const split = s.indexOf('\r\n\r\n') + 4;
  const bodyLen = Buffer.byteLength(s.slice(split), 'latin1');
  return Buffer.from(s.slice(0, split).replace(/^(Content-Length|l): \d+/m, `$1: ${bodyLen}`) + s.slice(split), 'latin1');
}

const INSERTS = ['\r', '\n', '\0', ':', '<', '>', '"', ',', ';', '\\', ' ', '\t', '%', '@', '\r\n', '\r\n ', '\xff', '[', ']', '='].map((s) => Buffer.from(s, 'latin1'));

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 8)) {
      case 0: // byte flips
        for (let n = 0; n < 1 + rnd() * 8 && b.length > 0; n++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        break;
      case 1: // truncation
        b = b.subarray(0, at);
        break;
      case 2: {
        // duplicate a line
        const s = b.lastIndexOf(0x0a, at) + 1;
        let e = b.indexOf(0x0a, at);
        if (e < 0) e = b.length;
        const line = b.subarray(s, Math.min(e + 1, b.length));
        b = Buffer.concat([b.subarray(0, s), line, line, b.subarray(s)]);
        break;
      }
      case 3: {
        // huge header
        const size = Math.floor(rnd() * 20000);
        const hdr = Buffer.from('X-Huge: ' + 'a'.repeat(size) + '\r\n');
        const s = b.indexOf(0x0a) + 1;
        b = Buffer.concat([b.subarray(0, s), hdr, b.subarray(s)]);
        break;
      }
      case 4:
      case 5: // structural characters
        b = Buffer.concat([b.subarray(0, at), INSERTS[Math.floor(rnd() * INSERTS.length)]!, b.subarray(at)]);
        break;
      case 6: // delete a span
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 20)))]);
        break;
      default: {
        // swap two lines' worth of bytes: splice a random chunk elsewhere
        const from = Math.floor(rnd() * b.length);
        const chunk = b.subarray(from, from + Math.floor(rnd() * 60));
        b = Buffer.concat([b.subarray(0, at), chunk, b.subarray(at)]);
      }
    }
  }
  return b;
}

function onlyParseErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
  }
}

/** read every structured accessor the upper layers use */
function touch(m: SipMessage): void {
  onlyParseErrors(() => m.vias);
  onlyParseErrors(() => m.topVia);
  onlyParseErrors(() => m.from);
  onlyParseErrors(() => m.to);
  onlyParseErrors(() => m.callId);
  onlyParseErrors(() => m.cseq);
  onlyParseErrors(() => m.contacts);
  onlyParseErrors(() => m.getInt('expires'));
  onlyParseErrors(() => m.getInt('max-forwards'));
  if (m.isRequest) onlyParseErrors(() => m.ruri);
  for (const n of ['route', 'record-route', 'allow', 'supported', 'require']) onlyParseErrors(() => m.getAll(n));
  for (const n of ['authorization', 'proxy-authorization', 'www-authenticate']) {
    const v = m.get(n);
    if (v !== undefined) onlyParseErrors(() => parseAuthHeader(v));
  }
  if (m.isRequest) {
    onlyParseErrors(() => checkRequest(m, { supportedExtensions: new Set(['replaces']), acceptedContentTypes: new Set(['application/sdp']) }));
    buildResponse(m, 400, undefined, { toTag: 'x1' }).toBuffer();
  }
  m.toBuffer();
}

const seeds = (() => {
  const dir = sharedTestdata('rfc4475');
  const out = [...CAPTURED];
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.dat')) out.push(readFileSync(join(dir, f)));
  return out;
})();

test('the hand-built seed messages are themselves valid', () => {
  for (const m of CAPTURED) {
    const r = parseMessage(m, { stream: true });
    assert.ok(r.ok, r.ok ? '' : r.error);
    touch(r.msg);
  }
});

test('parser fuzz: 24,000 mutated messages, only SipParseError ever escapes', () => {
  const rnd = prng(0x5eed4475);
  const N = 24000;
  let parsed = 0;
  let worst = 0;
  let framer = new StreamFramer();
  for (let i = 0; i < N; i++) {
    const input = mutate(seeds[i % seeds.length]!, rnd);
    const t0 = performance.now();
    const r = parseMessage(input, { stream: i % 5 === 0 });
    // INTERNAL means an unexpected exception was caught inside the parser: a bug
    if (!r.ok) assert.notEqual(r.code, 'PAL_ERR_SIP_INTERNAL', `input #${i}: ${r.error}`);
    const m = r.ok ? r.msg : r.msg;
    if (r.ok) parsed++;
    if (m) touch(m);
    // framing errors are sticky (the connection would be closed): start afresh
    if (framer.push(input).error) framer = new StreamFramer();
    const dt = performance.now() - t0;
    if (dt > worst) worst = dt;
    assert.ok(dt < 250, `input #${i} took ${dt.toFixed(1)} ms`);
  }
  // the corpus must exercise the success path too, not only rejections
  assert.ok(parsed > N / 10, `only ${parsed} of ${N} mutated inputs parsed`);
});

test('stream framer fuzz: random chunking of a valid stream yields the same messages', () => {
  const rnd = prng(42);
  const stream = Buffer.concat(CAPTURED.flatMap((m) => [m, Buffer.from('\r\n\r\n')]));
  for (let round = 0; round < 300; round++) {
    const f = new StreamFramer();
    const got: Buffer[] = [];
    let pos = 0;
    while (pos < stream.length) {
      const n = 1 + Math.floor(rnd() * 200);
      const r = f.push(stream.subarray(pos, pos + n));
      assert.equal(r.error, undefined);
      got.push(...r.messages);
      pos += n;
    }
    assert.equal(got.length, CAPTURED.length);
    for (let k = 0; k < got.length; k++) assert.deepEqual(got[k], CAPTURED[k]);
  }
});
