// What an event package (RFC 6665 §7) tells the event server: its Event
// token, the body types it produces, the subscription durations it accepts,
// who may watch which resource, and the resource's current state as a NOTIFY
// body. The server (event-server.ts) does everything RFC 6665 itself asks:
// dialogs, Expires, refreshes, timers, NOTIFY ordering and failures.
// message-summary (RFC 3842, src/features/voicemail/mwi.ts) is the first
// package; presence (RFC 3856) and dialog (RFC 4235) plug in the same way.
import type { Remote } from '../../transport/types.js';

/** Expires bounds in seconds (RFC 6665 §4.2.1.1, §7.2: each package chooses its own) */
export interface ExpiryBounds {
  /** below this (and below one hour) a SUBSCRIBE gets 423 with Min-Expires */
  min: number;
  /** a longer request is shortened to this ("MAY shorten ... MUST NOT increase") */
  max: number;
  /** the duration when the SUBSCRIBE has no Expires (RFC 6665 §4.1.2.1: the package defines it) */
  default: number;
}

/** one subscription as a package's hooks see it */
export interface SubscriptionInfo {
  package: string;
  /** the Event header's id parameter, '' when there was none */
  id: string;
  /** the authenticated user who subscribed */
  subscriber: string;
  resource: string;
  /** where its NOTIFYs go */
  remote: Remote;
  /** seconds granted by the last SUBSCRIBE */
  expires: number;
}

/**
 * Why a subscription ended. 'expired' and 'unsubscribed' (Expires: 0) send
 * NOTIFY terminated;reason=timeout (RFC 6665 §4.2.1.4), 'rejected' sends
 * terminated;reason=rejected (§4.1.3: authorization withdrawn), and
 * 'notify-failed' sends nothing (§4.2.2: the subscriber is gone).
 */
export type EndReason = 'expired' | 'unsubscribed' | 'rejected' | 'notify-failed';

export interface EventPackage {
  /** the Event header token, e.g. 'message-summary' (compared lower-case) */
  readonly name: string;
  /** the body types it can send, the first being the one it sends (a SUBSCRIBE whose Accept has none of them gets 406) */
  readonly accept: readonly string[];
  readonly expires: ExpiryBounds;
  /**
   * May `subscriber` watch `resource`? Asked before exists(), and a refusal
   * is a 403 whether or not the resource exists, so a refused subscriber
   * learns nothing about which resources exist. Asked again on every
   * refresh: a refusal then ends the subscription (reason=rejected).
   */
  authorize(subscriber: string, resource: string): boolean;
  /** whether the resource exists (asked only once authorize() said yes): 404 otherwise */
  exists(resource: string): boolean;
  /** the resource's current state, as the body of a NOTIFY */
  body(resource: string): Promise<string | Buffer>;
  /**
   * State changes of a resource nobody subscribed to go to the resource's
   * registered contacts as NOTIFYs outside any subscription, and a contact
   * that registers hears the state at once. RFC 6665 has no such thing; it is
   * what Asterisk does for MWI (mwi_subscribe_replaces_unsolicited) and what
   * many desk phones wait for instead of subscribing.
   */
  readonly unsolicited?: boolean;
  /** a subscription was created (refresh false) or refreshed */
  subscribed?(s: SubscriptionInfo, refresh: boolean): void;
  /** a subscription ended; `status` is the NOTIFY's final status for 'notify-failed' */
  ended?(s: SubscriptionInfo, reason: EndReason, status?: number): void;
}
