// Write-behind with coalescing for state that changes often but only its
// latest value matters (a registered contact refreshed by every REGISTER).
// Operations on the same key replace each other while queued; a batch is
// written at most `delayMs` after its first operation, in one transaction.
// Each call's promise settles when the state it asked for (or a newer one for
// the same key) is committed, so errors still reach the caller.
interface Queued<Op> {
  op: Op;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export class CoalescingWriter<Op> {
  private pending = new Map<string, Queued<Op>>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly writeBatch: (ops: Op[]) => Promise<void>,
    private readonly delayMs = 50,
  ) {}

  submit(key: string, op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const prev = this.pending.get(key);
      if (prev) {
        prev.op = op;
        prev.waiters.push({ resolve, reject });
      } else {
        this.pending.set(key, { op, waiters: [{ resolve, reject }] });
      }
      if (!this.timer && !this.running) {
        // Not unref'd: a caller awaiting submit() must not see the process exit under it.
        this.timer = setTimeout(() => void this.run(), this.delayMs);
      }
    });
  }

  get queued(): number {
    return this.pending.size;
  }

  /** Writes everything queued now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running) await this.running;
    if (this.pending.size > 0) await this.run();
  }

  private run(): Promise<void> {
    this.timer = null;
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        while (this.pending.size > 0) {
          const batch = [...this.pending.values()];
          this.pending = new Map();
          try {
            await this.writeBatch(batch.map((q) => q.op));
            for (const q of batch) for (const w of q.waiters) w.resolve();
          } catch (err) {
            for (const q of batch) for (const w of q.waiters) w.reject(err);
          }
        }
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
