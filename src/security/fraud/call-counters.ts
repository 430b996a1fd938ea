// Live counters per principal: calls in progress, outbound calls in
// progress, and attempt times in a sliding minute (a small ring of
// timestamps, bounded by the per-minute limit itself).
export interface Counters {
  active: number;
  outbound: number;
  /** ring of the last `cap` attempt times (epoch ms) */
  ring: number[];
  next: number;
}

export class CallCounters {
  private readonly map = new Map<string, Counters>();

  get(id: string): Counters {
    let c = this.map.get(id);
    if (!c) {
      c = { active: 0, outbound: 0, ring: [], next: 0 };
      this.map.set(id, c);
    }
    return c;
  }

  /**
   * whether `cap` attempts already fell in the last 60 s: the ring holds the
   * last `cap` attempt times, so that is whether the oldest of them is
   * younger than a minute — O(1) whatever the cap
   */
  minuteFull(id: string, now: number, cap: number): boolean {
    const c = this.map.get(id);
    if (!c || c.ring.length < cap) return false;
    const oldest = c.ring.length === cap ? c.ring[c.next % cap]! : Math.min(...c.ring);
    return now - oldest < 60_000;
  }

  /** how many of the attempts the ring holds fell in the last 60 s (the cluster adds the other nodes' to these) */
  attemptsInMinute(id: string, now: number): number {
    const c = this.map.get(id);
    let n = 0;
    for (const t of c?.ring ?? []) if (now - t < 60_000) n++;
    return n;
  }

  noteAttempt(id: string, now: number, cap: number): void {
    const c = this.get(id);
    const size = Math.max(cap, 1);
    if (c.ring.length < size) c.ring.push(now);
    else {
      c.ring[c.next % size] = now;
      c.next = (c.next + 1) % size;
    }
  }

  /** drop idle principals so the map does not grow with every caller ever seen */
  release(id: string, now: number): void {
    const c = this.map.get(id);
    if (c && c.active === 0 && c.outbound === 0 && c.ring.every((t) => now - t >= 60_000)) this.map.delete(id);
  }
}
