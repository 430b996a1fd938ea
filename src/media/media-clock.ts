// One 20 ms timer for every media endpoint in the process (not one per call):
// each tick is scheduled against the absolute start time, so lateness of one
// tick does not accumulate into drift, and ticks missed under load are run
// back to back (bounded) so that playout keeps wall-clock time.

export type TickFn = () => void;

export class MediaClock {
  private readonly subs = new Set<TickFn>();
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private ticks = 0;
  /** ticks run late by more than one period (event loop stalls) */
  lateTicks = 0;

  constructor(
    readonly periodMs = 20,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(fn: TickFn): void {
    this.subs.add(fn);
    if (this.timer === null) {
      this.startedAt = this.now();
      this.ticks = 0;
      this.schedule();
    }
  }

  remove(fn: TickFn): void {
    this.subs.delete(fn);
    if (this.subs.size === 0 && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  get size(): number {
    return this.subs.size;
  }

  private schedule(): void {
    const due = this.startedAt + (this.ticks + 1) * this.periodMs;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - this.now()));
    this.timer.unref();
  }

  private fire(): void {
    const behind = Math.floor((this.now() - this.startedAt) / this.periodMs) - this.ticks;
    // at most 5 catch-up ticks (100 ms): beyond that, skip rather than burst
    const run = Math.min(Math.max(behind, 1), 5);
    if (behind > 1) this.lateTicks++;
    if (behind > 5) this.ticks += behind - 5;
    for (let i = 0; i < run; i++) {
      this.ticks++;
      for (const fn of this.subs) {
        try {
          fn();
        } catch {
          // one endpoint's fault must not stop everyone's audio
        }
      }
    }
    if (this.subs.size > 0) this.schedule();
    else this.timer = null;
  }
}

/** the process-wide clock all channels share */
export const mediaClock = new MediaClock();
