import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from './parse-sdp.js';
import { serializeSdp } from './serialize-sdp.js';
import { rewriteForRelay, SdpRewriteError } from './rewrite-for-relay.js';
import { LegOrigin } from './leg-origin.js';
import { isHold, mediaTargets } from './sdp-query.js';
import { BARESIP_OFFER, HOLD_SENDONLY, HOLD_ZERO_ADDRESS, IPV6_ICE_OFFER, MULTI_STREAM, SIPP_OFFER } from '../../../test/support/sdp-fixtures.js';

const RELAY = '203.0.113.1';

test('baresip offer: c= and port point at the relay, everything else is kept', () => {
  const src = parseSdp(BARESIP_OFFER);
  const out = rewriteForRelay(src, [{ address: RELAY, port: 20000 }]);
  const text = serializeSdp(out);
  assert.equal(
    text,
    [
      'v=0',
      `o=palisade 1863914291 3405207434 IN IP4 ${RELAY}`,
      's=-',
      `c=IN IP4 ${RELAY}`,
      't=0 0',
      'a=tool:baresip 1.0.0',
      'm=audio 20000 RTP/AVP 0 8 101',
      'b=AS:80',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=sendrecv',
      'a=label:1',
      'a=rtcp-rsize',
      'a=ssrc:1434960183 cname:7c2a3d4f-2b1e-4c55-9a0f-1f2e3d4c5b6a',
      'a=ptime:20',
      '',
    ].join('\r\n'),
  );
  assert.ok(!text.includes('192.168.1.23'), 'no address of the sender leaks to the far side');
  assert.equal(src.media[0].port, 10918, 'the input is not modified');
});

test('SIPp offer: the sender username leaves the o= line, session id is kept, version bumps on request', () => {
  const out = rewriteForRelay(parseSdp(SIPP_OFFER), [{ address: RELAY, port: 20002 }], {
    sessionVersionBump: true,
    originAddress: '198.51.100.99',
  });
  assert.deepEqual(out.origin, {
    username: 'palisade',
    sessionId: '53655765',
    sessionVersion: '2353687638',
    netType: 'IN',
    addrType: 'IP4',
    address: '198.51.100.99',
  });
  assert.deepEqual(mediaTargets(out), [{ address: RELAY, port: 20002, rtcpPort: 20003, rtcpAddress: RELAY, direction: 'sendrecv', formats: ['0'], rtcpMux: false }]);
});

test('IPv6 with ICE: IN IP6 relay address, a=rtcp fixed to port+1, ICE removed, crypto kept', () => {
  const out = rewriteForRelay(parseSdp(IPV6_ICE_OFFER), [{ address: '2001:db8::1', port: 30000 }]);
  const text = serializeSdp(out);
  assert.match(text, /^o=palisade 2890844526 2890844527 IN IP6 2001:db8::1\r$/m);
  assert.match(text, /^c=IN IP6 2001:db8::1\r$/m);
  assert.match(text, /^m=audio 30000 RTP\/SAVP 111 0 101\r$/m);
  assert.match(text, /^a=rtcp:30001 IN IP6 2001:db8::1\r$/m);
  assert.match(text, /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/m);
  assert.match(text, /^a=rtcp-mux\r$/m);
  for (const gone of ['candidate', 'ice-ufrag', 'ice-pwd', 'end-of-candidates', '2001:db8::10']) {
    assert.ok(!text.includes(gone), `${gone} must be gone`);
  }
});

test('IPv4 relay for an IPv6 sender switches the address type (IN IP4)', () => {
  const out = rewriteForRelay(parseSdp(IPV6_ICE_OFFER), [{ address: RELAY, port: 30000 }]);
  assert.deepEqual(out.connection, { netType: 'IN', addrType: 'IP4', address: RELAY, suffix: '' });
  assert.equal(out.origin.addrType, 'IP4');
});

test('sendonly hold passes through: direction kept, relay address advertised', () => {
  const out = rewriteForRelay(parseSdp(HOLD_SENDONLY), [{ address: RELAY, port: 20000 }]);
  assert.equal(isHold(out), true);
  assert.equal(mediaTargets(out)[0]?.direction, 'sendonly');
  assert.equal(out.connection?.address, RELAY);
});

test('c=0.0.0.0 hold passes through unchanged so the far side sees the hold (RFC 3264 §8.4)', () => {
  const src = parseSdp(HOLD_ZERO_ADDRESS);
  assert.equal(isHold(src), true);
  const out = rewriteForRelay(src, [{ address: RELAY, port: 20000 }]);
  assert.equal(out.connection?.address, '0.0.0.0');
  assert.equal(out.media[0].port, 20000);
  assert.equal(isHold(out), true);
  assert.equal(out.origin.address, RELAY, 'o= names the relay, not 0.0.0.0 nor the sender');
});

test('multiple m-lines: each gets its own relay port, media-level c= rewritten, rejected stays rejected', () => {
  const src = parseSdp(MULTI_STREAM);
  const out = rewriteForRelay(src, [
    { address: RELAY, port: 20000 },
    { address: RELAY, port: 20002 },
    { address: RELAY, port: 20004 },
  ]);
  assert.deepEqual(
    out.media.map((m) => [m.type, m.port, m.connection?.address]),
    [
      ['audio', 20000, RELAY],
      ['video', 20002, RELAY],
      ['audio', 0, RELAY],
    ],
  );
  assert.deepEqual(
    out.media[0].attributes.find((a) => a.name === 'rtcp'),
    { name: 'rtcp', value: '20001' },
  );
  assert.equal(mediaTargets(out)[1]?.direction, 'recvonly');
  assert.equal(mediaTargets(out)[2], null);
  const text = serializeSdp(out);
  assert.ok(!text.includes('198.51.100'), 'no sender address left');
  assert.match(text, /\r\ny=0123456789\r\n/);
  assert.match(text, /\r\nb=AS:512\r\n/);
});

test('port 0 in the relay list rejects a stream the sender offered (RFC 3264 §6)', () => {
  const out = rewriteForRelay(parseSdp(MULTI_STREAM), [
    { address: RELAY, port: 20000 },
    { address: RELAY, port: 0 },
    { address: RELAY, port: 0 },
  ]);
  assert.deepEqual(
    out.media.map((m) => m.port),
    [20000, 0, 0],
  );
  assert.deepEqual(
    mediaTargets(out).map((t) => t === null),
    [false, true, true],
  );
});

test('a session-level c= with a stream rejected first takes the first active stream address', () => {
  const text = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0\r\n';
  const out = rewriteForRelay(parseSdp(text), [
    { address: '127.0.0.9', port: 0 },
    { address: RELAY, port: 20000 },
  ]);
  assert.equal(out.connection?.address, RELAY);
  assert.equal(mediaTargets(out)[1]?.address, RELAY);
});

test('the relay list must have one entry per m-line', () => {
  assert.throws(() => rewriteForRelay(parseSdp(MULTI_STREAM), [{ address: RELAY, port: 1 }]), SdpRewriteError);
});

test('LegOrigin: same session id for the leg, version +1 only when the description changes (RFC 3264 §8)', () => {
  const leg = new LegOrigin({ address: RELAY });
  const first = rewriteForRelay(parseSdp(BARESIP_OFFER), [{ address: RELAY, port: 20000 }], { origin: leg });
  assert.equal(first.origin.sessionId, '1863914291');
  assert.equal(first.origin.sessionVersion, '3405207434');
  assert.equal(first.origin.username, 'palisade');

  // The same offer again (a session refresh): identical SDP, identical version.
  const again = rewriteForRelay(parseSdp(BARESIP_OFFER), [{ address: RELAY, port: 20000 }], { origin: leg });
  assert.equal(serializeSdp(again), serializeSdp(first));

  // Hold: content differs, version goes up by exactly one.
  const hold = rewriteForRelay(parseSdp(HOLD_SENDONLY), [{ address: RELAY, port: 20000 }], { origin: leg });
  assert.equal(hold.origin.sessionId, '1863914291');
  assert.equal(hold.origin.sessionVersion, '3405207435');

  // After a transfer the leg is fed from another party with another origin:
  // the leg's o= keeps its own session id and continues its own sequence.
  const other = rewriteForRelay(parseSdp(SIPP_OFFER), [{ address: RELAY, port: 20000 }], { origin: leg });
  assert.equal(other.origin.sessionId, '1863914291');
  assert.equal(other.origin.sessionVersion, '3405207436');
  assert.equal(other.origin.address, RELAY);

  // A new offer with unchanged content still bumps when asked to.
  const bumped = rewriteForRelay(parseSdp(SIPP_OFFER), [{ address: RELAY, port: 20000 }], { origin: leg, sessionVersionBump: true });
  assert.equal(bumped.origin.sessionVersion, '3405207437');
  assert.equal(leg.currentVersion, '3405207437');
});

test('versions beyond 2^53 are incremented exactly', () => {
  const text = 'v=0\r\no=- 18446744073709551614 18446744073709551614 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const out = rewriteForRelay(parseSdp(text), [{ address: RELAY, port: 20000 }], { sessionVersionBump: true });
  assert.equal(out.origin.sessionId, '18446744073709551614');
  assert.equal(out.origin.sessionVersion, '18446744073709551615');
});
