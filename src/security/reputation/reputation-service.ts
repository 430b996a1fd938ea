// What counts as good and bad evidence, on top of the beta model
// (reputation-book.ts). Subjects are "ip:ADDRESS" and "user:NUMBER".
//
// Good: a successful authentication (credited at most once per subject per
//   auth_credit_interval, so a stolen password replayed a thousand times
//   does not buy a thousand good marks), an answered call longer than
//   good_call_seconds (30 s) for caller, callee and the caller's address.
// Bad: a failed authentication (against the address only: counting it
//   against the user would let anyone lock a user out by guessing), a
//   wrong PIN during a call (VoiceMailMain, Authenticate()...: against the
//   address like a failed digest, and a quarter mark against the calling
//   extension — see pinFailed), a call
//   refused by a call-gate fraud rule (user and address), a call the callee
//   declined with 603 or 607 Unwanted (RFC 8197; the caller), very
//   short answered calls in bulk (short_call_burst calls under
//   short_call_seconds within short_call_window: the SPIT pattern; user),
//   a call claiming an internal user from outside the local networks
//   (address).
// An address or user whose score is under min_score (5) is refused.
import { ReputationBook } from './reputation-book.js';
import type { ReputationRepo } from '../../storage/reputation-repo.js';

export interface ReputationConfig {
  halfLife: number; // seconds
  authCreditInterval: number; // seconds
  goodCallSeconds: number;
  shortCallSeconds: number;
  shortCallBurst: number;
  shortCallWindow: number; // seconds
  minScore: number;
}

export const DEFAULT_REPUTATION: ReputationConfig = {
  halfLife: 86400,
  authCreditInterval: 3600,
  goodCallSeconds: 30,
  shortCallSeconds: 10,
  shortCallBurst: 5,
  shortCallWindow: 600,
  minScore: 5,
};

/** the weight of a wrong in-call PIN against the calling extension (see pinFailed) */
export const PIN_FAILURE_USER_WEIGHT = 1 / 3;

export const ip = (address: string): string => 'ip:' + address;
export const user = (number: string): string => 'user:' + number;

export class ReputationService {
  readonly book: ReputationBook;
  private readonly lastCredit = new Map<string, number>();
  private readonly shortCalls = new Map<string, number[]>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly cfg: ReputationConfig = DEFAULT_REPUTATION,
    private readonly clock: () => number = Date.now,
  ) {
    this.book = new ReputationBook({ halfLifeMs: cfg.halfLife * 1000, clock });
  }

  score(subject: string): number {
    return this.book.score(subject);
  }

  /** O(1): a Map look-up and one Math.pow */
  refused(subject: string): boolean {
    return this.book.score(subject) < this.cfg.minScore;
  }

  authSucceeded(number: string, address: string): void {
    const now = this.clock();
    if (this.lastCredit.size > 100_000) this.lastCredit.clear();
    for (const s of [user(number), ip(address)]) {
      const last = this.lastCredit.get(s);
      if (last !== undefined && now - last < this.cfg.authCreditInterval * 1000) continue;
      this.lastCredit.set(s, now);
      this.book.good(s);
    }
  }

  authFailed(address: string): number {
    return this.book.bad(ip(address));
  }

  /**
   * A wrong PIN keyed during a call. The address takes a full bad mark, as
   * for a failed digest. The calling extension takes one too, but weighing
   * PIN_FAILURE_USER_WEIGHT: it is the extension that keyed the guess (it
   * proved its own SIP password to place the call, so nobody else can put
   * this mark on it — the lock-out worry of authFailed does not apply), yet
   * its owner may simply have mistyped. A phone seen once (one good mark)
   * stays at 5.0 after a whole call of three typos and falls under 5 on the
   * next wrong PIN; an extension guessing on stays refused by the call gate.
   */
  pinFailed(address: string, caller?: string): number {
    if (caller) this.book.bad(user(caller), PIN_FAILURE_USER_WEIGHT);
    return this.book.bad(ip(address));
  }

  bad(subject: string): number {
    return this.book.bad(subject);
  }

  /** an answered call ended; returns true when it completed a short-call burst (a bad mark for the caller) */
  callEnded(caller: string, callee: string | undefined, address: string, billsec: number): boolean {
    if (billsec > this.cfg.goodCallSeconds) {
      this.book.good(user(caller));
      if (callee) this.book.good(user(callee));
      this.book.good(ip(address));
      return false;
    }
    if (billsec >= this.cfg.shortCallSeconds) return false;
    const now = this.clock();
    const list = (this.shortCalls.get(caller) ?? []).filter((t) => now - t < this.cfg.shortCallWindow * 1000);
    list.push(now);
    if (list.length >= this.cfg.shortCallBurst) {
      this.shortCalls.delete(caller);
      this.book.bad(user(caller));
      return true;
    }
    if (this.shortCalls.size > 100_000) this.shortCalls.clear();
    this.shortCalls.set(caller, list);
    return false;
  }

  show(subject: string): { subject: string; score: number; good: number; bad: number; updated: string | null; refused: boolean } {
    const e = this.book.evidence(subject);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      subject,
      score: this.book.score(subject),
      good: e ? r(e.good) : 0,
      bad: e ? r(e.bad) : 0,
      updated: e ? new Date(e.t).toISOString() : null,
      refused: this.refused(subject),
    };
  }

  // ---- persistence: load at start, write behind every flushMs, final flush on stop

  async restore(repo: ReputationRepo): Promise<number> {
    // after 10 half-lives evidence weighs under 0.1 %: such rows (a scan's
    // thousands of one-off addresses) are dropped instead of loaded
    await repo.pruneOlderThan(this.clock() - 10 * this.cfg.halfLife * 1000);
    const rows = await repo.loadAll();
    for (const r of rows) this.book.load(r.subject, { good: r.good, bad: r.bad, t: r.updatedAt });
    return rows.length;
  }

  start(repo: ReputationRepo, flushMs: number, onError: (err: Error) => void): void {
    this.timer = setInterval(() => {
      this.flushing = this.flush(repo).catch(onError);
    }, flushMs);
    this.timer.unref();
  }

  async flush(repo: ReputationRepo): Promise<void> {
    const rows = this.book.takeDirty();
    if (rows.length === 0) return;
    await repo.saveMany(rows.map((r) => ({ subject: r.subject, good: r.good, bad: r.bad, updatedAt: r.t })));
  }

  async stop(repo: ReputationRepo): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush(repo);
  }
}
