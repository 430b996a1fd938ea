import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import { buildResponse } from '../../sip-message/response.js';
import { AuthStage } from './auth-stage.js';
import { RoutingStage } from './routing-stage.js';

const remote: Remote = { transport: 'udp', address: '192.0.2.7', port: 5060 };
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER';

function request(method: string, ruri = 'sip:1002@pbx', toTag = ''): SipMessage {
  const text = `${method} ${ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@pbx>;tag=1\r\nTo: <sip:1002@pbx>${toTag}\r\nCall-ID: c1\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.error);
  return r.msg;
}

function rig(challenge = false) {
  const sent: SipMessage[] = [];
  const handle = { respond: (r: SipMessage) => void sent.push(r), respondStateless: (r: SipMessage) => void sent.push(r) };
  const auth = new AuthStage(challenge ? (req) => buildResponse(req, 401, 'Unauthorized', {}) : () => null);
  const routing = new RoutingStage({ userAgent: 'Palisade', allow: ALLOW, auth });
  return { sent, handle, routing };
}

test('a registered route serves its method; a second route for it is refused', () => {
  const { handle, routing } = rig();
  const seen: string[] = [];
  routing.register('MESSAGE', (_tx, req) => (seen.push(req.method), true));
  routing.route(handle, request('MESSAGE'), remote);
  assert.deepEqual(seen, ['MESSAGE']);
  assert.equal(routing.has('MESSAGE'), true);
  assert.throws(() => routing.register('message', () => true), /exists already/);
});

test('out of a dialog, an unrouted request (or one its route declines) is challenged first, then refused with 405 and Allow', () => {
  const a = rig(true);
  a.routing.route(a.handle, request('NOTIFY'), remote);
  assert.deepEqual(
    a.sent.map((r) => r.status),
    [401],
  );
  const b = rig(false);
  b.routing.register('SUBSCRIBE', () => false);
  b.routing.route(b.handle, request('SUBSCRIBE'), remote);
  assert.equal(b.sent[0]!.status, 405);
  assert.equal(b.sent[0]!.get('allow'), ALLOW);
});

test('inside a dialog, requests go to the dialog owner; RFC 3261 §12.2.2: no dialog → 481', () => {
  const { sent, handle, routing } = rig();
  routing.route(handle, request('BYE', 'sip:1002@pbx', ';tag=x'), remote);
  assert.equal(sent.at(-1)!.status, 481, 'no owner yet');
  const owned: string[] = [];
  routing.setDialogs({
    inDialog: (_tx, req) => (owned.push(req.method), req.callId === 'c1'),
    ack: () => owned.push('ACK'),
    cancel: () => owned.push('CANCEL'),
    stray2xx: () => owned.push('2xx'),
  });
  routing.route(handle, request('BYE', 'sip:1002@pbx', ';tag=x'), remote);
  routing.ack(request('ACK'));
  routing.cancel(request('CANCEL'));
  assert.deepEqual(owned, ['BYE', 'ACK', 'CANCEL']);
  assert.equal(sent.length, 1);
  assert.throws(() => routing.setDialogs({ inDialog: () => false, ack() {}, cancel() {}, stray2xx() {} }), /owner/);
});

test('RFC 3261 §11.2: OPTIONS to the server is answered 200 with Allow, Accept, Supported; to a user it is challenged first', () => {
  const a = rig(true);
  a.routing.route(a.handle, request('OPTIONS', 'sip:pbx'), remote);
  assert.equal(a.sent[0]!.status, 200);
  assert.deepEqual([a.sent[0]!.get('allow'), a.sent[0]!.get('accept'), a.sent[0]!.get('supported'), a.sent[0]!.get('server')], [ALLOW, 'application/sdp', 'replaces', 'Palisade']);
  a.routing.route(a.handle, request('OPTIONS', 'sip:1002@pbx'), remote);
  assert.equal(a.sent[1]!.status, 401);
  const b = rig(false);
  b.routing.route(b.handle, request('OPTIONS', 'sip:1002@pbx'), remote);
  assert.equal(b.sent[0]!.status, 200, 'authenticated');
});

test('a method a module routes (PUBLISH) is named in the Allow of the answers from then on', () => {
  const served = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER']);
  const sent: SipMessage[] = [];
  const handle = { respond: (r: SipMessage) => void sent.push(r), respondStateless: (r: SipMessage) => void sent.push(r) };
  const routing = new RoutingStage({
    userAgent: 'Palisade',
    get allow() {
      return [...served].join(', ');
    },
    auth: new AuthStage(() => null),
    served: (m) => served.add(m),
  });
  routing.route(handle, request('OPTIONS', 'sip:pbx'), remote);
  assert.doesNotMatch(sent[0]!.get('allow') ?? '', /PUBLISH/);
  routing.register('publish', () => true);
  routing.route(handle, request('OPTIONS', 'sip:pbx'), remote);
  assert.equal(sent[1]!.status, 200);
  assert.match(sent[1]!.get('allow') ?? '', /\bPUBLISH\b/);
});
