import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from './parse-sdp.js';
import { isHold, mediaDirection, mediaTargets } from './sdp-query.js';
import { BARESIP_OFFER, HOLD_SENDONLY, HOLD_ZERO_ADDRESS, IPV6_ICE_OFFER, MULTI_STREAM, SIPP_OFFER } from '../../../test/support/sdp-fixtures.js';

test('mediaTargets: where each stream wants to receive', () => {
  assert.deepEqual(mediaTargets(parseSdp(BARESIP_OFFER)), [
    {
      address: '192.168.1.23',
      port: 10918,
      rtcpPort: 10919,
      rtcpAddress: '192.168.1.23',
      direction: 'sendrecv',
      formats: ['0', '8', '101'],
      rtcpMux: false,
    },
  ]);
  assert.deepEqual(mediaTargets(parseSdp(IPV6_ICE_OFFER)), [
    {
      address: '2001:db8::10',
      port: 49170,
      rtcpPort: 49171,
      rtcpAddress: '2001:db8::10',
      direction: 'sendrecv',
      formats: ['111', '0', '101'],
      rtcpMux: true,
    },
  ]);
});

test('mediaTargets: media-level c= overrides, rejected stream is null, a=rtcp port used', () => {
  const t = mediaTargets(parseSdp(MULTI_STREAM));
  assert.equal(t.length, 3);
  assert.equal(t[0]?.address, '198.51.100.7');
  assert.equal(t[0]?.rtcpPort, 40001);
  assert.equal(t[1]?.address, '198.51.100.8');
  assert.equal(t[1]?.direction, 'recvonly');
  assert.equal(t[2], null);
});

test('a=rtcp on another port (RFC 3605) is honoured', () => {
  const sdp = parseSdp(SIPP_OFFER + 'a=rtcp:7777 IN IP4 10.1.1.1\r\n');
  assert.equal(mediaTargets(sdp)[0]?.rtcpPort, 7777);
  assert.equal(mediaTargets(sdp)[0]?.rtcpAddress, '10.1.1.1');
});

test('session-level direction applies when the m-line has none (RFC 8866 §6.7)', () => {
  const sdp = parseSdp(SIPP_OFFER.replace('t=0 0\r\n', 't=0 0\r\na=inactive\r\n'));
  assert.equal(mediaDirection(sdp, sdp.media[0]), 'inactive');
  assert.equal(isHold(sdp), true);
});

test('isHold: sendonly, inactive and c=0.0.0.0 are holds; sendrecv and recvonly are not', () => {
  assert.equal(isHold(parseSdp(HOLD_SENDONLY)), true);
  assert.equal(isHold(parseSdp(HOLD_ZERO_ADDRESS)), true);
  assert.equal(isHold(parseSdp(BARESIP_OFFER)), false);
  assert.equal(isHold(parseSdp(SIPP_OFFER.replace('a=rtpmap:0 PCMU/8000', 'a=recvonly'))), false);
  assert.equal(isHold(parseSdp(SIPP_OFFER.replace('a=rtpmap:0 PCMU/8000', 'a=inactive'))), true);
  assert.equal(isHold(parseSdp(IPV6_ICE_OFFER.replace('c=IN IP6 2001:db8::10', 'c=IN IP6 ::'))), true);
});

test('isHold: only when every active stream is held; no active stream is no hold', () => {
  // audio sendrecv, video recvonly: not a hold
  assert.equal(isHold(parseSdp(MULTI_STREAM)), false);
  const allRejected = parseSdp(SIPP_OFFER.replace('m=audio 6000', 'm=audio 0') + 'a=sendonly\r\n');
  assert.equal(isHold(allRejected), false);
});
