// The notifier side of SIP-specific event notification (RFC 6665): every
// SUBSCRIBE the UAS core does not route elsewhere comes here. The server
// authenticates it, finds the event package (event-package.ts), negotiates
// Expires, creates or refreshes the subscription and its dialog, answers 200
// and sends the state at once; it NOTIFYs every subscriber of a resource when
// the package says the resource changed, ends subscriptions that expire, are
// unsubscribed or whose NOTIFY fails, and caps how many there may be.
import { buildResponse } from '../../sip-message/response.js';
import { SipMessage } from '../../sip-message/sip-message.js';
import { dialogKey, newToken, randomHex } from '../dialog/dialog.js';
import type { Clock } from '../transaction/clock.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import type { EndReason, EventPackage } from './event-package.js';
import { notifyFailed, type NotifyOutcome, type NotifySender } from './notify-sender.js';
import { acceptable, buildNotify, formatEvent, info, newSubscription, parseEvent, type EventHeader, type NotifyState, type Subscription } from './subscription.js';

/** the server transaction of a SUBSCRIBE, as the UAS core hands it over */
export interface SubscribeTx {
  respond(res: SipMessage): void;
  /** a final answer keeping no transaction state (RFC 3261 §8.2.7): for challenges */
  respondStateless(res: SipMessage): void;
}

/** a SUBSCRIBE refused by policy or a limit: for the IDS (a RequestNotAllowed event) */
export interface RefusedSubscribe {
  package: string;
  subscriber: string;
  resource: string;
  remote: Remote;
  callId: string;
  status: number;
  detail: string;
}

export interface EventServerDeps {
  /**
   * digest authentication as for every request the UAS core answers itself
   * (src/sip/ua/request-auth.ts): the challenge to send, or who it is
   */
  authenticate(req: SipMessage, remote: Remote): { response: SipMessage } | { user: string };
  send: NotifySender;
  /** our Contact header value for a peer at remote */
  contactFor(remote: Remote): string;
  /** registered contacts of a local AOR (user part), for unsolicited NOTIFYs */
  contactsOf(aor: string): Array<{ contactUri: string; remote: Remote }>;
  isLocalDomain(host: string): boolean;
  /** the domain of resource URIs, sip:RESOURCE@DOMAIN */
  domain: string;
  /** Server and User-Agent header value */
  userAgent: string;
  clock: Clock;
  log: Logger;
  limits?: { perSubscriber?: number; total?: number };
  refused?: (e: RefusedSubscribe) => void;
}

/** what a feature needs of the server: register its package, say when a resource changed */
export type EventRegistry = Pick<EventServer, 'register' | 'notify'>;

/** RFC 6665 §4.2.1.1: 423 only for an interval "smaller than one hour" */
const ONE_HOUR = 3600;
const DEFAULT_LIMITS = { perSubscriber: 64, total: 10_000 };

export class EventServer {
  private readonly packages = new Map<string, EventPackage>();
  /** by dialogKey(Call-ID, our tag): one subscription per dialog */
  private readonly subs = new Map<string, Subscription>();
  /** package + resource → its subscriptions */
  private readonly byResource = new Map<string, Set<Subscription>>();
  private readonly perSubscriber = new Map<string, number>();
  private readonly limits: { perSubscriber: number; total: number };
  readonly stats = { subscribes: 0, notifies: 0, notifyFailures: 0, unsolicited: 0, refusedLimit: 0 };

  constructor(private readonly d: EventServerDeps) {
    this.limits = { perSubscriber: d.limits?.perSubscriber ?? DEFAULT_LIMITS.perSubscriber, total: d.limits?.total ?? DEFAULT_LIMITS.total };
  }

  register(pkg: EventPackage): void {
    // Event headers are matched lower-case (parseEvent), so names are registered that way
    if (pkg.name !== pkg.name.toLowerCase()) throw new Error(`event package "${pkg.name}": the name must be lower-case`);
    if (this.packages.has(pkg.name)) throw new Error(`event package "${pkg.name}" is already registered`);
    this.packages.set(pkg.name, pkg);
  }

  /** RFC 6665 §8.2.2: the packages we serve, for Allow-Events */
  get allowEvents(): string {
    return [...this.packages.keys()].join(', ');
  }

  /** subscriptions in force */
  get count(): number {
    return this.subs.size;
  }

  hasSubscribers(pkgName: string, resource: string): boolean {
    return (this.byResource.get(resourceKey(pkgName.toLowerCase(), resource))?.size ?? 0) > 0;
  }

  /**
   * A SUBSCRIBE from the UAS core (its SubscribeHandler). Returns false for
   * a SUBSCRIBE inside a dialog that is not ours, for a package we do not
   * serve (a usage of a call's dialog), so the caller can pass it on.
   */
  handleSubscribe = (tx: SubscribeTx, req: SipMessage, remote: Remote): boolean => {
    const event = parseEvent(req.get('event'));
    const toTag = req.to.params.tag ?? undefined;
    const sub = toTag === undefined ? undefined : this.subs.get(dialogKey(req.callId, toTag));
    if (toTag !== undefined && !sub && !this.packages.has(event.name)) return false;

    // Authenticate before anything else is said about the request (RFC 6665
    // §4.2.1.3; SPEC §4), so unknown and known resources look the same from
    // outside; the challenge is stateless (a guess costs no memory).
    const who = this.d.authenticate(req, remote);
    if ('response' in who) {
      if (who.response.status === 401) tx.respondStateless(who.response);
      else tx.respond(who.response);
      return true;
    }
    this.stats.subscribes++;
    const pkg = this.packages.get(event.name);
    if (!pkg) {
      // RFC 6665 §4.2.1.1: a package we do not understand → 489 (Bad Event), with Allow-Events (§8.2.2)
      tx.respond(this.reply(req, 489, 'Bad Event', [['allow-events', this.allowEvents]]));
      return true;
    }
    const accept = req.get('accept');
    if (accept !== undefined && !acceptable(accept, pkg.accept)) {
      tx.respond(this.reply(req, 406, 'Not Acceptable', [['accept', pkg.accept.join(', ')]]));
      return true;
    }
    const asked = req.getInt('expires') ?? pkg.expires.default;
    // RFC 6665 §4.2.1.1: "If and only if the expiration interval is greater than zero AND smaller than
    // one hour AND less than a notifier-configured minimum, the notifier MAY return a 423"
    if (asked > 0 && asked < ONE_HOUR && asked < pkg.expires.min) {
      tx.respond(this.reply(req, 423, 'Interval Too Brief', [['min-expires', String(pkg.expires.min)]]));
      return true;
    }
    // RFC 6665 §4.2.1.1: the notifier "MAY shorten the interval but MUST NOT increase it"
    const granted = Math.min(asked, pkg.expires.max);
    if (toTag === undefined) this.create(tx, req, remote, who.user, pkg, event, granted);
    else this.refresh(tx, req, remote, who.user, sub, event, granted);
    return true;
  };

  /**
   * The resource changed: NOTIFY each of its subscribers, or, for a package
   * with unsolicited notifications, its registered contacts when it has
   * none. Resolves once every NOTIFY has been handed to the transaction
   * layer (or queued behind one still outstanding), not when answered.
   * `subscribersOnly`: the change was made in another worker (sip.workers >
   * 1), which told the registered contacts itself.
   */
  async notify(pkgName: string, resource: string, o: { subscribersOnly?: boolean } = {}): Promise<void> {
    const pkg = this.packages.get(pkgName.toLowerCase());
    if (!pkg) return;
    const subs = this.byResource.get(resourceKey(pkg.name, resource));
    if (subs && subs.size > 0) {
      await Promise.all([...subs].map((s) => this.post(s, 'active')));
      return;
    }
    if (!pkg.unsolicited || o.subscribersOnly) return;
    await Promise.all(this.d.contactsOf(resource).map((c) => this.sendUnsolicited(pkg, resource, c.contactUri, c.remote)));
  }

  /**
   * A contact just registered: each package with unsolicited notifications
   * tells it the state of its resource at once (a phone's lamp may be wrong
   * after a reboot), unless the resource has subscribers.
   */
  async contactRegistered(aor: string, contactUri: string, remote: Remote): Promise<void> {
    for (const pkg of this.packages.values()) {
      if (!pkg.unsolicited || !pkg.exists(aor) || this.hasSubscribers(pkg.name, aor)) continue;
      await this.sendUnsolicited(pkg, aor, contactUri, remote);
    }
  }

  /** drop every subscription without a NOTIFY (shutdown) */
  stop(): void {
    for (const s of this.subs.values()) {
      s.live = false;
      if (s.timer) this.d.clock.clearTimer(s.timer);
    }
    this.subs.clear();
    this.byResource.clear();
    this.perSubscriber.clear();
  }

  /** an initial SUBSCRIBE that passed the package checks */
  private create(tx: SubscribeTx, req: SipMessage, remote: Remote, user: string, pkg: EventPackage, event: EventHeader, granted: number): void {
    const resource = req.ruri.user ?? req.to.uri.user ?? '';
    if (!this.admit(tx, req, remote, user, pkg, resource, granted)) return;
    const contact = req.contacts[0];
    // RFC 6665 §4.1.2.1 (and RFC 3261 §12.1.1): a SUBSCRIBE carries a Contact, the target of our NOTIFYs
    if (!contact) return void tx.respond(this.reply(req, 400, 'Missing Contact'));
    const s = newSubscription(req, { remote, pkg, id: event.id, subscriber: user, resource, granted, target: contact.uri.raw, contact: this.d.contactFor(remote) });
    // RFC 3261 §12.1.1: the response that creates the dialog copies Record-Route
    const recordRoutes = req.getAll('record-route').map((rr): [string, string] => ['record-route', rr]);
    this.accept(tx, req, s, granted, recordRoutes);
    if (granted === 0) {
      // RFC 6665 §4.4.3: a fetch — one NOTIFY with the state, nothing kept
      void this.post(s, 'timeout');
      return;
    }
    this.add(s);
    this.arm(s, granted);
    s.pkg.subscribed?.(info(s), false);
    void this.post(s, 'active');
  }

  /**
   * The limits, the policy and the resource, in that order: the limits and
   * the policy are answered before the resource is looked at, so neither
   * answer depends on whether it exists. False when answered.
   */
  private admit(tx: SubscribeTx, req: SipMessage, remote: Remote, user: string, pkg: EventPackage, resource: string, granted: number): boolean {
    const forbid = (detail: string) => {
      this.d.refused?.({ package: pkg.name, subscriber: user, resource: resource.slice(0, 32), remote, callId: req.callId, status: 403, detail });
      tx.respond(this.reply(req, 403, 'Forbidden'));
      return false;
    };
    // only subscriptions that last count; a fetch (Expires: 0) keeps nothing
    if (granted > 0 && this.subs.size >= this.limits.total) {
      // the server is full, not the subscriber's fault: RFC 3261 §21.5.4, try again later
      this.stats.refusedLimit++;
      this.d.log.warn('subscriptions-limit', { limit: this.limits.total, package: pkg.name });
      tx.respond(this.reply(req, 503, 'Service Unavailable', [['retry-after', '300']]));
      return false;
    }
    if (granted > 0 && (this.perSubscriber.get(user) ?? 0) >= this.limits.perSubscriber) {
      this.stats.refusedLimit++;
      this.d.log.warn('subscriber-limit', { subscriber: user, limit: this.limits.perSubscriber, package: pkg.name });
      return forbid(`more than ${this.limits.perSubscriber} subscriptions`);
    }
    // RFC 6665 §4.2.1.3: a subscriber the policy refuses gets 403 (asked before exists())
    if (!this.d.isLocalDomain(req.ruri.host) || !pkg.authorize(user, resource)) {
      return forbid(`SUBSCRIBE to ${pkg.name} of ${resource.slice(0, 32)} not allowed`);
    }
    if (!pkg.exists(resource)) {
      tx.respond(this.reply(req, 404, 'Not Found'));
      return false;
    }
    return true;
  }

  /** a SUBSCRIBE inside a dialog: refresh or unsubscribe (RFC 6665 §4.2.1.4) */
  private refresh(tx: SubscribeTx, req: SipMessage, remote: Remote, user: string, s: Subscription | undefined, event: EventHeader, granted: number): void {
    // RFC 6665 §4.1.2.2 / RFC 3261 §12.2.2: a refresh for a subscription we do not have (dialog
    // reuse for another package or id, RFC 6665 §4.5.2, is not offered either)
    if (!s || s.dialog.remoteTag !== (req.from.params.tag ?? '') || s.pkg.name !== event.name || s.id !== event.id) {
      tx.respond(this.reply(req, 481, 'Subscription Does Not Exist'));
      return;
    }
    if (s.subscriber !== user) {
      this.d.refused?.({
        package: s.pkg.name,
        subscriber: user,
        resource: s.resource,
        remote,
        callId: req.callId,
        status: 403,
        detail: `refresh of a subscription of ${s.subscriber.slice(0, 32)}`,
      });
      tx.respond(this.reply(req, 403, 'Forbidden'));
      return;
    }
    // RFC 3261 §12.2.2: a CSeq lower than the last one is out of order → 500
    if (req.cseq.seq <= s.dialog.remoteCseq) {
      tx.respond(this.reply(req, 500, 'Server Internal Error'));
      return;
    }
    s.dialog.remoteCseq = req.cseq.seq;
    // RFC 6665 §4.2.1.4: "assuming that the subscriber is still authorized"; if not, the
    // subscription ends with reason=rejected (§4.1.3: "change in authorization policy")
    if (!s.pkg.authorize(user, s.resource)) {
      tx.respond(this.reply(req, 403, 'Forbidden'));
      this.end(s, 'rejected');
      return;
    }
    // RFC 6665 §4.1.2.2: a refresh is a target refresh request
    const contact = req.contacts[0];
    if (contact) s.dialog.remoteTarget = contact.uri.raw;
    s.dialog.remote = { ...remote };
    this.accept(tx, req, s, granted, []);
    if (granted === 0) {
      this.end(s, 'unsubscribed');
      return;
    }
    s.expires = granted;
    this.arm(s, granted);
    s.pkg.subscribed?.(info(s), true);
    // RFC 6665 §4.2.1.2: "Upon successfully accepting or refreshing a subscription, notifiers MUST send a NOTIFY"
    void this.post(s, 'active');
  }

  /**
   * RFC 6665 §4.2.1.1: a subscription the notifier accepts gets 200 (OK);
   * §8.3.1: implementations "MUST NOT generate 202 response codes to
   * SUBSCRIBE". Expires says what was granted; Contact is our target.
   */
  private accept(tx: SubscribeTx, req: SipMessage, s: Subscription, granted: number, extra: Array<[string, string]>): void {
    const headers: Array<[string, string]> = [...extra, ['expires', String(granted)], ['contact', this.d.contactFor(s.dialog.remote)]];
    tx.respond(buildResponse(req, 200, 'OK', { toTag: s.dialog.localTag, server: this.d.userAgent, headers }));
  }

  /** (re)start the expiry timer */
  private arm(s: Subscription, seconds: number): void {
    if (s.timer) this.d.clock.clearTimer(s.timer);
    s.expiresAt = this.d.clock.now() + seconds * 1000;
    s.timer = this.d.clock.setTimer(seconds * 1000, () => {
      s.timer = null;
      // RFC 6665 §4.2.1.4: "If no refresh for a notification address is received before its
      // expiration time, the subscription is removed"
      this.end(s, 'expired');
    });
  }

  private add(s: Subscription): void {
    s.live = true;
    this.subs.set(s.key, s);
    const rk = resourceKey(s.pkg.name, s.resource);
    let set = this.byResource.get(rk);
    if (!set) this.byResource.set(rk, (set = new Set()));
    set.add(s);
    this.perSubscriber.set(s.subscriber, (this.perSubscriber.get(s.subscriber) ?? 0) + 1);
  }

  /** take s out of the tables; false when it already was */
  private remove(s: Subscription): boolean {
    if (!s.live) return false;
    s.live = false;
    if (s.timer) this.d.clock.clearTimer(s.timer);
    s.timer = null;
    this.subs.delete(s.key);
    const rk = resourceKey(s.pkg.name, s.resource);
    const set = this.byResource.get(rk);
    set?.delete(s);
    if (set?.size === 0) this.byResource.delete(rk);
    const n = (this.perSubscriber.get(s.subscriber) ?? 1) - 1;
    if (n > 0) this.perSubscriber.set(s.subscriber, n);
    else this.perSubscriber.delete(s.subscriber);
    return true;
  }

  /**
   * End a subscription. RFC 6665 §4.2.1.4: the notifier "SHOULD send a
   * NOTIFY request with a 'Subscription-State' value of 'terminated'" with
   * reason=timeout, for an expiry and an unsubscribe (Expires: 0) alike.
   */
  private end(s: Subscription, reason: EndReason, status?: number): void {
    if (!this.remove(s)) return;
    this.d.log.debug('subscription-ended', { package: s.pkg.name, subscriber: s.subscriber, reason, status });
    s.pkg.ended?.(info(s), reason, status);
    if (reason === 'notify-failed') {
      s.next = null;
      return;
    }
    void this.post(s, reason === 'rejected' ? 'rejected' : 'timeout');
  }

  /**
   * Send a NOTIFY on s, or queue it behind the one still outstanding. One
   * NOTIFY at a time per subscription keeps the states in the order of
   * their CSeqs (RFC 3261 §12.2.1.1: each request of the dialog one higher):
   * a burst of changes becomes one NOTIFY of the latest state, and the final
   * NOTIFY (terminated) is never overtaken or replaced.
   */
  private async post(s: Subscription, state: NotifyState): Promise<void> {
    if (s.sending) {
      if (s.next === null || s.next === 'active') s.next = state;
      return;
    }
    s.sending = true;
    let req: SipMessage;
    try {
      const body = state === 'rejected' ? undefined : await s.pkg.body(s.resource);
      req = buildNotify(s, state, { now: this.d.clock.now(), body, contact: this.d.contactFor(s.dialog.remote), userAgent: this.d.userAgent });
    } catch (err) {
      this.d.log.error('notify-body-failed', { package: s.pkg.name, resource: s.resource, error: (err as Error).message });
      this.answered(s, { status: 200 });
      return;
    }
    this.stats.notifies++;
    void this.d.send(req, s.dialog.remote).then((o) => this.answered(s, o));
  }

  private answered(s: Subscription, o: NotifyOutcome): void {
    s.sending = false;
    if (notifyFailed(o)) {
      this.stats.notifyFailures++;
      this.d.log.info('notify-failed', { package: s.pkg.name, subscriber: s.subscriber, status: o.status });
      // RFC 6665 §4.2.2: a 481 (or a NOTIFY that timed out) removes the subscription; nothing more is sent
      s.next = null;
      this.end(s, 'notify-failed', o.status);
      return;
    }
    const next = s.next;
    s.next = null;
    if (next !== null) void this.post(s, next);
  }

  /** a NOTIFY outside any subscription to one registered contact (see EventPackage.unsolicited) */
  private async sendUnsolicited(pkg: EventPackage, resource: string, contactUri: string, remote: Remote): Promise<void> {
    const aor = `sip:${resource}@${this.d.domain}`;
    let body: string | Buffer;
    try {
      body = await pkg.body(resource);
    } catch (err) {
      this.d.log.error('notify-body-failed', { package: pkg.name, resource, error: (err as Error).message });
      return;
    }
    const m = new SipMessage();
    m.method = 'NOTIFY';
    m.uri = contactUri;
    m.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `<${aor}>;tag=${newToken()}` },
      { name: 'to', value: `<${aor}>` },
      { name: 'call-id', value: `${randomHex(10)}@palisade` },
      { name: 'cseq', value: '1 NOTIFY' },
      { name: 'contact', value: this.d.contactFor(remote) },
      { name: 'event', value: formatEvent(pkg.name, '') },
      { name: 'subscription-state', value: 'active' },
      { name: 'user-agent', value: this.d.userAgent },
      { name: 'content-type', value: pkg.accept[0]! },
    );
    m.body = Buffer.from(body);
    this.stats.unsolicited++;
    void this.d.send(m, remote);
  }

  private reply(req: SipMessage, status: number, reason: string, headers?: Array<[string, string]>): SipMessage {
    return buildResponse(req, status, reason, { toTag: newToken(), server: this.d.userAgent, headers });
  }
}

function resourceKey(pkgName: string, resource: string): string {
  return `${pkgName}\u0000${resource}`;
}
