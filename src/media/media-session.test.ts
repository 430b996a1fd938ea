import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaSession } from './media-session.js';
import type { MediaLeg } from './media-leg.js';
import { negotiateOffer, type NegotiatedMedia } from './media-sdp.js';
import { parseSdp } from './sdp/parse-sdp.js';
import { mediaTargets } from './sdp/sdp-query.js';

/** the part of a MediaLeg the session drives: what it was last configured with */
function fakeLeg(): { leg: MediaLeg; configured: NegotiatedMedia[] } {
  const configured: NegotiatedMedia[] = [];
  const leg = { port: 30000, configure: (m: NegotiatedMedia) => void configured.push(m) } as unknown as MediaLeg;
  return { leg, configured };
}

const phone = (dir: string, port = 4000, address = '192.0.2.1'): string =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', `a=${dir}`, ''].join('\r\n');

const held = (m: NegotiatedMedia): boolean => m.direction === 'sendonly' || m.direction === 'inactive';
const version = (b: Buffer): string => parseSdp(b).origin.sessionVersion;
const dir = (b: Buffer): string => mediaTargets(parseSdp(b))[0]!.direction;

test('RFC 3264 §8.4: a hold offer is answered recvonly and the leg stops sending; resume brings both back', () => {
  const { leg, configured } = fakeLeg();
  const s = new MediaSession(leg, '127.0.0.1');
  const first = s.answer(negotiateOffer(phone('sendrecv')));
  assert.equal(dir(first), 'sendrecv');
  assert.equal(held(configured.at(-1)!), false);
  const hold = s.answer(negotiateOffer(phone('sendonly', 4002, '192.0.2.9')));
  assert.equal(dir(hold), 'recvonly');
  assert.equal(held(configured.at(-1)!), true, 'nothing is sent to a phone that holds');
  assert.equal(configured.at(-1)!.address, '192.0.2.9', 'a new c= address is taken');
  assert.equal(configured.at(-1)!.port, 4002, 'a new port too');
  const resume = s.answer(negotiateOffer(phone('sendrecv')));
  assert.equal(dir(resume), 'sendrecv');
  assert.equal(held(configured.at(-1)!), false);
});

test('RFC 3264 §8: the o= version goes up by one with each changed description and stays for the same one', () => {
  const { leg } = fakeLeg();
  const s = new MediaSession(leg, '127.0.0.1');
  const o = negotiateOffer(phone('sendrecv'));
  const a1 = s.answer(o);
  const a1again = s.answer(o); // the 183 and the 200 carry the same answer
  assert.equal(version(a1), '1');
  assert.equal(a1again.toString(), a1.toString());
  const a2 = s.answer(negotiateOffer(phone('sendonly')));
  assert.equal(version(a2), '2');
  const o3 = s.offer('inactive');
  assert.equal(version(o3), '3');
  assert.equal(parseSdp(o3).origin.sessionId, parseSdp(a1).origin.sessionId, 'one session id for the leg');
});

test('a bridge sets the answer direction from the other leg; our own offer is applied only once answered; a refused offer leaves things as they were', () => {
  const { leg, configured } = fakeLeg();
  const s = new MediaSession(leg, '127.0.0.1');
  s.answer(negotiateOffer(phone('sendrecv')));
  // the phone offered sendrecv but the other leg answered sendonly (it holds): we say so, and keep sending
  const a = s.answer(negotiateOffer(phone('sendrecv')), 'sendonly');
  assert.equal(dir(a), 'sendonly');
  assert.equal(held(configured.at(-1)!), false);
  const n = configured.length;
  assert.equal(dir(s.offer('sendonly')), 'sendonly');
  assert.equal(s.awaitingAnswer, true);
  assert.equal(configured.length, n, 'nothing changes before the answer');
  s.offerRefused();
  assert.equal(s.awaitingAnswer, false);
  assert.equal(s.direction, 'sendonly', 'the direction agreed before');
  s.offer('inactive');
  const m = s.takeAnswer(phone('inactive'));
  assert.equal(held(m), true);
  assert.equal(configured.length, n + 1);
});
