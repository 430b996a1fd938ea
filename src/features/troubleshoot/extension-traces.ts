// Extensions an administrator is tracing (`palisade trace --extension N --on`):
// every call they take part in is kept, successful or not, while the mark
// lasts. Kept in memory only: a restart clears it.

export interface ExtensionTrace {
  extension: string;
  /** record RTP payloads too, not only headers */
  payload: boolean;
  since: number;
}

export class ExtensionTraces {
  private readonly marks = new Map<string, ExtensionTrace>();

  on(extension: string, payload: boolean, now = Date.now()): ExtensionTrace {
    const t = { extension, payload, since: now };
    this.marks.set(extension, t);
    return t;
  }

  off(extension: string): boolean {
    return this.marks.delete(extension);
  }

  get(extension: string): ExtensionTrace | undefined {
    return this.marks.get(extension);
  }

  /** the first traced extension among `users` */
  firstOf(users: Iterable<string>): ExtensionTrace | undefined {
    if (this.marks.size === 0) return undefined;
    for (const u of users) {
      const m = this.marks.get(u);
      if (m) return m;
    }
    return undefined;
  }

  /** whether any extension is traced now (the packet path asks this first) */
  get any(): boolean {
    return this.marks.size > 0;
  }

  list(): ExtensionTrace[] {
    return [...this.marks.values()];
  }
}
