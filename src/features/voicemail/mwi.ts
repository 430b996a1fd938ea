// Message-waiting indication: the notifier side of the message-summary event
// package (RFC 3842) over SIP-specific event notification (RFC 6665).
//
// A phone SUBSCRIBEs to its own mailbox (Request-URI sip:756@pbx); the
// request is digest-authenticated exactly like REGISTER, challenges are sent
// statelessly, and an extension may only watch its own mailbox (403). Each
// accepted SUBSCRIBE gets a 200 and an immediate NOTIFY with the current
// counts (RFC 6665 §4.2.1.2), refreshes get a NOTIFY too, Expires: 0 ends the
// subscription with a final NOTIFY "terminated" (§4.2.1.4), and every change
// to the mailbox sends a NOTIFY. Mailboxes nobody subscribed to may still get
// an unsolicited NOTIFY at each registered contact (what Asterisk does, and
// what many desk phones expect).
import { buildResponse } from '../../sip/message/response.js';
import { SipMessage } from '../../sip/message/sip-message.js';
import type { ServerTxHandle } from '../../sip/b2bua/types.js';
import type { SecurityEventSink } from '../../security/ids/security-event.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import { randomHex } from '../../sip/dialog/dialog.js';
import type { MailboxRef, MessageCounts } from './mailbox-store.js';

export const MWI_EVENT = 'message-summary';
export const MWI_CONTENT_TYPE = 'application/simple-message-summary';
const MIN_EXPIRES = 60;

export interface MwiOptions {
  /**
   * digest authentication as for every request the UAS core answers itself
   * (src/sip/ua/request-auth.ts): the challenge to send, or who it is
   */
  authenticate: (req: SipMessage, remote: Remote) => { response: SipMessage } | { user: string };
  domain: string;
  server: string;
  /** RFC 3842 has no default duration of its own; RFC 6665 §4.2.1.1 lets the notifier choose */
  defaultExpires?: number;
  maxExpires: number;
  unsolicited: boolean;
  isLocalDomain: (host: string) => boolean;
  /** the mailbox an extension owns (same number), undefined when it has none */
  mailboxOf: (user: string) => MailboxRef | undefined;
  counts: (box: MailboxRef) => Promise<MessageCounts>;
  /** registered contacts of an AOR, for unsolicited NOTIFY */
  contactsOf: (aor: string) => Array<{ contactUri: string; remote: Remote }>;
  /** our Contact header value for a peer at remote */
  contactFor: (remote: Remote) => string;
  /** sends a request in a client transaction; resolves with the final status (0: timeout or transport error) */
  send: (req: SipMessage, remote: Remote) => Promise<number>;
  security?: SecurityEventSink;
  log: Logger;
  clock?: () => number;
}

interface Subscription {
  id: string;
  user: string;
  box: MailboxRef;
  callId: string;
  /** the subscriber's From tag and our To tag (RFC 6665 §4.1.2.1: the dialog) */
  remoteTag: string;
  localTag: string;
  /** From and To as we write them on NOTIFY (swapped relative to the SUBSCRIBE) */
  remoteNameAddr: string;
  localNameAddr: string;
  remoteTarget: string;
  remote: Remote;
  localCseq: number;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

export class MwiService {
  private readonly subs = new Map<string, Subscription>(); // key: callId + remote tag + local tag
  private readonly clock: () => number;
  stats = { subscribes: 0, notifies: 0, notifyFailures: 0, unsolicited: 0 };

  constructor(private readonly o: MwiOptions) {
    this.clock = o.clock ?? Date.now;
  }

  get count(): number {
    return this.subs.size;
  }

  /**
   * A SUBSCRIBE from the UAS core. Returns false for anything that is not
   * ours (another event package inside an existing dialog), so the caller
   * can pass it on.
   */
  handleSubscribe(tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean {
    const event = (req.get('event') ?? '').split(';')[0]!.trim().toLowerCase();
    const toTag = req.to.params.tag ?? undefined;
    // another package inside a dialog (a call's REFER subscription): not ours
    if (event !== MWI_EVENT && toTag !== undefined) return false;

    // Authenticate before anything else is said about the request (docs/architecture.md, Security rules),
    // as the registrar does, so unknown and known mailboxes look the same
    // from outside; the challenge is stateless (a guess costs no memory).
    const v = this.o.authenticate(req, remote);
    if ('response' in v) {
      if (v.response.status === 401) tx.respondStateless(v.response);
      else tx.respond(v.response);
      return true;
    }
    if (event !== MWI_EVENT) {
      // RFC 6665 §4.2.1: an event package we do not serve → 489 with Allow-Events
      tx.respond(this.reply(req, 489, 'Bad Event', [['allow-events', MWI_EVENT]]));
      return true;
    }
    this.stats.subscribes++;
    const accept = req.get('accept');
    if (accept !== undefined && !accept.toLowerCase().split(',').some((t) => { const m = t.trim().split(';')[0]; return m === MWI_CONTENT_TYPE || m === '*/*' || m === 'application/*'; })) {
      tx.respond(this.reply(req, 406, 'Not Acceptable', [['accept', MWI_CONTENT_TYPE]]));
      return true;
    }
    const ruri = req.ruri;
    const user = ruri.user ?? req.to.uri.user ?? '';
    // only the owner watches a mailbox (RFC 3842 §7: the summary reveals activity)
    if (v.user !== user || !this.o.isLocalDomain(ruri.host)) {
      this.o.security?.emit({ type: 'RequestNotAllowed', level: 5, time: this.clock(), service: 'SIP', remote, account: v.user, sessionId: req.callId, detail: `SUBSCRIBE to mailbox ${user.slice(0, 32)} of another user` });
      tx.respond(this.reply(req, 403, 'Forbidden'));
      return true;
    }
    const box = this.o.mailboxOf(user);
    if (!box) {
      tx.respond(this.reply(req, 404, 'No Such Mailbox'));
      return true;
    }

    const asked = req.getInt('expires') ?? this.o.defaultExpires ?? 3600;
    // RFC 6665 §4.2.1.1: a too-short interval gets 423 with Min-Expires
    if (asked > 0 && asked < MIN_EXPIRES) {
      tx.respond(this.reply(req, 423, 'Interval Too Brief', [['min-expires', String(MIN_EXPIRES)]]));
      return true;
    }
    const expires = Math.min(asked, this.o.maxExpires);

    let sub: Subscription | undefined;
    if (toTag !== undefined) {
      sub = this.subs.get(subKey(req.callId, req.from.params.tag ?? '', toTag));
      // RFC 6665 §4.2.1.4 / RFC 3261 §12.2.2: a refresh for a dialog we do not know
      if (!sub) {
        tx.respond(this.reply(req, 481, 'Subscription Does Not Exist'));
        return true;
      }
      if (sub.user !== v.user) {
        tx.respond(this.reply(req, 403, 'Forbidden'));
        return true;
      }
    }
    const contact = req.contacts[0];
    if (!contact && !sub) {
      // RFC 6665 §3.1.1: SUBSCRIBE carries a Contact, our NOTIFY target
      tx.respond(this.reply(req, 400, 'Missing Contact'));
      return true;
    }
    if (!sub) {
      const localTag = randomHex(6);
      const remoteTag = req.from.params.tag ?? '';
      sub = {
        id: subKey(req.callId, remoteTag, localTag),
        user,
        box,
        callId: req.callId,
        remoteTag,
        localTag,
        remoteNameAddr: req.get('from')!,
        localNameAddr: `${stripTag(req.get('to')!)};tag=${localTag}`,
        remoteTarget: contact!.uri.raw,
        remote: { ...remote },
        localCseq: Math.floor(Math.random() * 10000) + 1,
        expiresAt: 0,
        timer: setTimeout(() => {}, 0),
      };
      this.subs.set(sub.id, sub);
    } else if (contact) {
      // RFC 6665 §4.1.2.1: a refresh may update the remote target
      sub.remoteTarget = contact.uri.raw;
      sub.remote = { ...remote };
    }

    const s = sub;
    clearTimeout(s.timer);
    tx.respond(
      buildResponse(req, 200, 'OK', {
        toTag: s.localTag,
        server: this.o.server,
        headers: [
          ['expires', String(expires)],
          ['contact', this.o.contactFor(remote)],
        ],
      }),
    );
    if (expires === 0) {
      this.subs.delete(s.id);
      this.o.log.info('mwi-unsubscribed', { user, mailbox: `${box.number}@${box.context}` });
      void this.notify(s, 'terminated;reason=timeout');
      return true;
    }
    s.expiresAt = this.clock() + expires * 1000;
    s.timer = setTimeout(() => this.expire(s), expires * 1000);
    s.timer.unref();
    this.o.log.info('mwi-subscribed', { user, mailbox: `${box.number}@${box.context}`, expires, refresh: toTag !== undefined });
    void this.notify(s, `active;expires=${expires}`);
    return true;
  }

  /** the mailbox changed: NOTIFY its subscribers, or its registered contacts when none */
  async onMailboxChange(box: MailboxRef, counts: MessageCounts): Promise<void> {
    let subscribed = false;
    for (const s of this.subs.values()) {
      if (s.box.number !== box.number || s.box.context !== box.context) continue;
      subscribed = true;
      const left = Math.max(1, Math.round((s.expiresAt - this.clock()) / 1000));
      void this.notify(s, `active;expires=${left}`, counts);
    }
    if (subscribed || !this.o.unsolicited) return;
    for (const c of this.o.contactsOf(box.number)) void this.sendUnsolicited(box, c.contactUri, c.remote, counts);
  }

  /**
   * A phone just registered: tell it the state of its mailbox at once (its
   * lamp may be wrong after a reboot), unless it keeps a subscription.
   */
  async onRegistered(aor: string, contactUri: string, remote: Remote): Promise<void> {
    if (!this.o.unsolicited) return;
    const box = this.o.mailboxOf(aor);
    if (!box) return;
    for (const s of this.subs.values()) if (s.box.number === box.number && s.box.context === box.context) return;
    await this.sendUnsolicited(box, contactUri, remote, await this.o.counts(box));
  }

  stop(): void {
    for (const s of this.subs.values()) clearTimeout(s.timer);
    this.subs.clear();
  }

  private expire(s: Subscription): void {
    if (this.subs.get(s.id) !== s) return;
    this.subs.delete(s.id);
    this.o.log.info('mwi-expired', { user: s.user });
    // RFC 6665 §4.2.2: the notifier ends an expired subscription with reason=timeout
    void this.notify(s, 'terminated;reason=timeout');
  }

  private async notify(s: Subscription, state: string, counts?: MessageCounts): Promise<void> {
    const c = counts ?? (await this.o.counts(s.box));
    const m = new SipMessage();
    m.method = 'NOTIFY';
    m.uri = s.remoteTarget;
    m.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: s.localNameAddr },
      { name: 'to', value: s.remoteNameAddr },
      { name: 'call-id', value: s.callId },
      { name: 'cseq', value: `${++s.localCseq} NOTIFY` },
      { name: 'contact', value: this.o.contactFor(s.remote) },
      { name: 'event', value: MWI_EVENT },
      { name: 'subscription-state', value: state },
      { name: 'user-agent', value: this.o.server },
      { name: 'content-type', value: MWI_CONTENT_TYPE },
    );
    m.body = Buffer.from(summaryBody(c, `sip:${s.box.number}@${this.o.domain}`));
    this.stats.notifies++;
    const status = await this.o.send(m, s.remote);
    // RFC 6665 §4.2.2: a 481 (or no answer at all) ends the subscription
    if (status === 0 || status === 481 || (status >= 400 && status !== 408 && status !== 500 && status !== 503)) {
      this.stats.notifyFailures++;
      if (this.subs.get(s.id) === s) {
        this.subs.delete(s.id);
        clearTimeout(s.timer);
        this.o.log.info('mwi-subscription-dropped', { user: s.user, status });
      }
    }
  }

  private async sendUnsolicited(box: MailboxRef, contactUri: string, remote: Remote, c: MessageCounts): Promise<void> {
    const aor = `sip:${box.number}@${this.o.domain}`;
    const tag = randomHex(6);
    const m = new SipMessage();
    m.method = 'NOTIFY';
    m.uri = contactUri;
    m.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `<${aor}>;tag=${tag}` },
      { name: 'to', value: `<${aor}>` },
      { name: 'call-id', value: `${randomHex(10)}@palisade` },
      { name: 'cseq', value: '1 NOTIFY' },
      { name: 'contact', value: this.o.contactFor(remote) },
      { name: 'event', value: MWI_EVENT },
      { name: 'subscription-state', value: 'active' },
      { name: 'user-agent', value: this.o.server },
      { name: 'content-type', value: MWI_CONTENT_TYPE },
    );
    m.body = Buffer.from(summaryBody(c, aor));
    this.stats.unsolicited++;
    await this.o.send(m, remote);
  }

  private reply(req: SipMessage, status: number, reason?: string, headers?: Array<[string, string]>): SipMessage {
    return buildResponse(req, status, reason, { toTag: randomHex(6), server: this.o.server, headers });
  }
}

/** RFC 3842 §5.2: the message-summary body */
export function summaryBody(c: MessageCounts, account: string): string {
  return (
    `Messages-Waiting: ${c.newCount > 0 ? 'yes' : 'no'}\r\n` +
    `Message-Account: ${account}\r\n` +
    `Voice-Message: ${c.newCount}/${c.oldCount} (${c.urgentNew}/${c.urgentOld})\r\n`
  );
}

function subKey(callId: string, remoteTag: string, localTag: string): string {
  return `${callId}\u0000${remoteTag}\u0000${localTag}`;
}

function stripTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag=[^;]*/i, '');
}
