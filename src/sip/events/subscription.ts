// One subscription on the notifier side (RFC 6665 §4.2): the dialog it
// lives in, its package and resource, its expiry timer and the NOTIFY it
// waits to send; and the header rules the event server applies to it.
import { formatNameAddr } from '../../sip-message/name-addr.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { NameAddr } from '../../sip-message/types.js';
import { Dialog, dialogKey, newToken } from '../dialog/dialog.js';
import type { Remote } from '../../transport/types.js';
import type { TimerRef } from '../transaction/clock.js';
import type { EventPackage, SubscriptionInfo } from './event-package.js';

/**
 * The Subscription-State of a NOTIFY still to be sent: 'active' (with the
 * time left, worked out when it is sent) or terminated with that reason
 * (RFC 6665 §4.1.3).
 */
export type NotifyState = 'active' | 'timeout' | 'rejected';

export interface Subscription {
  /** Call-ID and our tag (dialogKey): how an in-dialog SUBSCRIBE finds it */
  readonly key: string;
  readonly pkg: EventPackage;
  /** the Event header's id parameter, '' without one (RFC 6665 §8.2.1) */
  readonly id: string;
  readonly subscriber: string;
  readonly resource: string;
  readonly dialog: Dialog;
  /** seconds granted by the last SUBSCRIBE */
  expires: number;
  expiresAt: number;
  timer: TimerRef | null;
  /** false once it ended: no longer in the server's tables */
  live: boolean;
  /** a NOTIFY of this subscription is waiting for its final response */
  sending: boolean;
  /** the NOTIFY to send once that one is answered */
  next: NotifyState | null;
}

/**
 * A subscription and its new dialog, from the SUBSCRIBE that creates them
 * (RFC 6665 §4.2.1.1: "it creates the subscription and a dialog usage").
 * Not yet live: the server adds it to its tables.
 */
export function newSubscription(
  req: SipMessage,
  o: { remote: Remote; pkg: EventPackage; id: string; subscriber: string; resource: string; granted: number; target: string; contact: string },
): Subscription {
  const localTag = newToken();
  return {
    key: dialogKey(req.callId, localTag),
    pkg: o.pkg,
    id: o.id,
    subscriber: o.subscriber,
    resource: o.resource,
    dialog: new Dialog({
      callId: req.callId,
      localTag,
      remoteTag: req.from.params.tag ?? '',
      localUri: withoutTag(req.to),
      remoteUri: withoutTag(req.from),
      remoteTarget: o.target,
      // RFC 3261 §12.1.1: the UAS's route set is the Record-Route list, in order
      routeSet: req.getAll('record-route'),
      localCseq: Math.floor(Math.random() * 10000) + 1,
      remoteCseq: req.cseq.seq,
      remote: { ...o.remote },
      localContact: o.contact,
    }),
    expires: o.granted,
    expiresAt: 0,
    timer: null,
    live: false,
    sending: false,
    next: null,
  };
}

export interface EventHeader {
  /** the package token, lower-case ('' when the header is missing) */
  name: string;
  /** the id parameter, '' without one */
  id: string;
}

/** RFC 6665 §8.4 (grammar): Event = event-type *( SEMI event-param ), event-param includes "id" */
export function parseEvent(value: string | undefined): EventHeader {
  if (value === undefined) return { name: '', id: '' };
  const parts = value.split(';');
  let id = '';
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'id') id = p.slice(eq + 1).trim();
  }
  return { name: parts[0]!.trim().toLowerCase(), id };
}

export function formatEvent(name: string, id: string): string {
  return id === '' ? name : `${name};id=${id}`;
}

/**
 * Does an Accept header admit one of `types`? Wildcards count (RFC 3261
 * §20.1); an empty Accept admits nothing.
 */
export function acceptable(accept: string, types: readonly string[]): boolean {
  for (const item of accept.toLowerCase().split(',')) {
    const range = item.split(';')[0]!.trim();
    if (range === '*/*' || types.includes(range)) return true;
    if (range.endsWith('/*') && types.some((t) => t.startsWith(range.slice(0, -1)))) return true;
  }
  return false;
}

/** a From/To value without its tag (the dialog's local or remote URI, RFC 3261 §12.1.1) */
export function withoutTag(na: NameAddr): string {
  const params = { ...na.params };
  delete params.tag;
  return formatNameAddr({ ...na, params });
}

/** the Subscription-State header value (RFC 6665 §4.1.3, §8.2.3) */
export function subscriptionState(s: Subscription, state: NotifyState, now: number): string {
  if (state !== 'active') return `terminated;reason=${state}`;
  return `active;expires=${Math.max(1, Math.round((s.expiresAt - now) / 1000))}`;
}

/**
 * A NOTIFY inside the subscription's dialog (RFC 6665 §4.2.2; RFC 3261
 * §12.2.1.1: Request-URI the remote target, Route the route set, CSeq one
 * higher than the last). A rejected subscriber is told nothing of the state.
 */
export function buildNotify(s: Subscription, state: NotifyState, o: { now: number; body?: string | Buffer; contact: string; userAgent: string }): SipMessage {
  const body = state === 'rejected' || o.body === undefined ? undefined : Buffer.from(o.body);
  const m = s.dialog.createRequest('NOTIFY', { userAgent: o.userAgent, body, contentType: s.pkg.accept[0] });
  m.headers.push(
    // RFC 6665 §4.2.2: NOTIFY carries Contact, the same Event (with its id) and Subscription-State
    { name: 'contact', value: o.contact },
    { name: 'event', value: formatEvent(s.pkg.name, s.id) },
    { name: 'subscription-state', value: subscriptionState(s, state, o.now) },
  );
  return m;
}

export function info(s: Subscription): SubscriptionInfo {
  return { package: s.pkg.name, id: s.id, subscriber: s.subscriber, resource: s.resource, remote: s.dialog.remote, expires: s.expires };
}
