// How long changes took to reach this node: the last samples in a ring,
// summarised as percentiles on demand (status, bench). Recording is one
// array store; sorting happens only when someone asks.
export interface LatencySummary {
  count: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

export class LatencyRecord {
  private readonly ring: Float64Array;
  private n = 0;

  constructor(size = 10_000) {
    this.ring = new Float64Array(size);
  }

  add(ms: number): void {
    this.ring[this.n % this.ring.length] = ms;
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const k = Math.min(this.n, this.ring.length);
    if (k === 0) return { count: 0, p50_ms: null, p99_ms: null, max_ms: null };
    const s = Array.from(this.ring.subarray(0, k)).sort((a, b) => a - b);
    const at = (q: number) => Math.round(s[Math.min(k - 1, Math.ceil(q * k) - 1)]! * 1000) / 1000;
    return { count: this.n, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: Math.round(s[k - 1]! * 1000) / 1000 };
  }

  reset(): void {
    this.n = 0;
  }
}
