// The kept call traces: the last `maxCalls` calls, at most `maxBytes` in
// all; the oldest go first when either cap would be crossed. A trace is
// found by the Call-ID of any of its legs, or as the newest of an extension.
import type { CallTrace } from './trace-types.js';

export interface TraceStoreOptions {
  maxCalls: number;
  maxBytes: number;
  /**
   * With several workers each keeps its own traces: worker i of n numbers
   * them i+1, i+1+n, i+1+2n... so a `#N` names one trace in the whole
   * server (default: 1, 2, 3...).
   */
  numbering?: { first: number; step: number };
}

export interface TraceStoreStats {
  calls: number;
  bytes: number;
  kept: number;
  evicted: number;
  /** traces larger than the whole store, refused */
  tooLarge: number;
}

export class TraceStore {
  /** insertion order = age order */
  private readonly traces = new Map<number, CallTrace>();
  private readonly byCallId = new Map<string, CallTrace>();
  private nextId: number;
  private readonly idStep: number;
  private bytes = 0;
  private counters = { kept: 0, evicted: 0, tooLarge: 0 };

  constructor(readonly opts: TraceStoreOptions) {
    this.nextId = opts.numbering?.first ?? 1;
    this.idStep = opts.numbering?.step ?? 1;
  }

  /** stores a trace (its id is assigned here); false when it alone is over the byte cap */
  add(trace: Omit<CallTrace, 'id'>): CallTrace | null {
    if (trace.bytes > this.opts.maxBytes) {
      this.counters.tooLarge++;
      return null;
    }
    const t: CallTrace = { ...trace, id: this.nextId };
    this.nextId += this.idStep;
    while (this.traces.size > 0 && (this.traces.size >= this.opts.maxCalls || this.bytes + t.bytes > this.opts.maxBytes)) this.evictOldest();
    this.traces.set(t.id, t);
    for (const l of t.legs) this.byCallId.set(l.callId, t);
    this.bytes += t.bytes;
    this.counters.kept++;
    return t;
  }

  private evictOldest(): void {
    const first = this.traces.values().next().value as CallTrace;
    this.traces.delete(first.id);
    for (const l of first.legs) if (this.byCallId.get(l.callId) === first) this.byCallId.delete(l.callId);
    this.bytes -= first.bytes;
    this.counters.evicted++;
  }

  /**
   * By a leg's Call-ID, by store id ("#12"), or the extension's newest
   * trace: the one that began last. Not the one stored last: a request
   * nobody answered is kept only after its 32 s of retransmissions, so an
   * older MWI NOTIFY would otherwise hide the call the administrator asks about.
   */
  find(key: string): CallTrace | undefined {
    const direct = this.byCallId.get(key);
    if (direct) return direct;
    if (/^#\d+$/.test(key)) return this.traces.get(Number(key.slice(1)));
    let found: CallTrace | undefined;
    for (const t of this.traces.values()) if ((found === undefined || t.start >= found.start) && t.legs.some((l) => l.users.includes(key))) found = t;
    return found;
  }

  list(): CallTrace[] {
    return [...this.traces.values()];
  }

  stats(): TraceStoreStats {
    return { calls: this.traces.size, bytes: this.bytes, ...this.counters };
  }
}
