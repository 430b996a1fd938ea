// The limits on MESSAGE: a flood from one address (counted before
// authentication, so unauthenticated guessing floods count too), the rate
// one extension may send at, and how many distinct recipients it may write
// to in a minute (a spam pattern). Fixed windows and Map look-ups only: the
// decision costs a few integer compares (docs/architecture.md, Security
// rules), and the maps are bounded so spoofed sources cannot grow them.
export interface MessageLimitsOptions {
  /** MESSAGE requests a second from one address; 0 = no flood rule */
  floodRate: number;
  /** messages a minute from one extension */
  ratePerUser: number;
  /** distinct recipients a minute from one extension */
  maxRecipients: number;
  clock?: () => number;
}

export type SenderVerdict = { ok: true } | { ok: false; rule: 'rate' | 'recipients'; detail: string };

const MAX_TRACKED = 100_000;

export class MessageLimits {
  private readonly clock: () => number;
  private second = 0;
  private perAddress = new Map<string, number>();
  private minute = 0;
  private perUser = new Map<string, { sent: number; to: Set<string> }>();

  constructor(private readonly o: MessageLimitsOptions) {
    this.clock = o.clock ?? Date.now;
  }

  /**
   * One MESSAGE from `address`: true exactly once, when it is the first over
   * the flood rate in this second (the caller reports the flood once).
   */
  floodFrom(address: string): boolean {
    const limit = this.o.floodRate;
    if (limit <= 0) return false;
    const now = this.clock();
    if (now - this.second >= 1000 || this.perAddress.size >= MAX_TRACKED) {
      this.perAddress = new Map();
      this.second = now;
    }
    const n = (this.perAddress.get(address) ?? 0) + 1;
    this.perAddress.set(address, n);
    return n === limit + 1;
  }

  /** whether the address is over the flood rate in this second */
  flooding(address: string): boolean {
    return this.o.floodRate > 0 && (this.perAddress.get(address) ?? 0) > this.o.floodRate && this.clock() - this.second < 1000;
  }

  /** an authenticated extension sends one message to `recipient` */
  send(user: string, recipient: string): SenderVerdict {
    const now = this.clock();
    if (now - this.minute >= 60_000 || this.perUser.size >= MAX_TRACKED) {
      this.perUser = new Map();
      this.minute = now;
    }
    let u = this.perUser.get(user);
    if (!u) this.perUser.set(user, (u = { sent: 0, to: new Set() }));
    if (u.sent >= this.o.ratePerUser) return { ok: false, rule: 'rate', detail: `more than ${this.o.ratePerUser} messages a minute` };
    if (!u.to.has(recipient) && u.to.size >= this.o.maxRecipients) {
      return { ok: false, rule: 'recipients', detail: `more than ${this.o.maxRecipients} recipients a minute` };
    }
    u.sent++;
    u.to.add(recipient);
    return { ok: true };
  }
}
