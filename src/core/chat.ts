// Instant messages and published presence between the modules that carry
// them (SIP MESSAGE, the presence package) and bridges to other networks
// (XMPP): a port in core/ (docs/architecture.md, "Messaging, presence and
// chat"), so a bridge neither imports the messaging module nor it the bridge.

/** one message to or from a local extension */
export interface ChatMessage {
  to: string;
  from: string;
  fromName: string;
  contentType: string;
  body: Buffer;
  /** epoch ms it was sent */
  at: number;
  /** where it came from: 'sip', 'dialplan', or a bridge's name ('xmpp') */
  via: string;
}

/** presence a bridge publishes for an extension, as a user agent's PUBLISH would */
export interface PublishedPresence {
  open: boolean;
  /** RPID activities: away, busy, on-the-phone... */
  activities: string[];
  note: string;
}

export class ChatHub {
  private router: ((m: ChatMessage) => Promise<string>) | null = null;
  private presence: ((source: string, ext: string, p: PublishedPresence | null) => void) | null = null;
  private readonly taps = new Set<(m: ChatMessage) => void>();

  /** the messaging module: how a message reaches a local extension */
  setRouter(fn: (m: ChatMessage) => Promise<string>): void {
    if (this.router) throw new Error('messages have a router already');
    this.router = fn;
  }

  /** the presence module: where bridges' presence goes */
  setPresenceSink(fn: (source: string, ext: string, p: PublishedPresence | null) => void): void {
    if (this.presence) throw new Error('presence has a sink already');
    this.presence = fn;
  }

  /** a bridge sends a message to a local extension; resolves with the outcome ('delivered', 'stored', 'unknown', 'dropped', 'no-router') */
  async send(m: ChatMessage): Promise<string> {
    return this.router ? this.router(m) : 'no-router';
  }

  /** a bridge publishes (or with null withdraws) an extension's presence */
  publish(source: string, ext: string, p: PublishedPresence | null): void {
    this.presence?.(source, ext, p);
  }

  /** every message handed to a local extension (bridges copy it to their side); returns the unsubscribe */
  onDelivered(fn: (m: ChatMessage) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  /** the messaging module tells the bridges */
  delivered(m: ChatMessage): void {
    for (const fn of this.taps) {
      try {
        fn(m);
      } catch {
        // a bridge's fault never reaches the message path
      }
    }
  }
}
