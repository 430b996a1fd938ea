// Priced calls running now — on this node and, in a cluster, on the others
// (docs/operations.md, "Scaling out": a spend limit across nodes) — and what
// they have spent so far. The call gate refuses a priced call once the day's
// spend plus what the running calls have spent reaches the limit, and cuts a
// running call when all the running calls of its principals together would
// reach it: two calls at once (on one node or two) share what is left of the
// day's limit instead of each spending all of it. No lookup leaves the node:
// the other nodes' calls arrive as records when they are answered and end.

export interface RunningCall {
  /** unique in the cluster: node, process start, sequence */
  key: string;
  /** the node it runs on ("" alone) */
  node: string;
  principals: string[];
  /** currency units per minute */
  perMinute: number;
  /** answered at (epoch ms) */
  since: number;
  /** a call of this node: work out its cut again (the running set of one of its principals changed) */
  reschedule?: () => void;
}

export class SpendMeter {
  private readonly calls = new Map<string, RunningCall>();
  private readonly byPrincipal = new Map<string, Set<RunningCall>>();

  open(c: RunningCall): void {
    this.close(c.key);
    this.calls.set(c.key, c);
    for (const p of c.principals) {
      let s = this.byPrincipal.get(p);
      if (!s) this.byPrincipal.set(p, (s = new Set()));
      s.add(c);
    }
  }

  close(key: string): RunningCall | undefined {
    const c = this.calls.get(key);
    if (!c) return undefined;
    this.calls.delete(key);
    for (const p of c.principals) {
      const s = this.byPrincipal.get(p);
      s?.delete(c);
      if (s?.size === 0) this.byPrincipal.delete(p);
    }
    return c;
  }

  /** what the principal's running calls have spent so far */
  running(principal: string, now: number): number {
    let sum = 0;
    for (const c of this.byPrincipal.get(principal) ?? []) sum += (Math.max(0, now - c.since) / 60_000) * c.perMinute;
    return sum;
  }

  /** what the principal's running calls spend per minute together */
  rate(principal: string): number {
    let sum = 0;
    for (const c of this.byPrincipal.get(principal) ?? []) sum += c.perMinute;
    return sum;
  }

  /** a node is gone (or started again): its calls spend no more; returns the principals they touched */
  dropNode(node: string): string[] {
    const touched = new Set<string>();
    for (const c of [...this.calls.values()]) {
      if (c.node !== node || c.reschedule) continue;
      this.close(c.key);
      for (const p of c.principals) touched.add(p);
    }
    return [...touched];
  }

  /** every call of this node with one of these principals works out its cut again */
  touch(principals: readonly string[]): void {
    const seen = new Set<RunningCall>();
    for (const p of principals) for (const c of this.byPrincipal.get(p) ?? []) if (c.reschedule && !seen.has(c)) seen.add(c);
    for (const c of seen) c.reschedule!();
  }

  get size(): number {
    return this.calls.size;
  }
}
