// Reputation of addresses and users: the beta reputation model (Jøsang &
// Ismail 2002, as used by RiVS for VoIP) with exponential ageing.
//
//   score = 10 × (g + 2) / (g + b + 4)
//
// g and b are the aged sums of good and bad evidence (each event weighs 1).
// The prior α = β = 2 is chosen so the rules of docs/configuration.md (Reputation) hold exactly:
// nothing known → 10×2/4 = 5; one good event → 10×3/5 = 6; one bad event →
// 10×2/5 = 4. Ageing: before every read or update both sums are multiplied
// by 2^(−Δt / half_life), so evidence loses half its weight every half-life
// and an old verdict fades back towards 5. Scores are reported rounded to one
// decimal and the "under 5" rule compares that rounded value, so a single bad
// event stops counting after about 5 half-lives (b < 0.05).
//
// Reads and updates are a Map look-up and one Math.pow: microseconds, no I/O.
// Changed subjects are marked dirty and written behind (see reputation-persist.ts).

export interface Evidence {
  good: number;
  bad: number;
  /** epoch ms the sums were last aged to */
  t: number;
}

export interface ReputationOptions {
  halfLifeMs: number;
  /** bound on tracked subjects (a scan from many addresses must not grow memory without limit) */
  maxSubjects?: number;
  clock?: () => number;
}

export const NEUTRAL_SCORE = 5;

export function scoreOf(good: number, bad: number): number {
  return Math.round((100 * (good + 2)) / (good + bad + 4)) / 10;
}

export class ReputationBook {
  private readonly map = new Map<string, Evidence>();
  readonly dirty = new Set<string>();
  private readonly halfLifeMs: number;
  private readonly max: number;
  private readonly clock: () => number;
  /** told every mark added here (not those adopted from another node): the cluster shares them */
  onMark?: (subject: string, good: number, bad: number, t: number) => void;

  constructor(o: ReputationOptions) {
    this.halfLifeMs = o.halfLifeMs;
    this.max = o.maxSubjects ?? 200_000;
    this.clock = o.clock ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  private aged(e: Evidence, now: number): void {
    const dt = now - e.t;
    if (dt <= 0) return;
    const f = 2 ** (-dt / this.halfLifeMs);
    e.good *= f;
    e.bad *= f;
    e.t = now;
  }

  /** 0–10, one decimal; 5 for a subject never seen */
  score(subject: string): number {
    const e = this.map.get(subject);
    if (!e) return NEUTRAL_SCORE;
    this.aged(e, this.clock());
    return scoreOf(e.good, e.bad);
  }

  /** the aged evidence, for display */
  evidence(subject: string): Evidence | undefined {
    const e = this.map.get(subject);
    if (!e) return undefined;
    this.aged(e, this.clock());
    return { ...e };
  }

  good(subject: string, weight = 1): number {
    return this.add(subject, weight, 0);
  }

  bad(subject: string, weight = 1): number {
    return this.add(subject, 0, weight);
  }

  private add(subject: string, g: number, b: number): number {
    const now = this.clock();
    let e = this.map.get(subject);
    if (e) {
      this.aged(e, now);
      // most recently touched last: eviction takes the stalest
      this.map.delete(subject);
    } else {
      e = { good: 0, bad: 0, t: now };
      if (this.map.size >= this.max) this.evict();
    }
    e.good += g;
    e.bad += b;
    this.map.set(subject, e);
    this.dirty.add(subject);
    this.onMark?.(subject, g, b, now);
    return scoreOf(e.good, e.bad);
  }

  /**
   * Evidence another node added at time t: aged from t to now and added, so
   * every node ends with the same sums whatever order marks arrive in (the
   * model is a sum of exponentially aged marks). Not told to onMark.
   */
  adopt(subject: string, good: number, bad: number, t: number): number {
    const now = this.clock();
    const f = t < now ? 2 ** (-(now - t) / this.halfLifeMs) : 1;
    let e = this.map.get(subject);
    if (e) {
      this.aged(e, now);
      this.map.delete(subject);
    } else {
      e = { good: 0, bad: 0, t: now };
      if (this.map.size >= this.max) this.evict();
    }
    e.good += good * f;
    e.bad += bad * f;
    this.map.set(subject, e);
    this.dirty.add(subject);
    return scoreOf(e.good, e.bad);
  }

  private evict(): void {
    // Map iteration is insertion order, and add() re-inserts: the first key is the stalest.
    const first = this.map.keys().next();
    if (!first.done) this.map.delete(first.value);
  }

  /** forget a subject (administrator's reset): back to 5, and persisted as such */
  reset(subject: string): void {
    this.map.set(subject, { good: 0, bad: 0, t: this.clock() });
    this.dirty.add(subject);
  }

  /** restore persisted evidence (older rows age on first read) */
  load(subject: string, e: Evidence): void {
    if (this.map.size >= this.max) return;
    this.map.set(subject, { ...e });
  }

  /** take the dirty subjects with their current evidence, for writing behind */
  takeDirty(): Array<{ subject: string } & Evidence> {
    const out: Array<{ subject: string } & Evidence> = [];
    for (const s of this.dirty) {
      const e = this.map.get(s);
      if (e) out.push({ subject: s, ...e });
    }
    this.dirty.clear();
    return out;
  }
}
