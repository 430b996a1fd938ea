// The MESSAGE route's decisions, with the SIP around it in memory: the
// challenge comes first, a body over max_body is 413 (RFC 3428 §8), the
// rate per sender is 503, writing to too many recipients is spam (403 and a
// Flood event for the IDS), a flood from one address is reported once, and
// every accepted message gets the same 202 whatever the recipient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../test/support/sip-transaction-rig.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { SecurityEvent } from '../../core/security-event.js';
import { buildResponse } from '../../sip-message/response.js';
import { LogRoot } from '../../observability/logger.js';
import type { Remote } from '../../transport/types.js';
import { DEFAULT_MESSAGING, type MessagingConfig } from './read-messaging.js';
import { MessageService } from './message-service.js';
import type { MessageStore } from './message-store.js';

const FROM: Remote = { transport: 'udp', address: '192.0.2.9', port: 5060 };

function message(to: string, opts: { user?: string; body?: string; n?: number } = {}): SipMessage {
  const body = opts.body ?? 'hi';
  return parse(
    `MESSAGE sip:${to}@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK${opts.n ?? 1}x\r\nMax-Forwards: 70\r\nFrom: <sip:${opts.user ?? '1001'}@pbx.test>;tag=a${opts.n ?? 1}\r\nTo: <sip:${to}@pbx.test>\r\nCall-ID: c${opts.n ?? 1}\r\nCSeq: 2 MESSAGE\r\n${opts.user === undefined ? '' : 'Authorization: x\r\n'}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function rig(over: Partial<MessagingConfig> = {}, floodExempt?: (address: string) => boolean) {
  const answers: SipMessage[] = [];
  const events: SecurityEvent[] = [];
  const sent: SipMessage[] = [];
  const svc = new MessageService({
    cfg: { ...DEFAULT_MESSAGING, ...over },
    domain: 'pbx.test',
    userAgent: 'Palisade',
    // credentials present = authenticated as the From user; none = the challenge
    authenticate: (req) => (req.has('authorization') ? { user: req.from.uri.user! } : { response: buildResponse(req, 401, 'Unauthorized') }),
    extensions: { get: (n) => (['1001', '1002'].includes(n) ? { name: `N${n}`, context: 'default' } : undefined) },
    location: { lookup: () => [] },
    send: async (req) => {
      sent.push(req);
      return 200;
    },
    store: { put: async () => null, pending: () => 0 } as unknown as MessageStore,
    security: { emit: (e) => events.push(e) },
    log: new LogRoot('error').get('messaging'),
    floodExempt,
  });
  const tx = { respond: (r: SipMessage) => answers.push(r), respondStateless: (r: SipMessage) => answers.push(r) };
  const send = (req: SipMessage) => {
    assert.equal(svc.handle(tx, req, FROM), true);
    return answers.at(-1)!;
  };
  return { svc, send, events, sent };
}

test('the digest challenge comes before anything else, even for an oversized body', () => {
  const r = rig({ maxBody: 4 });
  const res = r.send(message('1002', { body: 'far too long' }));
  assert.equal(res.status, 401);
});

test('RFC 3428 §8: a body over max_body gets 413; an empty one 400', () => {
  const r = rig({ maxBody: 4 });
  assert.equal(r.send(message('1002', { user: '1001', body: 'far too long' })).status, 413);
  assert.equal(r.send(message('1002', { user: '1001', body: '' })).status, 400);
  assert.equal(r.send(message('1002', { user: '1001', body: 'ok' })).status, 202);
});

test('a known, an unknown and a dialplan-less recipient all get the same 202', () => {
  const r = rig();
  const a = r.send(message('1002', { user: '1001', n: 1 }));
  const b = r.send(message('4711', { user: '1001', n: 2 }));
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.deepEqual(
    a.headers.map((h) => h.name),
    b.headers.map((h) => h.name),
  );
});

test('the rate per sender: over rate_per_user a minute is 503 with Retry-After, no ban', () => {
  const r = rig({ ratePerUser: 3 });
  for (let i = 0; i < 3; i++) assert.equal(r.send(message('1002', { user: '1001', n: i })).status, 202);
  const res = r.send(message('1002', { user: '1001', n: 9 }));
  assert.equal(res.status, 503);
  assert.equal(res.get('retry-after'), '60');
  assert.equal(r.events.length, 0);
});

test('writing to more than max_recipients a minute is spam: 403 and one Flood event with the sender', () => {
  const r = rig({ maxRecipients: 5 });
  for (let i = 0; i < 5; i++) assert.equal(r.send(message(String(3000 + i), { user: '1001', n: i })).status, 202);
  assert.equal(r.send(message('3000', { user: '1001', n: 20 })).status, 202, 'an earlier recipient again is fine');
  assert.equal(r.send(message('3999', { user: '1001', n: 21 })).status, 403);
  assert.equal(r.events.length, 1);
  assert.equal(r.events[0]!.type, 'Flood');
  assert.equal(r.events[0]!.account, '1001');
  assert.equal(r.events[0]!.remote?.address, FROM.address);
  assert.match(r.events[0]!.detail ?? '', /message spam: more than 5 recipients a minute/);
});

test('a flood from one address is reported once and then refused before digest', () => {
  const r = rig({ floodRate: 10 });
  for (let i = 0; i < 10; i++) assert.equal(r.send(message('1002', { n: i })).status, 401);
  assert.equal(r.send(message('1002', { n: 11 })).status, 503);
  assert.equal(r.send(message('1002', { n: 12 })).status, 503);
  assert.equal(r.events.filter((e) => e.type === 'Flood').length, 1);
});

test('a MESSAGE inside a dialog is left to the dialog owner', () => {
  const r = rig();
  const req = parse(message('1002', { user: '1001' }).toString().replace('To: <sip:1002@pbx.test>', 'To: <sip:1002@pbx.test>;tag=x'));
  assert.equal(r.svc.handle({ respond: () => assert.fail(), respondStateless: () => assert.fail() }, req, FROM), false);
});

test('a trusted address (a proxy in front) is not counted by the flood rule; the per-user rate still holds', () => {
  const r = rig({ floodRate: 3, ratePerUser: 5 }, (a) => a === FROM.address);
  for (let i = 0; i < 5; i++) assert.equal(r.send(message('1002', { user: '1001', n: i })).status, 202);
  // over the sender's own rate: refused, and no Flood event for the proxy
  assert.equal(r.send(message('1002', { user: '1001', n: 6 })).status, 503);
  assert.equal(r.events.filter((e) => e.type === 'Flood').length, 0);
});
