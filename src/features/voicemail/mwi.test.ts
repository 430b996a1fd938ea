// The MWI notifier's protocol rules, one RFC sentence per test, with a real
// digest authenticator and captured responses/NOTIFYs (the SIPp interop test
// covers the same flow on the wire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHa1 } from '../../sip/auth/ha1.js';
import { DigestAuthenticator, computeDigestResponse } from '../../sip/auth/digest.js';
import { RequestAuthenticator } from '../../sip/ua/request-auth.js';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { LogRoot } from '../../observability/logger.js';
import type { Remote } from '../../transport/types.js';
import type { MessageCounts } from './mailbox-store.js';
import { MwiPackage, summaryBody } from './mwi.js';
import { EventServer } from '../../sip/events/index.js';
import { FakeClock } from '../../../test/support/fake-clock.js';

const REALM = 'pbx.test';
const SECRETS: Record<string, string> = { '756': 'Kq8vLr2Wn5Zt', '757': 'Jp4mXs9Qd2Hy' };
const REMOTE: Remote = { transport: 'udp', address: '127.0.0.1', port: 5070 };

interface Harness {
  events: EventServer;
  mwi: MwiPackage;
  responses: SipMessage[];
  stateless: SipMessage[];
  notifies: SipMessage[];
  counts: MessageCounts;
  notifyStatus: number;
}

function harness(opts: { unsolicited?: boolean; contacts?: Array<{ contactUri: string; remote: Remote }> } = {}): Harness {
  const auth = new DigestAuthenticator({
    realm: REALM,
    algorithms: ['MD5'],
    lookupHa1: (u) => (SECRETS[u] ? { md5: computeHa1('MD5', u, REALM, SECRETS[u]!) } : undefined),
  });
  const h: Harness = {
    responses: [],
    stateless: [],
    notifies: [],
    counts: { newCount: 0, oldCount: 0, urgentNew: 0, urgentOld: 0 },
    notifyStatus: 200,
    events: undefined as unknown as EventServer,
    mwi: undefined as unknown as MwiPackage,
  };
  const requestAuth = new RequestAuthenticator({ auth, server: 'Palisade-test' });
  h.events = new EventServer({
    authenticate: (req, remote) => requestAuth.check(req, remote),
    domain: REALM,
    userAgent: 'Palisade-test',
    isLocalDomain: (host) => host === REALM || host === '127.0.0.1',
    contactsOf: () => opts.contacts ?? [],
    contactFor: () => '<sip:voicemail@127.0.0.1:5060>',
    send: async (req) => {
      h.notifies.push(req);
      return { status: h.notifyStatus };
    },
    clock: new FakeClock(),
    log: new LogRoot('error').get('events'),
  });
  h.mwi = new MwiPackage(
    {
      domain: REALM,
      maxExpires: 3600,
      unsolicited: opts.unsolicited ?? true,
      mailboxOf: (u) => (u === '756' || u === '757' ? { context: 'default', number: u } : undefined),
      counts: async () => h.counts,
      log: new LogRoot('error').get('mwi'),
    },
    h.events,
  );
  h.events.register(h.mwi);
  return h;
}

function msg(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  assert.ok(r.ok, 'test message parses');
  return r.msg;
}

let cseq = 1;
function subscribe(o: {
  user?: string;
  target?: string;
  expires?: number | null;
  event?: string;
  toTag?: string;
  auth?: string;
  callId?: string;
  accept?: string;
  contact?: boolean;
}): SipMessage {
  const user = o.user ?? '756';
  const target = o.target ?? user;
  const lines = [
    `SUBSCRIBE sip:${target}@${REALM} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK' + Math.random().toString(16).slice(2),
    'Max-Forwards: 70',
    `From: <sip:${user}@${REALM}>;tag=ft${user}`,
    `To: <sip:${target}@${REALM}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'call-' + user}`,
    `CSeq: ${cseq++} SUBSCRIBE`,
    `Event: ${o.event ?? 'message-summary'}`,
  ];
  if (o.contact !== false) lines.push(`Contact: <sip:${user}@127.0.0.1:5070>`);
  if (o.expires !== null) lines.push(`Expires: ${o.expires ?? 600}`);
  if (o.accept) lines.push(`Accept: ${o.accept}`);
  if (o.auth) lines.push(`Authorization: ${o.auth}`);
  return msg(lines.join('\n') + '\nContent-Length: 0\n\n');
}

/** a SUBSCRIBE answered with a challenge, then again with credentials */
function authed(h: Harness, o: Parameters<typeof subscribe>[0]): SipMessage {
  const first = subscribe(o);
  const tx = txFor(h);
  h.events.handleSubscribe(tx, first, REMOTE);
  const challenge = h.stateless.at(-1)!;
  assert.equal(challenge.status, 401);
  const nonce = /nonce="([^"]+)"/.exec(challenge.get('www-authenticate')!)![1]!;
  const user = o.user ?? '756';
  const uri = `sip:${o.target ?? user}@${REALM}`;
  const response = computeDigestResponse({
    algorithm: 'MD5',
    ha1: computeHa1('MD5', user, REALM, SECRETS[user]!),
    method: 'SUBSCRIBE',
    uri,
    nonce,
    nc: '00000001',
    cnonce: 'c0ffee',
    qop: 'auth',
  });
  const auth = `Digest username="${user}", realm="${REALM}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
  const second = subscribe({ ...o, auth });
  h.events.handleSubscribe(txFor(h), second, REMOTE);
  return h.responses.at(-1)!;
}

function txFor(h: Harness) {
  return { respond: (r: SipMessage) => void h.responses.push(r), respondStateless: (r: SipMessage) => void h.stateless.push(r) };
}

const settle = () => new Promise((r) => setImmediate(r));

test('RFC 3842 §5.2: the body says Messages-Waiting and Voice-Message new/old (urgent)', () => {
  assert.equal(
    summaryBody({ newCount: 2, oldCount: 5, urgentNew: 1, urgentOld: 0 }, 'sip:756@pbx.test'),
    'Messages-Waiting: yes\r\nMessage-Account: sip:756@pbx.test\r\nVoice-Message: 2/5 (1/0)\r\n',
  );
  assert.match(summaryBody({ newCount: 0, oldCount: 3, urgentNew: 0, urgentOld: 0 }, 'sip:x@y'), /^Messages-Waiting: no\r\n/);
});

test('a SUBSCRIBE without credentials is challenged statelessly (401), like REGISTER', () => {
  const h = harness();
  h.events.handleSubscribe(txFor(h), subscribe({}), REMOTE);
  assert.equal(h.stateless.length, 1);
  assert.equal(h.stateless[0]!.status, 401);
  assert.match(h.stateless[0]!.get('www-authenticate')!, /^Digest realm="pbx.test"/);
  assert.equal(h.events.count, 0);
});

test('RFC 6665 §4.2.1.2: 200 with Expires and an immediate NOTIFY with the current state', async () => {
  const h = harness();
  h.counts = { newCount: 1, oldCount: 2, urgentNew: 0, urgentOld: 0 };
  const ok = authed(h, { expires: 7200 });
  assert.equal(ok.status, 200);
  assert.equal(ok.get('expires'), '3600', 'shortened to mwi_max_expires');
  assert.ok(ok.to.params.tag, 'the 200 carries our To tag');
  await settle();
  assert.equal(h.notifies.length, 1);
  const n = h.notifies[0]!;
  assert.equal(n.method, 'NOTIFY');
  assert.equal(n.uri, 'sip:756@127.0.0.1:5070', 'sent to the subscriber Contact');
  assert.equal(n.get('event'), 'message-summary');
  assert.equal(n.get('subscription-state'), 'active;expires=3600');
  assert.equal(n.get('content-type'), 'application/simple-message-summary');
  assert.equal(n.callId, 'call-756');
  assert.equal(n.to.params.tag, 'ft756', 'To of the NOTIFY is the subscriber (its From tag)');
  assert.equal(n.from.params.tag, ok.to.params.tag);
  assert.match(n.body.toString(), /Messages-Waiting: yes\r\n.*Voice-Message: 1\/2 \(0\/0\)/s);
  assert.equal(h.events.count, 1);

  // every change notifies, with the remaining time
  h.counts = { newCount: 0, oldCount: 3, urgentNew: 0, urgentOld: 0 };
  await h.mwi.onMailboxChange({ context: 'default', number: '756' });
  await settle();
  assert.equal(h.notifies.length, 2);
  assert.match(h.notifies[1]!.body.toString(), /Messages-Waiting: no/);
  assert.ok(Number(h.notifies[1]!.cseq.seq) > Number(n.cseq.seq), 'CSeq grows within the dialog');
  h.events.stop();
});

test('refresh inside the dialog gets a NOTIFY; Expires: 0 ends it with "terminated" (RFC 6665 §4.2.1.4)', async () => {
  const h = harness();
  const ok = authed(h, { callId: 'refresh-1' });
  const tag = ok.to.params.tag!;
  await settle();
  const refreshed = authed(h, { callId: 'refresh-1', toTag: tag, expires: 300 });
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.get('expires'), '300');
  await settle();
  assert.equal(h.notifies.at(-1)!.get('subscription-state'), 'active;expires=300');
  const bye = authed(h, { callId: 'refresh-1', toTag: tag, expires: 0 });
  assert.equal(bye.status, 200);
  await settle();
  assert.equal(h.notifies.at(-1)!.get('subscription-state'), 'terminated;reason=timeout');
  assert.equal(h.events.count, 0);
});

test('RFC 6665 §4.1.2.3: a refresh for a subscription we do not have gets 481', () => {
  const h = harness();
  const r = authed(h, { callId: 'unknown', toTag: 'nosuchtag' });
  assert.equal(r.status, 481);
});

test('only the owner may watch a mailbox: 403 for another authenticated extension, 404 without a mailbox', () => {
  const h = harness();
  assert.equal(authed(h, { user: '757', target: '756', callId: 'x1' }).status, 403);
  SECRETS['758'] = 'Vb6nTq3Xr8Lm';
  assert.equal(authed(h, { user: '758', callId: 'x2' }).status, 404);
  assert.equal(h.events.count, 0);
});

test('RFC 6665 §4.2.1: 489 for another event package, 406 when the Accept excludes the summary, 423 below the minimum — each only after authentication', () => {
  const h = harness();
  h.events.handleSubscribe(txFor(h), subscribe({ event: 'presence' }), REMOTE);
  assert.equal(h.stateless.at(-1)!.status, 401, 'unauthenticated: challenged whatever the package');
  assert.equal(authed(h, { event: 'presence', callId: 'p1' }).status, 489);
  assert.equal(h.responses.at(-1)!.get('allow-events'), 'message-summary');
  assert.equal(authed(h, { accept: 'application/pidf+xml', callId: 'a1' }).status, 406);
  assert.equal(authed(h, { expires: 10, callId: 'short' }).status, 423);
  assert.equal(h.responses.at(-1)!.get('min-expires'), '60');
  assert.equal(authed(h, { contact: false, callId: 'nocontact' }).status, 400);
  // an in-dialog SUBSCRIBE of another package is not ours: handed back to the caller
  assert.equal(h.events.handleSubscribe(txFor(h), subscribe({ event: 'dialog', toTag: 'abc' }), REMOTE), false);
});

test('RFC 6665 §4.2.2: a NOTIFY answered 481 ends the subscription', async () => {
  const h = harness();
  authed(h, { callId: 'gone' });
  await settle();
  assert.equal(h.events.count, 1);
  h.notifyStatus = 481;
  await h.mwi.onMailboxChange({ context: 'default', number: '756' });
  await settle();
  assert.equal(h.events.count, 0);
});

test('unsolicited NOTIFY to registered contacts only when nobody subscribed, and only when enabled', async () => {
  const contacts = [{ contactUri: 'sip:757@127.0.0.1:5080', remote: { transport: 'udp' as const, address: '127.0.0.1', port: 5080 } }];
  const on = harness({ contacts });
  on.counts = { newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 };
  await on.mwi.onMailboxChange({ context: 'default', number: '757' });
  assert.equal(on.notifies.length, 1);
  assert.equal(on.notifies[0]!.uri, 'sip:757@127.0.0.1:5080');
  assert.equal(on.notifies[0]!.get('event'), 'message-summary');
  assert.match(on.notifies[0]!.body.toString(), /Messages-Waiting: yes/);
  const off = harness({ contacts, unsolicited: false });
  await off.mwi.onMailboxChange({ context: 'default', number: '757' });
  assert.equal(off.notifies.length, 0);
});
