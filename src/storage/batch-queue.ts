// Batches rows that arrive while a write is in flight into the next write
// (group commit). The first row goes out at once; each push() resolves only
// after its row is committed, so a resolved insert survives kill -9 of this
// process. No row is ever dropped: a failed batch is retried row by row so
// one bad row (e.g. a duplicate uniqueid) rejects alone.
interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BatchQueue<T> {
  private pending: Waiting<T>[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly writeBatch: (items: T[]) => Promise<void>,
    /** rows per statement; keeps under the 65,535 bind-parameter limit of pg and MySQL */
    private readonly maxBatch = 500,
  ) {}

  push(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) this.running = this.drain();
    });
  }

  async pushMany(items: T[]): Promise<void> {
    await Promise.all(items.map((i) => this.push(i)));
  }

  /** rows not yet handed to a write */
  get queued(): number {
    return this.pending.length;
  }

  /** Resolves when every row pushed so far has been written (or rejected). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          await this.writeBatch(batch.map((w) => w.item));
          for (const w of batch) w.resolve();
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          for (const w of batch) {
            try {
              await this.writeBatch([w.item]);
              w.resolve();
            } catch (e) {
              w.reject(e);
            }
          }
        }
      }
    } finally {
      this.running = null;
    }
  }
}
