// DTMF collection for the media services: digits the caller sends are queued
// until an application reads them, so a key pressed during a prompt that
// does not listen for keys is read by the next Read(). A listener (a prompt
// that stops on a key, a recording) sees each digit first and may leave it
// queued.
export type DigitListener = (digit: string | null) => void;

export class DigitQueue {
  private readonly queued: string[] = [];
  private waiters: DigitListener[] = [];
  private closed = false;

  /** a digit from the endpoint: to the first listener, else queued */
  push(d: string): void {
    const w = this.waiters.shift();
    if (w) w(d);
    else this.queued.push(d);
  }

  /** the first queued digit that is in `set` (taken out of the queue), if any */
  take(set: string): string | undefined {
    const i = this.queued.findIndex((d) => set.includes(d));
    return i >= 0 ? this.queued.splice(i, 1)[0] : undefined;
  }

  /** put a digit a listener did not want back in the queue */
  keep(d: string): void {
    this.queued.push(d);
  }

  /** `fn` gets the next digit (or null when the call ends); it re-listens itself if it wants more */
  listen(fn: DigitListener): void {
    if (this.closed) fn(null);
    else this.waiters.push(fn);
  }

  unlisten(fn: DigitListener): void {
    this.waiters = this.waiters.filter((w) => w !== fn);
  }

  async waitDigit(timeoutMs: number): Promise<string | null> {
    const queued = this.queued.shift();
    if (queued !== undefined) return queued;
    if (this.closed) return null;
    return new Promise((resolve) => {
      const w = (d: string | null): void => {
        clearTimeout(t);
        resolve(d);
      };
      const t = setTimeout(() => {
        this.unlisten(w);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async readDigits(o: { maxDigits: number; timeoutMs: number; terminators?: string; initial?: string }): Promise<string> {
    const terms = o.terminators ?? '#';
    let got = '';
    for (const ch of o.initial ?? '') {
      if (terms.includes(ch)) return got;
      got += ch;
    }
    while (o.maxDigits === 0 || got.length < o.maxDigits) {
      const d = await this.waitDigit(o.timeoutMs);
      if (d === null || terms.includes(d)) break;
      got += d;
    }
    return got;
  }

  /** the call ended: every listener gets null, and so does every later wait */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(null);
  }
}
