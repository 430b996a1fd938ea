// Prices per minute by longest prefix. Keys are matched against the E.164
// form of the dialled number when it has one ("44" for the UK, "4420" for
// London), else against the dialled digits as they were dialled (so a
// site can price, say, internal or local ranges too). No match → free.
import { PrefixMap } from './prefix-map.js';
import type { Classified } from './number-plan.js';

export class RateTable {
  private readonly map = new PrefixMap<number>();

  constructor(rates: Record<string, number>) {
    for (const [prefix, price] of Object.entries(rates)) this.map.set(prefix.replace(/^\+/, ''), price);
  }

  get size(): number {
    return this.map.size;
  }

  /** price per minute and the prefix that set it (0 and '' when unrated) */
  lookup(dialled: string, c: Classified): { perMinute: number; prefix: string } {
    const hit = (c.e164 !== null ? this.map.match(c.e164) : undefined) ?? this.map.match(dialled.replace(/^\+/, ''));
    return hit ? { perMinute: hit.value, prefix: hit.prefix } : { perMinute: 0, prefix: '' };
  }
}
