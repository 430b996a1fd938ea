// Plays a list of sample buffers as 20 ms frames. It does not own a timer:
// the channel pulls one frame per tick of the shared media clock, so a
// thousand calls playing prompts cost one timer, not a thousand.

export const FRAME = 160;

export class Player {
  private idx = 0;
  private pos = 0;
  private stopped = false;
  private resolveDone!: (completed: boolean) => void;
  /** true when played to the end, false when stopped */
  readonly done: Promise<boolean>;

  constructor(
    private readonly items: Int16Array[],
    private readonly loop = false,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    if (items.every((i) => i.length === 0) && !loop) this.finish(true);
    if (items.every((i) => i.length === 0) && loop) this.stop();
  }

  get finished(): boolean {
    return this.stopped;
  }

  /** fills `out` with the next frame (zero-padded at the end); false once finished */
  nextFrame(out: Int16Array): boolean {
    if (this.stopped) return false;
    let n = 0;
    while (n < out.length) {
      const cur = this.items[this.idx];
      if (!cur) {
        if (this.loop) {
          this.idx = 0;
          this.pos = 0;
          continue;
        }
        break;
      }
      const take = Math.min(out.length - n, cur.length - this.pos);
      out.set(cur.subarray(this.pos, this.pos + take), n);
      n += take;
      this.pos += take;
      if (this.pos >= cur.length) {
        this.idx++;
        this.pos = 0;
      }
    }
    if (n === 0) {
      this.finish(true);
      return false;
    }
    out.fill(0, n);
    if (!this.loop && this.idx >= this.items.length) this.finish(true);
    return true;
  }

  /** interrupt (DTMF, hangup) */
  stop(): void {
    this.finish(false);
  }

  private finish(completed: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.resolveDone(completed);
  }
}
