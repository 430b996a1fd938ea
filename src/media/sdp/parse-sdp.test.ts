import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp, SdpParseError } from './parse-sdp.js';
import { serializeSdp } from './serialize-sdp.js';
import { BARESIP_OFFER, HOLD_SENDONLY, HOLD_ZERO_ADDRESS, IPV6_ICE_OFFER, MULTI_STREAM, SIPP_OFFER } from '../../../test/support/sdp-fixtures.js';

test('parses a baresip offer: origin, connection, media line, attributes in order', () => {
  const sdp = parseSdp(BARESIP_OFFER);
  assert.deepEqual(sdp.origin, {
    username: '-',
    sessionId: '1863914291',
    sessionVersion: '3405207434',
    netType: 'IN',
    addrType: 'IP4',
    address: '192.168.1.23',
  });
  assert.equal(sdp.sessionName, '-');
  assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '192.168.1.23', suffix: '' });
  assert.deepEqual(sdp.attributes, [{ name: 'tool', value: 'baresip 1.0.0' }]);
  assert.deepEqual(sdp.lines, [{ type: 't', value: '0 0' }]);
  assert.equal(sdp.media.length, 1);
  const m = sdp.media[0];
  assert.equal(m.type, 'audio');
  assert.equal(m.port, 10918);
  assert.equal(m.portCount, null);
  assert.equal(m.proto, 'RTP/AVP');
  assert.deepEqual(m.formats, ['0', '8', '101']);
  assert.deepEqual(m.lines, [{ type: 'b', value: 'AS:80' }]);
  assert.deepEqual(
    m.attributes.map((a) => a.name),
    ['rtpmap', 'rtpmap', 'rtpmap', 'fmtp', 'sendrecv', 'label', 'rtcp-rsize', 'ssrc', 'ptime'],
  );
  assert.deepEqual(m.attributes[3], { name: 'fmtp', value: '101 0-15' });
  assert.deepEqual(m.attributes[4], { name: 'sendrecv', value: null });
});

test('every fixture round-trips byte for byte', () => {
  for (const text of [BARESIP_OFFER, SIPP_OFFER, IPV6_ICE_OFFER, HOLD_SENDONLY, HOLD_ZERO_ADDRESS, MULTI_STREAM]) {
    assert.equal(serializeSdp(parseSdp(text)), text);
  }
});

test('accepts a Buffer and LF-only line ends, and writes CRLF', () => {
  const lf = SIPP_OFFER.replace(/\r\n/g, '\n');
  const sdp = parseSdp(Buffer.from(lf));
  assert.equal(serializeSdp(sdp), SIPP_OFFER);
});

test('IPv6 connection and origin', () => {
  const sdp = parseSdp(IPV6_ICE_OFFER);
  assert.equal(sdp.origin.addrType, 'IP6');
  assert.equal(sdp.connection?.address, '2001:db8::10');
  assert.equal(sdp.media[0].proto, 'RTP/SAVP');
  const crypto = sdp.media[0].attributes.find((a) => a.name === 'crypto');
  assert.equal(crypto?.value, '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32');
});

test('unknown and session-level lines are kept where they were', () => {
  const sdp = parseSdp(MULTI_STREAM);
  assert.deepEqual(sdp.lines, [
    { type: 'i', value: 'a session with an information line' },
    { type: 'b', value: 'CT:1000' },
    { type: 't', value: '0 0' },
    { type: 'y', value: '0123456789' },
  ]);
  assert.equal(sdp.connection, null);
  assert.equal(sdp.media[1].connection?.address, '198.51.100.8');
  assert.equal(sdp.media[2].port, 0);
});

test('m= with a port count (RFC 8866 §5.14)', () => {
  const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 224.2.1.1/127/2\r\nt=0 0\r\nm=video 49170/2 RTP/AVP 31\r\n');
  assert.equal(sdp.media[0].port, 49170);
  assert.equal(sdp.media[0].portCount, 2);
  assert.equal(sdp.connection?.address, '224.2.1.1');
  assert.equal(sdp.connection?.suffix, '/127/2');
  assert.match(serializeSdp(sdp), /m=video 49170\/2 RTP\/AVP 31\r\n/);
  assert.match(serializeSdp(sdp), /c=IN IP4 224\.2\.1\.1\/127\/2\r\n/);
});

test('a description without s= gets s=- (RFC 8866 §5.3 makes it mandatory)', () => {
  const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
  assert.equal(sdp.sessionName, '-');
});

test('malformed descriptions are rejected with PAL_ERR_SDP_PARSE and the line number', () => {
  const bad: Array<[string, number]> = [
    ['', 0],
    ['o=- 1 1 IN IP4 10.0.0.1\r\n', 1],
    ['v=1\r\n', 1],
    ['v=0\r\ns=-\r\n', 2],
    ['v=0\r\no=- 1 IN IP4 10.0.0.1\r\n', 2],
    ['v=0\r\no=- x 1 IN IP4 10.0.0.1\r\n', 2],
    ['v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4\r\n', 4],
    ['v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nm=audio port RTP/AVP 0\r\n', 4],
    ['v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n', 4],
    ['v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nm=audio 4000\r\n', 4],
  ];
  for (const [text, line] of bad) {
    assert.throws(
      () => parseSdp(text),
      (e: unknown) => e instanceof SdpParseError && e.code === 'PAL_ERR_SDP_PARSE' && e.line === line,
      JSON.stringify(text),
    );
  }
});

test('refuses an oversized description', () => {
  const huge = SIPP_OFFER + 'a=x:' + 'y'.repeat(70000) + '\r\n';
  assert.throws(() => parseSdp(huge), SdpParseError);
  assert.throws(() => parseSdp(Buffer.from(huge)), SdpParseError);
});
