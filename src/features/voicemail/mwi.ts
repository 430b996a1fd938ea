// Message-waiting indication: the message-summary event package (RFC 3842)
// served by the RFC 6665 event server (src/sip/events/). The server does
// the subscriptions; this file says what is particular to MWI: a phone
// watches its own mailbox (the Request-URI user is the extension, its mailbox
// the same number in [default]), the body is the summary of RFC 3842 §5, and
// a mailbox nobody subscribed to may still be announced to the extension's
// registered phones (mwi_unsolicited).
import type { EventPackage, EventRegistry, SubscriptionInfo, EndReason } from '../../sip/events/index.js';
import type { Logger } from '../../observability/logger.js';
import type { MailboxRef, MessageCounts } from './mailbox-store.js';

export const MWI_EVENT = 'message-summary';
export const MWI_CONTENT_TYPE = 'application/simple-message-summary';

export interface MwiOptions {
  /** for Message-Account: sip:MAILBOX@DOMAIN */
  domain: string;
  /** RFC 3842 has no default duration of its own; RFC 6665 §4.2.1.1 lets the notifier choose */
  defaultExpires?: number;
  maxExpires: number;
  unsolicited: boolean;
  /** the mailbox an extension owns (same number), undefined when it has none */
  mailboxOf: (user: string) => MailboxRef | undefined;
  counts: (box: MailboxRef) => Promise<MessageCounts>;
  log: Logger;
}

export class MwiPackage implements EventPackage {
  readonly name = MWI_EVENT;
  readonly accept = [MWI_CONTENT_TYPE];
  readonly expires: EventPackage['expires'];
  readonly unsolicited: boolean;

  constructor(
    private readonly o: MwiOptions,
    private readonly events: Pick<EventRegistry, 'notify'>,
  ) {
    this.expires = { min: 60, max: o.maxExpires, default: o.defaultExpires ?? 3600 };
    this.unsolicited = o.unsolicited;
  }

  /** only the owner watches a mailbox (RFC 3842 §7: the summary reveals activity) */
  authorize(subscriber: string, resource: string): boolean {
    return subscriber === resource;
  }

  exists(resource: string): boolean {
    return this.o.mailboxOf(resource) !== undefined;
  }

  async body(resource: string): Promise<string> {
    const box = this.o.mailboxOf(resource);
    const counts = box ? await this.o.counts(box) : { newCount: 0, oldCount: 0, urgentNew: 0, urgentOld: 0 };
    return summaryBody(counts, `sip:${resource}@${this.o.domain}`);
  }

  /** a mailbox changed: NOTIFY its owner's subscriptions (or registered phones) */
  async onMailboxChange(box: MailboxRef, elsewhere = false): Promise<void> {
    const owned = this.o.mailboxOf(box.number);
    // only the mailbox an extension owns has watchers
    if (owned?.context !== box.context) return;
    // changed in another worker (sip.workers > 1): that worker told the registered phones; the subscriptions held here hear it now
    await this.events.notify(MWI_EVENT, box.number, { subscribersOnly: elsewhere });
  }

  subscribed(s: SubscriptionInfo, refresh: boolean): void {
    this.o.log.info('mwi-subscribed', { user: s.subscriber, mailbox: `${s.resource}@${this.o.mailboxOf(s.resource)?.context}`, expires: s.expires, refresh });
  }

  ended(s: SubscriptionInfo, reason: EndReason, status?: number): void {
    const event = { expired: 'mwi-expired', unsubscribed: 'mwi-unsubscribed', rejected: 'mwi-rejected', 'notify-failed': 'mwi-subscription-dropped' }[reason];
    this.o.log.info(event, { user: s.subscriber, status });
  }
}

/** RFC 3842 §5.2: the message-summary body */
export function summaryBody(c: MessageCounts, account: string): string {
  return (
    `Messages-Waiting: ${c.newCount > 0 ? 'yes' : 'no'}\r\n` + `Message-Account: ${account}\r\n` + `Voice-Message: ${c.newCount}/${c.oldCount} (${c.urgentNew}/${c.urgentOld})\r\n`
  );
}
