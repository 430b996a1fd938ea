// A Clock for tests: time stands still until advance() moves it, and due
// timers then fire in deadline order (ties in scheduling order), each one
// seeing now() equal to its own deadline.
import type { Clock, TimerRef } from '../../src/sip/transaction/clock.js';

class FakeTimer implements TimerRef {
  declare readonly __timerRef: true;
  live = true;
  constructor(
    readonly due: number,
    readonly seq: number,
    readonly fn: (ctx: unknown) => void,
    readonly ctx: unknown,
  ) {}
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerRef;
  setTimer<T>(ms: number, fn: (ctx: T) => void, ctx: T): TimerRef;
  setTimer(ms: number, fn: (ctx: unknown) => void, ctx?: unknown): TimerRef {
    const t = new FakeTimer(this.time + Math.max(0, ms), this.seq++, fn, ctx);
    this.timers.push(t);
    return t;
  }

  clearTimer(ref: TimerRef): void {
    const t = ref as FakeTimer;
    if (!t.live) return;
    t.live = false;
    this.timers.splice(this.timers.indexOf(t), 1);
  }

  /** move time forward by ms, firing every timer that falls due on the way */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const t = this.earliest();
      if (!t || t.due > end) break;
      this.timers.splice(this.timers.indexOf(t), 1);
      t.live = false;
      this.time = t.due;
      t.fn(t.ctx);
    }
    this.time = end;
  }

  /** number of timers scheduled and not yet fired or cleared */
  get pending(): number {
    return this.timers.length;
  }

  /** ms until the next timer fires, undefined when none is scheduled */
  nextIn(): number | undefined {
    const t = this.earliest();
    return t ? t.due - this.time : undefined;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    return best;
  }
}
