// Longest-prefix match over digit strings: one Map per prefix length that
// occurs, probed from the longest length down. A rate table of a few
// thousand prefixes or a fraud list of tens of thousands costs at most
// (distinct lengths) Map look-ups per call.
export class PrefixMap<V> {
  private readonly byLen = new Map<number, Map<string, V>>();
  private lengths: number[] = [];

  set(prefix: string, value: V): void {
    let m = this.byLen.get(prefix.length);
    if (!m) {
      m = new Map();
      this.byLen.set(prefix.length, m);
      this.lengths = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    m.set(prefix, value);
  }

  /** removes one prefix; true when it was there */
  delete(prefix: string): boolean {
    const m = this.byLen.get(prefix.length);
    if (!m?.delete(prefix)) return false;
    if (m.size === 0) {
      this.byLen.delete(prefix.length);
      this.lengths = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    return true;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byLen.values()) n += m.size;
    return n;
  }

  keys(): string[] {
    const out: string[] = [];
    for (const m of this.byLen.values()) out.push(...m.keys());
    return out;
  }

  /** the value of the longest prefix of `s`, with that prefix */
  match(s: string): { prefix: string; value: V } | undefined {
    for (const len of this.lengths) {
      if (len > s.length) continue;
      const p = s.slice(0, len);
      const v = this.byLen.get(len)!.get(p);
      if (v !== undefined) return { prefix: p, value: v };
    }
    return undefined;
  }
}
