import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAnswer, buildOffer, negotiateOffer, readAnswer, MediaNegotiationError } from './media-sdp.js';
import { parseSdp } from './sdp/parse-sdp.js';

const offer = (fmts: string, extra: string[] = []): string =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000', `m=audio 4000 RTP/AVP ${fmts}`, ...extra, ''].join(
    '\r\n',
  );

test('negotiation: the offerer order wins among PCMU/PCMA; telephone-event kept; other streams refused with port 0', () => {
  const o = offer('8 0 101', ['a=rtpmap:101 telephone-event/8000']);
  const { media, index, sdp } = negotiateOffer(o);
  assert.equal(index, 1);
  assert.deepEqual(media.send, { name: 'PCMA', pt: 8 });
  assert.equal(media.dtmfPt, 101);
  assert.equal(media.address, '192.0.2.1');
  assert.equal(media.port, 4000);
  const answer = parseSdp(buildAnswer({ address: '127.0.0.1', port: 30000 }, sdp, index, media));
  assert.equal(answer.media.length, 2);
  assert.equal(answer.media[0]!.port, 0);
  assert.deepEqual(answer.media[1]!.formats, ['8', '0', '101']);
});

test('RFC 3264 §6.1: GSM offered first is sent as well as received; G.711 first still wins; G.722 and Opus alone are not acceptable', () => {
  const g = negotiateOffer(offer('3 0'));
  assert.deepEqual(g.media.send, { name: 'GSM', pt: 3 });
  assert.deepEqual(
    g.media.receive.map((r) => r.name),
    ['GSM', 'PCMU'],
  );
  assert.deepEqual(negotiateOffer(offer('0 3')).media.send, { name: 'PCMU', pt: 0 });
  const only = negotiateOffer(offer('3'));
  assert.deepEqual(only.media.send, { name: 'GSM', pt: 3 });
  const answer = parseSdp(buildAnswer({ address: '127.0.0.1', port: 30000 }, only.sdp, only.index, only.media));
  assert.deepEqual(answer.media[1]!.formats, ['3']);
  assert.throws(() => negotiateOffer(offer('9 111', ['a=rtpmap:111 opus/48000/2'])), MediaNegotiationError);
});

test('our offer lists PCMU, PCMA, GSM and telephone-event 101; an A-law or a GSM answer is read back', () => {
  const o = parseSdp(buildOffer({ address: '127.0.0.1', port: 30002 }));
  assert.deepEqual(o.media[0]!.formats, ['0', '8', '3', '101']);
  const m = readAnswer(offer('8 101', ['a=rtpmap:101 telephone-event/8000']));
  assert.equal(m.send?.name, 'PCMA');
  assert.equal(m.dtmfPt, 101);
  assert.deepEqual(readAnswer(offer('3')).send, { name: 'GSM', pt: 3 });
});

test('RFC 3264 §6.1: the answer mirrors the offer direction (hold: sendonly → recvonly, inactive → inactive)', () => {
  for (const [dir, want] of [
    ['sendonly', 'recvonly'],
    ['inactive', 'inactive'],
    ['recvonly', 'sendonly'],
    ['sendrecv', 'sendrecv'],
  ] as const) {
    const { media, index, sdp } = negotiateOffer(offer('0', [`a=${dir}`]));
    assert.equal(media.direction, dir);
    const answer = buildAnswer({ address: '127.0.0.1', port: 30000 }, sdp, index, media);
    assert.match(answer, new RegExp(`a=${want}\\r\\n`));
  }
});
