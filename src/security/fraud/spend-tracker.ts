// Spend per principal per day (server local date), from the rate table.
// Alerts fire once per day and threshold (80 % and 100 % by default).
export interface SpendState {
  day: string;
  spent: number;
  alerted: Set<number>;
}

export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export class SpendTracker {
  private readonly map = new Map<string, SpendState>();

  constructor(readonly thresholds: readonly number[] = [0.8, 1]) {}

  state(id: string, now: number): SpendState {
    const day = dayKey(now);
    let s = this.map.get(id);
    if (!s || s.day !== day) {
      s = { day, spent: 0, alerted: new Set() };
      this.map.set(id, s);
    }
    return s;
  }

  spent(id: string, now: number): number {
    return this.state(id, now).spent;
  }

  /** add a finished call's cost; returns the thresholds newly crossed (fractions of the limit) */
  add(id: string, now: number, amount: number, limit: number): number[] {
    const s = this.state(id, now);
    s.spent += amount;
    return this.crossed(s, limit);
  }

  crossed(s: SpendState, limit: number, extra = 0): number[] {
    const out: number[] = [];
    if (limit <= 0) return out;
    for (const t of this.thresholds) {
      if (!s.alerted.has(t) && s.spent + extra >= t * limit - 1e-9) {
        s.alerted.add(t);
        out.push(t);
      }
    }
    return out;
  }

  /** every principal's spend today, for display */
  all(now: number): Array<{ id: string; spent: number }> {
    const day = dayKey(now);
    return [...this.map].filter(([, s]) => s.day === day).map(([id, s]) => ({ id, spent: Math.round(s.spent * 10000) / 10000 }));
  }
}
