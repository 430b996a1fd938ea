// The trunks that run now — palisade.yaml's, then the ones made through the
// API — as one list: the trunks module owns it (it reads both and publishes
// the result at start and after each change), and modules that carry
// trunks of another technology (IAX2) follow it, so a trunk made, edited,
// disabled or deleted through the API takes effect in them at once. A port
// in core/ (docs/architecture.md): neither module imports the other. Beside
// the list it carries the names of the trunks set aside (disabled, kept in
// the database to come back): they do not run, but they are not gone, so
// what is kept per trunk (its learned calling profile) stays for them.

/** what every trunk has, whatever module carries it */
export interface TrunkSetEntry {
  readonly name: string;
  /** 'sip', 'iax2' */
  readonly type: string;
}

export class TrunkSet<T extends TrunkSetEntry = TrunkSetEntry> {
  private list: readonly T[] = [];
  private readonly followers = new Set<(now: readonly T[], setAside: readonly string[]) => void | Promise<void>>();

  /** the trunks that run now (empty until the owner publishes) */
  get current(): readonly T[] {
    return this.list;
  }

  /** the owner's new list, and the trunks it holds set aside: every follower has applied it when this resolves */
  async publish(next: readonly T[], setAside: readonly string[] = []): Promise<void> {
    this.list = next;
    for (const fn of [...this.followers]) {
      try {
        await fn(next, setAside);
      } catch {
        // a follower logs its own faults; the owner's change stands
      }
    }
  }

  /** hear every published list from now on; returns the unfollow */
  follow(fn: (now: readonly T[], setAside: readonly string[]) => void | Promise<void>): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}
