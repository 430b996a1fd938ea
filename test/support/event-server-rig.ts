// A rig for the event server's unit tests: a real transaction manager on a
// FakeClock with a recording sender (src/sip/transaction/test-support.ts),
// an EventServer behind it, and a small package ("x-state": one line of
// text per resource) standing in for message-summary, presence or dialog.
// SUBSCRIBEs go in as wire messages; responses and NOTIFYs are read back
// from what the sender recorded; NOTIFYs are answered as a peer would.
import { buildResponse } from '../../src/sip-message/response.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';
import { LogRoot } from '../../src/observability/logger.js';
import type { Remote } from '../../src/transport/types.js';
import { parse, rig, UDP } from './sip-transaction-rig.js';
import type { FakeClock } from './fake-clock.js';
import type { RecordingSender } from './sip-transaction-rig.js';
import type { TransactionManager } from '../../src/sip/transaction/transaction-manager.js';
import { EventServer, type RefusedSubscribe } from '../../src/sip/events/event-server.js';
import type { EndReason, EventPackage } from '../../src/sip/events/event-package.js';
import { notifyThrough } from '../../src/sip/events/notify-sender.js';

export const DOMAIN = 'pbx.test';

export interface SubscribeOptions {
  /** the authenticated subscriber (null: no credentials, so a challenge) */
  user?: string | null;
  resource?: string;
  event?: string;
  expires?: number | null;
  toTag?: string;
  fromTag?: string;
  callId?: string;
  cseq?: number;
  accept?: string;
  contact?: string | null;
  recordRoute?: string[];
  remote?: Remote;
  host?: string;
}

export interface EventRig {
  events: EventServer;
  pkg: EventPackage;
  clock: FakeClock;
  sender: RecordingSender;
  tm: TransactionManager;
  /** resource → its state line; absent: the resource does not exist */
  state: Map<string, string>;
  /** subscriber → resources it may watch beyond its own */
  grants: Map<string, string[]>;
  refused: RefusedSubscribe[];
  ended: Array<{ resource: string; reason: EndReason; status?: number }>;
  /** SUBSCRIBEs the server handed back (not ours) */
  notOurs: SipMessage[];
  /** send a SUBSCRIBE and return the final response it got */
  subscribe(o?: SubscribeOptions): SipMessage;
  /** every NOTIFY sent so far, once each (retransmissions left out), in order */
  notifies(): SipMessage[];
  /** answer a NOTIFY as the subscriber would */
  answer(notify: SipMessage, status: number, headers?: Array<[string, string]>): void;
  /** answer every NOTIFY not answered yet */
  answerAll(status?: number): void;
}

let seq = 0;

export function eventRig(
  o: { limits?: { perSubscriber?: number; total?: number }; unsolicited?: boolean; contacts?: Record<string, Array<{ contactUri: string; remote: Remote }>> } = {},
): EventRig {
  const notOurs: SipMessage[] = [];
  const { clock, sender, tm } = rig({
    tu: {
      onRequest: (tx, msg, remote) => {
        if (events.handleSubscribe(tx, msg, remote)) return;
        notOurs.push(msg);
        tx.respond(buildResponse(msg, 481, undefined, { toTag: 'b2bua' }));
      },
      onCancel() {},
      onAck() {},
      onStrayResponse() {},
    },
  });
  const state = new Map<string, string>([
    ['alice', 'idle'],
    ['bob', 'idle'],
  ]);
  const grants = new Map<string, string[]>();
  const refused: RefusedSubscribe[] = [];
  const ended: EventRig['ended'] = [];
  const events = new EventServer({
    authenticate: (req) => {
      const a = req.get('authorization');
      if (a?.startsWith('Test ')) return { user: a.slice(5) };
      return { response: buildResponse(req, 401, 'Unauthorized', { toTag: 'chal', headers: [['www-authenticate', `Digest realm="${DOMAIN}", nonce="n1"`]] }) };
    },
    send: notifyThrough(tm),
    contactFor: () => '<sip:events@127.0.0.1:5060>',
    contactsOf: (aor) => o.contacts?.[aor] ?? [],
    isLocalDomain: (host) => host === DOMAIN,
    domain: DOMAIN,
    userAgent: 'Palisade-test',
    clock,
    log: new LogRoot('error').get('events'),
    limits: o.limits,
    refused: (e) => void refused.push(e),
  });
  const pkg: EventPackage = {
    name: 'x-state',
    accept: ['text/plain'],
    expires: { min: 60, max: 3600, default: 600 },
    unsolicited: o.unsolicited,
    authorize: (subscriber, resource) => subscriber === resource || (grants.get(subscriber) ?? []).includes(resource),
    exists: (resource) => state.has(resource),
    body: async (resource) => `${resource}: ${state.get(resource) ?? 'gone'}\r\n`,
    ended: (s, reason, status) => void ended.push({ resource: s.resource, reason, status }),
  };
  events.register(pkg);

  const answered = new Set<string>();
  const branchOf = (m: SipMessage) => m.topVia.branch ?? '';
  const notifies = (): SipMessage[] => {
    const seen = new Set<string>();
    const out: SipMessage[] = [];
    for (const s of sender.sent) {
      if (!s.data.toString('latin1').startsWith('NOTIFY ')) continue;
      const m = parse(s.data);
      if (seen.has(branchOf(m))) continue;
      seen.add(branchOf(m));
      out.push(m);
    }
    return out;
  };
  const answer = (notify: SipMessage, status: number, headers?: Array<[string, string]>) => {
    answered.add(branchOf(notify));
    const remote = sender.sent.find((s) => s.data.toString('latin1').includes(branchOf(notify)))?.remote ?? UDP;
    tm.receiveResponse(parse(buildResponse(notify, status, undefined, { toTag: notify.to.params.tag ?? undefined, headers }).toBuffer()), remote);
  };
  return {
    events,
    pkg,
    clock,
    sender,
    tm,
    state,
    grants,
    refused,
    ended,
    notOurs,
    subscribe: (so = {}) => {
      const before = sender.sent.length;
      tm.receiveRequest(subscribeRequest(so), so.remote ?? UDP);
      const res = sender.sent.slice(before).find((s) => s.data.toString('latin1').startsWith('SIP/2.0 '));
      if (!res) throw new Error('the SUBSCRIBE got no response');
      return parse(res.data);
    },
    notifies,
    answer,
    answerAll: (status = 200) => {
      for (const n of notifies()) if (!answered.has(branchOf(n))) answer(n, status);
    },
  };
}

/** a SUBSCRIBE as a phone sends it */
export function subscribeRequest(o: SubscribeOptions = {}): SipMessage {
  const user = o.user === undefined ? 'alice' : o.user;
  const resource = o.resource ?? user ?? 'alice';
  const t = (o.remote ?? UDP).transport.toUpperCase();
  const lines = [
    `SUBSCRIBE sip:${resource}@${o.host ?? DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/${t} 127.0.0.1:5070;branch=z9hG4bKsub${++seq}`,
    'Max-Forwards: 70',
    `From: <sip:${user ?? 'anonymous'}@${DOMAIN}>;tag=${o.fromTag ?? 'ft1'}`,
    `To: <sip:${resource}@${DOMAIN}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'sub-call-1'}`,
    `CSeq: ${o.cseq ?? seq} SUBSCRIBE`,
  ];
  if (o.event !== '') lines.push(`Event: ${o.event ?? 'x-state'}`);
  for (const rr of o.recordRoute ?? []) lines.push(`Record-Route: ${rr}`);
  if (o.contact !== null) lines.push(`Contact: ${o.contact ?? '<sip:alice@127.0.0.1:5070>'}`);
  if (o.expires !== null && o.expires !== undefined) lines.push(`Expires: ${o.expires}`);
  if (o.accept !== undefined) lines.push(`Accept: ${o.accept}`);
  if (user !== null) lines.push(`Authorization: Test ${user}`);
  return parse([...lines, 'Content-Length: 0', '', ''].join('\r\n'));
}

/** let the NOTIFYs queued behind a body() promise go out */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
