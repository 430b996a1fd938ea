// The calls the other nodes of a cluster have up, and the call attempts
// they let through in the last minute, per principal (docs/operations.md,
// "Scaling out": limits across nodes). The call gate adds them to its own
// counters (call-counters.ts), so `max_calls`, `max_outbound_calls` and
// `calls_per_minute` hold for the cluster, not for each node. They arrive
// as records (call-open, call-close: src/core/defence-sync.ts); the calls of
// a node that is gone stop counting. No lookup leaves the node: a node cut
// off from the broker counts what it knows and catches up when it returns.

interface OtherCall {
  node: string;
  principals: string[];
  callee?: string;
}

const MINUTE = 60_000;

export class ClusterCalls {
  private readonly calls = new Map<string, OtherCall>();
  private readonly outboundBy = new Map<string, number>();
  private readonly activeBy = new Map<string, number>();
  /** attempt times (epoch ms) per principal, in arrival order, kept about a minute */
  private readonly attemptsBy = new Map<string, number[]>();

  /** another node's call passed its gate at `t`; principals with a per-minute cap count the attempt too */
  open(key: string, node: string, principals: ReadonlyArray<{ id: string; perMinute: number }>, callee: string | undefined, t: number): void {
    if (this.calls.has(key)) return;
    this.calls.set(key, { node, principals: principals.map((p) => p.id), callee });
    for (const p of principals) {
      bump(this.outboundBy, p.id, 1);
      bump(this.activeBy, p.id, 1);
      if (p.perMinute > 0) this.noteAttempt(p.id, t);
    }
    if (callee !== undefined) bump(this.activeBy, callee, 1);
  }

  /** that call ended; an unknown key (a node gone, or its start before this node listened) is ignored */
  close(key: string): void {
    const c = this.calls.get(key);
    if (!c) return;
    this.calls.delete(key);
    this.forget(c);
  }

  /** a node is gone (or started again): its calls count no more; returns how many were dropped */
  dropNode(node: string): number {
    let n = 0;
    for (const [key, c] of this.calls) {
      if (c.node !== node) continue;
      this.calls.delete(key);
      this.forget(c);
      n++;
    }
    return n;
  }

  /** calls the principal takes part in on the other nodes (placing or receiving) */
  active(id: string): number {
    return this.activeBy.get(id) ?? 0;
  }

  /** calls the principal placed that are up on the other nodes */
  outbound(id: string): number {
    return this.outboundBy.get(id) ?? 0;
  }

  /** the principal's attempts the other nodes let through in the minute before `now` */
  attempts(id: string, now: number): number {
    const list = this.attemptsBy.get(id);
    if (!list) return 0;
    prune(list, now);
    if (list.length === 0) this.attemptsBy.delete(id);
    let n = 0;
    // arrival order is not time order after a broker outage: count, do not assume
    for (const t of list) if (now - t < MINUTE) n++;
    return n;
  }

  get size(): number {
    return this.calls.size;
  }

  private noteAttempt(id: string, t: number): void {
    let list = this.attemptsBy.get(id);
    if (!list) this.attemptsBy.set(id, (list = []));
    list.push(t);
    prune(list, Math.max(t, list[list.length - 1]!));
  }

  private forget(c: OtherCall): void {
    for (const p of c.principals) {
      bump(this.outboundBy, p, -1);
      bump(this.activeBy, p, -1);
    }
    if (c.callee !== undefined) bump(this.activeBy, c.callee, -1);
  }
}

function bump(m: Map<string, number>, id: string, by: number): void {
  const n = (m.get(id) ?? 0) + by;
  if (n > 0) m.set(id, n);
  else m.delete(id);
}

/** drops the attempts at the head that are a minute older than `now` (the list is mostly in time order) */
function prune(list: number[], now: number): void {
  let i = 0;
  while (i < list.length && now - list[i]! >= MINUTE) i++;
  if (i > 0) list.splice(0, i);
}
