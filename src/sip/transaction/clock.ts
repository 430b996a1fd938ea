// The time source every timer-driven SIP component is built on. Production
// code gets a hashed timer wheel (one Node interval drives every pending
// timer, however many tens of thousands there are); tests get FakeClock
// (test/support/fake-clock.ts) and advance time by hand.

/** Opaque handle of a scheduled timer. */
export interface TimerRef {
  readonly __timerRef: true;
}

export interface Clock {
  /** milliseconds; monotonic, never goes backwards */
  now(): number;
  /** run fn once, no earlier than ms from now */
  setTimer(ms: number, fn: () => void): TimerRef;
  /**
   * The same, passing ctx to fn: lets hot paths hand a module-level function
   * and the object it acts on instead of allocating a closure per timer.
   */
  setTimer<T>(ms: number, fn: (ctx: T) => void, ctx: T): TimerRef;
  /** cancel a timer; a no-op when it already fired or was cleared */
  clearTimer(t: TimerRef): void;
}

/** One scheduled timer: a node in the doubly linked list of its wheel slot. */
const DETACHED = -2;

class WheelTimer implements TimerRef {
  declare readonly __timerRef: true;
  prev: WheelTimer | null = null;
  next: WheelTimer | null = null;
  /** slot index while scheduled, DETACHED while its slot is being processed, -1 once fired or cleared */
  slot = -1;
  constructor(
    public rounds: number,
    public fn: ((ctx: unknown) => void) | null,
    public ctx: unknown,
  ) {}
}

export interface TimerWheelOptions {
  /** wheel resolution in ms; timers fire up to this late, never early (default 10) */
  tickMs?: number;
  /** slot count, rounded up to a power of two (default 4096: one revolution ≈ 41 s at 10 ms) */
  slots?: number;
  /** keep the process alive while timers are pending (default false: sockets do that) */
  ref?: boolean;
  /** where an exception thrown by a timer callback goes (default: process warning) */
  onError?: (err: unknown) => void;
}

/**
 * A hashed timer wheel (Varghese & Lauck; the Netty HashedWheelTimer shape).
 * Insert and cancel are O(1); each tick visits one slot. Timers further away
 * than one revolution carry a round count and are skipped until it reaches 0.
 * A single setInterval runs only while timers are pending.
 */
export class TimerWheelClock implements Clock {
  private readonly tickMs: number;
  private readonly mask: number;
  private readonly heads: (WheelTimer | null)[];
  private readonly tails: (WheelTimer | null)[];
  private readonly origin: number;
  private readonly ref: boolean;
  private readonly onError: (err: unknown) => void;
  /** next tick index to process */
  private tick = 0;
  private pending = 0;
  private interval: NodeJS.Timeout | null = null;
  private readonly onInterval = (): void => this.advanceTo(this.now());

  constructor(opts: TimerWheelOptions = {}) {
    this.tickMs = Math.max(1, opts.tickMs ?? 10);
    let n = 1;
    while (n < Math.max(2, opts.slots ?? 4096)) n <<= 1;
    this.mask = n - 1;
    this.heads = new Array<WheelTimer | null>(n).fill(null);
    this.tails = new Array<WheelTimer | null>(n).fill(null);
    this.origin = performance.now();
    this.ref = opts.ref ?? false;
    this.onError = opts.onError ?? ((err) => process.emitWarning(`timer callback threw: ${String(err)}`));
  }

  /** epoch-aligned at process start, then monotonic (performance clock) */
  now(): number {
    return performance.timeOrigin + performance.now();
  }

  /** number of timers scheduled and not yet fired or cleared */
  get size(): number {
    return this.pending;
  }

  setTimer(ms: number, fn: () => void): TimerRef;
  setTimer<T>(ms: number, fn: (ctx: T) => void, ctx: T): TimerRef;
  setTimer(ms: number, fn: (ctx: unknown) => void, ctx?: unknown): TimerRef {
    const elapsed = performance.now() - this.origin;
    if (this.pending === 0) {
      // idle wheel: jump to the present instead of walking every empty tick
      this.tick = Math.max(this.tick, Math.floor(elapsed / this.tickMs));
    }
    // ceil: the slot's tick time is at or after the deadline, so never early
    let due = Math.ceil((elapsed + Math.max(0, ms)) / this.tickMs);
    if (due < this.tick) due = this.tick;
    const ahead = due - this.tick;
    const t = new WheelTimer(Math.floor(ahead / (this.mask + 1)), fn, ctx);
    this.link(t, due & this.mask);
    if (++this.pending === 1) this.start();
    return t;
  }

  clearTimer(ref: TimerRef): void {
    const t = ref as WheelTimer;
    if (t.slot === -1) return;
    // a timer in the slot being processed stays linked in the detached list;
    // the processing loop sees slot -1 and skips it
    if (t.slot === DETACHED) t.slot = -1;
    else this.unlink(t);
    t.fn = null;
    t.ctx = null;
    if (--this.pending === 0) this.halt();
  }

  /** stop the driving interval and drop every pending timer (shutdown) */
  stop(): void {
    for (let s = 0; s <= this.mask; s++) {
      for (let t = this.heads[s]!; t; t = t.next!) t.slot = -1;
      this.heads[s] = this.tails[s] = null;
    }
    this.pending = 0;
    this.halt();
  }

  /** process every tick up to the one containing time `nowMs` (exposed for tests) */
  advanceTo(nowMs: number): void {
    const target = Math.floor((nowMs - performance.timeOrigin - this.origin) / this.tickMs);
    while (this.tick <= target && this.pending > 0) {
      const s = this.tick & this.mask;
      let t = this.heads[s] ?? null;
      // detach the slot first: timers scheduled by callbacks land in a fresh list
      this.heads[s] = this.tails[s] = null;
      this.tick++;
      for (let d = t; d; d = d.next) d.slot = DETACHED;
      while (t) {
        const next = t.next;
        t.prev = t.next = null;
        // slot -1 here: cleared by an earlier callback of this tick, skip it
        if (t.slot === DETACHED) {
          t.slot = -1;
          if (t.rounds > 0) {
            t.rounds--;
            this.link(t, s);
          } else {
            this.pending--;
            const fn = t.fn!;
            const ctx = t.ctx;
            t.fn = null;
            t.ctx = null;
            try {
              fn(ctx);
            } catch (err) {
              this.onError(err);
            }
          }
        }
        t = next;
      }
    }
    if (this.pending === 0) {
      this.tick = Math.max(this.tick, target + 1);
      this.halt();
    }
  }

  private link(t: WheelTimer, s: number): void {
    t.slot = s;
    const tail = this.tails[s] ?? null;
    t.prev = tail;
    t.next = null;
    if (tail) tail.next = t;
    else this.heads[s] = t;
    this.tails[s] = t;
  }

  private unlink(t: WheelTimer): void {
    const s = t.slot;
    if (t.prev) t.prev.next = t.next;
    else this.heads[s] = t.next;
    if (t.next) t.next.prev = t.prev;
    else this.tails[s] = t.prev;
    t.prev = t.next = null;
    t.slot = -1;
  }

  private start(): void {
    if (this.interval) return;
    this.interval = setInterval(this.onInterval, this.tickMs);
    if (!this.ref) this.interval.unref();
  }

  private halt(): void {
    if (!this.interval) return;
    clearInterval(this.interval);
    this.interval = null;
  }
}
