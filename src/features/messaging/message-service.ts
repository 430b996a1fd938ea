// SIP MESSAGE between extensions (RFC 3428): the MESSAGE route of the request
// pipeline, delivery to every registered contact of the recipient, the
// store-and-forward queue for recipients that are offline, and the dialplan's
// message context. The order of a request's checks keeps what the sender
// learns independent of the recipient:
//   flood count (by address, before anything) → digest challenge → size →
//   the sender's rate and recipient limits → 202 Accepted → delivery.
// Every request that passes authentication and the limits gets the same
// 202 at once, whether the recipient exists, is online or is offline
// (RFC 3428 §7: "a 202 ... indicates that the request has been accepted for
// processing, but the processing has not been completed"), so nothing tells
// a sender which extensions exist. MESSAGE is never relayed outside: only
// local extensions' registered contacts receive one.
import { buildResponse } from '../../sip-message/response.js';
import { SipMessage } from '../../sip-message/sip-message.js';
import { newToken, randomHex } from '../../sip/dialog/dialog.js';
import { requestTarget, type Binding } from '../../sip/ua/location.js';
import type { ServerTxHandle } from '../../sip/b2bua/types.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import type { SecurityEventSink } from '../../core/security-event.js';
import { securityEvent } from '../../security/ids/event-levels.js';
import type { MessagingConfig } from './read-messaging.js';
import { MessageLimits } from './message-limits.js';
import type { MessageStore, StoredMessage } from './message-store.js';

/** one message on its way, whatever brought it (SIP, the dialplan, the XMPP bridge) */
export interface OutgoingMessage {
  /** the recipient extension */
  to: string;
  /** the sending extension (or the identity a dialplan gives) */
  from: string;
  fromName: string;
  contentType: string;
  body: Buffer;
  /** when it was first accepted (ms); a stored message keeps it (the Date header) */
  at: number;
}

/** how a message ended up: handed to a phone, queued for later, or lost */
export type DeliveryOutcome = 'delivered' | 'stored' | 'dropped' | 'unknown';

/** a message for a local extension (bridges copy it to their side); true when the bridge took it for the recipient */
export type MessageTap = (m: OutgoingMessage, via: string) => boolean;

/** the dialplan's message context: runs a message through it */
export interface MessageDialplan {
  has(context: string, exten: string, callerId: string): boolean;
  run(m: OutgoingMessage, context: string, remote: Remote): Promise<void>;
}

export interface MessagingDeps {
  cfg: MessagingConfig;
  domain: string;
  userAgent: string;
  authenticate(req: SipMessage, remote: Remote): { response: SipMessage } | { user: string };
  extensions: { get(n: string): { name: string; context: string } | undefined };
  location: { lookup(aor: string): Binding[] };
  /** sends a request in a client transaction; resolves with the final status (408 on timeout, 503 on a transport error) */
  send(req: SipMessage, remote: Remote): Promise<number>;
  store: MessageStore;
  security: SecurityEventSink;
  log: Logger;
  dialplan?: MessageDialplan;
  clock?: () => number;
  /**
   * Addresses the per-address flood rule does not count: the IDS's trusted
   * list, where a proxy in front (Kamailio before a cluster) sends every
   * user's messages from one address. Each user's rate still applies.
   */
  floodExempt?: (address: string) => boolean;
}

export class MessageService {
  readonly limits: MessageLimits;
  readonly stats = { received: 0, accepted: 0, delivered: 0, stored: 0, dropped: 0, expired: 0, unknown: 0, floods: 0, limited: 0, tooLarge: 0 };
  private readonly flushing = new Set<string>();
  private readonly taps: MessageTap[] = [];
  private readonly clock: () => number;

  constructor(private readonly d: MessagingDeps) {
    this.clock = d.clock ?? Date.now;
    this.limits = new MessageLimits({ floodRate: d.cfg.floodRate, ratePerUser: d.cfg.ratePerUser, maxRecipients: d.cfg.maxRecipients, clock: this.clock });
  }

  /** a bridge that may take messages for some extensions (the XMPP users online in chat) */
  addTap(tap: MessageTap): void {
    this.taps.push(tap);
  }

  /** the pipeline's MESSAGE route (RFC 3428 §7: a MESSAGE outside a dialog) */
  handle = (tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean => {
    // inside a dialog it belongs to the dialog's owner (the B2BUA)
    if (req.to.params.tag !== undefined) return false;
    this.stats.received++;
    const counted = this.d.floodExempt?.(remote.address) !== true;
    if (counted && this.limits.floodFrom(remote.address)) this.flood(remote, req, `more than ${this.d.cfg.floodRate} MESSAGE requests/s`);
    if (counted && this.limits.flooding(remote.address)) {
      // the IDS bans on the first; a trusted address (or one with the IDS off) is refused cheaply, before digest
      tx.respondStateless(this.reply(req, 503, 'Service Unavailable', [['retry-after', '10']]));
      return true;
    }
    const who = this.d.authenticate(req, remote);
    if ('response' in who) {
      if (who.response.status === 401) tx.respondStateless(who.response);
      else tx.respond(who.response);
      return true;
    }
    const user = who.user;
    // RFC 3428 §8: a MESSAGE too large for the path is refused with 413
    if (req.body.length > this.d.cfg.maxBody) {
      this.stats.tooLarge++;
      tx.respond(this.reply(req, 413, 'Request Entity Too Large'));
      return true;
    }
    if (req.body.length === 0) {
      tx.respond(this.reply(req, 400, 'Empty Message'));
      return true;
    }
    const to = req.ruri.user ?? '';
    if (to === '') {
      tx.respond(this.reply(req, 404, 'Not Found'));
      return true;
    }
    const verdict = this.limits.send(user, to);
    if (!verdict.ok) {
      this.stats.limited++;
      if (verdict.rule === 'recipients') {
        // writing to ever more extensions is spam (or enumeration): the IDS bans it like a flood
        this.flood(remote, req, `message spam: ${verdict.detail}`, user);
        tx.respond(this.reply(req, 403, 'Forbidden'));
      } else {
        this.d.log.warn('message-rate-limited', { from: user, detail: verdict.detail });
        tx.respond(this.reply(req, 503, 'Service Unavailable', [['retry-after', '60']]));
      }
      return true;
    }
    this.stats.accepted++;
    tx.respond(this.reply(req, 202, 'Accepted'));
    const m: OutgoingMessage = {
      to,
      from: user,
      fromName: this.d.extensions.get(user)?.name ?? '',
      contentType: req.get('content-type') ?? 'text/plain',
      body: req.body,
      at: this.clock(),
    };
    void this.route(m, remote).catch((err: Error) => this.d.log.error('message-failed', { from: user, error: err.message }));
    return true;
  };

  /** an accepted MESSAGE: the dialplan's message context if it serves the recipient, else straight to the extension */
  private async route(m: OutgoingMessage, remote: Remote): Promise<void> {
    const context = this.d.cfg.context;
    if (context && this.d.dialplan?.has(context, m.to, m.from)) {
      this.d.log.info('message-to-dialplan', { from: m.from, to: m.to, context });
      await this.d.dialplan.run(m, context, remote);
      return;
    }
    await this.deliver(m);
  }

  /**
   * Delivers to every registered contact of the recipient; when none takes it
   * (offline, or every phone refused), it is kept for the next registration.
   */
  async deliver(m: OutgoingMessage, via = 'sip'): Promise<DeliveryOutcome> {
    if (!this.d.extensions.get(m.to)) {
      // told to nobody but the log: the sender got the same 202 as for a real extension
      this.stats.unknown++;
      this.d.log.info('message-unknown-recipient', { from: m.from, to: m.to.slice(0, 32) });
      return 'unknown';
    }
    let tapped = false;
    for (const t of this.taps) if (t(m, via)) tapped = true;
    const ok = await this.toContacts(m);
    if (ok || tapped) {
      this.stats.delivered++;
      this.d.log.info('message-delivered', { from: m.from, to: m.to, phones: ok, bridge: tapped });
      return 'delivered';
    }
    return this.keep(m);
  }

  /** true when at least one registered contact answered 2xx */
  private async toContacts(m: OutgoingMessage, stored = false): Promise<boolean> {
    const contacts = this.d.location.lookup(m.to);
    if (contacts.length === 0) return false;
    const statuses = await Promise.all(contacts.map((b) => this.d.send(this.build(m, b.contactUri, stored), requestTarget(b))));
    return statuses.some((s) => s >= 200 && s < 300);
  }

  private async keep(m: OutgoingMessage): Promise<DeliveryOutcome> {
    if (this.d.cfg.storeForSec === 0) {
      this.stats.dropped++;
      this.d.log.info('message-dropped', { from: m.from, to: m.to, reason: 'recipient offline, store_for is 0' });
      return 'dropped';
    }
    const stored = await this.d.store.put(
      { recipient: m.to, sender: m.from, senderName: m.fromName, contentType: m.contentType, body: m.body, createdAt: m.at, expiresAt: m.at + this.d.cfg.storeForSec * 1000 },
      this.d.cfg.storeMax,
    );
    if (!stored) {
      this.stats.dropped++;
      this.d.log.warn('message-dropped', { from: m.from, to: m.to, reason: `recipient queue full (${this.d.cfg.storeMax})` });
      return 'dropped';
    }
    this.stats.stored++;
    this.d.log.info('message-stored', { from: m.from, to: m.to, id: stored.id, waiting: this.d.store.pending(m.to) });
    return 'stored';
  }

  /** a contact of `aor` registered: what waits for it is delivered, oldest first */
  async registered(aor: string): Promise<void> {
    if (this.d.store.pending(aor) === 0 || this.flushing.has(aor)) return;
    this.flushing.add(aor);
    try {
      for (const s of await this.d.store.forRecipient(aor)) {
        const m: OutgoingMessage = { to: s.recipient, from: s.sender, fromName: s.senderName, contentType: s.contentType, body: s.body, at: s.createdAt };
        if (!(await this.toContacts(m, true))) break;
        await this.d.store.remove(s);
        this.stats.delivered++;
        this.d.log.info('message-delivered', { from: s.sender, to: s.recipient, id: s.id, stored: Math.round((this.clock() - s.createdAt) / 1000) });
      }
    } finally {
      this.flushing.delete(aor);
    }
  }

  /** undelivered messages, for the `messages` command (no body: it is the users') */
  async waiting(): Promise<Array<{ id: string; from: string; to: string; bytes: number; age: number; expires_in: number }>> {
    const now = this.clock();
    return (await this.d.store.list()).map((s) => ({
      id: s.id,
      from: s.sender,
      to: s.recipient,
      bytes: s.body.length,
      age: Math.round((now - s.createdAt) / 1000),
      expires_in: Math.max(0, Math.round((s.expiresAt - now) / 1000)),
    }));
  }

  /** drops messages kept longer than store_for, one log line each */
  async expire(): Promise<number> {
    const gone: StoredMessage[] = await this.d.store.expire(this.clock());
    for (const s of gone) {
      this.stats.expired++;
      this.d.log.info('message-expired', { from: s.sender, to: s.recipient, id: s.id, age: Math.round((this.clock() - s.createdAt) / 1000) });
    }
    return gone.length;
  }

  /** RFC 3428 §7: a MESSAGE to one contact, outside any dialog; no Contact (§4: none is needed) */
  build(m: OutgoingMessage, contactUri: string, stored: boolean): SipMessage {
    const domain = this.d.domain;
    const req = new SipMessage();
    req.method = 'MESSAGE';
    req.uri = contactUri;
    const name = m.fromName ? `"${m.fromName.replace(/["\\\r\n]/g, '')}" ` : '';
    req.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `${name}<sip:${m.from}@${domain}>;tag=${newToken()}` },
      { name: 'to', value: `<sip:${m.to}@${domain}>` },
      { name: 'call-id', value: `${randomHex(10)}@palisade` },
      { name: 'cseq', value: '1 MESSAGE' },
      { name: 'user-agent', value: this.d.userAgent },
      { name: 'content-type', value: m.contentType },
    );
    // RFC 3261 §20.17: when it was sent, for a message that waited in the queue
    if (stored) req.headers.push({ name: 'date', value: new Date(m.at).toUTCString() });
    req.body = Buffer.from(m.body);
    return req;
  }

  private flood(remote: Remote, req: SipMessage, detail: string, account?: string): void {
    this.stats.floods++;
    this.d.log.warn('message-flood', { remote: remote.address, account, detail });
    this.d.security.emit(securityEvent('Flood', { remote, account, sessionId: req.callId, detail, extra: { method: 'MESSAGE' } }));
  }

  private reply(req: SipMessage, status: number, reason: string, headers?: Array<[string, string]>): SipMessage {
    return buildResponse(req, status, reason, { toTag: newToken(), server: this.d.userAgent, headers });
  }
}
