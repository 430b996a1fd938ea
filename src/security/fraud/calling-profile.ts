// A learned profile of each principal's normal calling, and the anomalies
// measured against it. Rules (thresholds in `fraud.anomaly`, documented in
// docs/configuration.md), active once `min_calls` calls have been learned:
//   new-destination  a destination never called before: for E.164 numbers
//                    the first `dest_digits` digits (country and region),
//                    else the number itself
//   unusual-hour     the hour of day has held under `hour_share` of the
//                    calls so far (e.g. 3 a.m. for an office phone)
//   frequency        more attempts in the last hour than `freq_factor` ×
//                    the learned hourly rate (and at least `freq_min`)
//   long-call        (after the call) longer than mean + 4σ of the learned
//                    call lengths and over `long_call_min` seconds
// Pre-call flags either only raise an event (mode flag) or refuse the call
// (mode block). Profiles live in memory for the decisions; each change is
// reported to onChange, which the guard uses to write them behind to the
// database (calling-profile-store.ts), so a restart does not start blind.
// A profile whose principal is gone, or that has learned no call for
// `profile_max_age_days`, is dropped (drop(); the guard decides which).
export interface AnomalyConfig {
  mode: 'off' | 'flag' | 'block';
  minCalls: number;
  destDigits: number;
  hourShare: number;
  freqFactor: number;
  freqMin: number;
  longCallMin: number;
  /** a profile that has learned no call for this many days is dropped; 0 = kept forever */
  profileMaxAgeDays: number;
}

export const DEFAULT_ANOMALY: AnomalyConfig = {
  mode: 'flag',
  minCalls: 20,
  destDigits: 4,
  hourShare: 0.02,
  freqFactor: 3,
  freqMin: 10,
  longCallMin: 1800,
  profileMaxAgeDays: 180,
};

/** a profile as it is persisted (storage/calling-profile-repo.ts) */
export interface ProfileState {
  calls: number;
  /** epoch ms of the first call learned */
  firstAt: number;
  /** calls per hour of day, 24 entries */
  hours: number[];
  dests: string[];
  /** attempt times of the last hour */
  recent: number[];
  lenN: number;
  lenMean: number;
  lenM2: number;
  /** epoch ms of the last call learned */
  updatedAt: number;
}

interface Profile {
  calls: number;
  first: number;
  /** the last call learned */
  last: number;
  hours: Uint32Array;
  dests: Set<string>;
  /** attempt times in the last hour (bounded) */
  recent: number[];
  lenN: number;
  lenMean: number;
  lenM2: number;
}

const MAX_DESTS = 5000;
const MAX_RECENT = 1000;

const HOUR_MS = 3_600_000;

export class CallingProfiles {
  private readonly map = new Map<string, Profile>();
  /** told the principal after every change the profile learned */
  onChange: ((id: string) => void) | null = null;

  constructor(readonly cfg: AnomalyConfig = DEFAULT_ANOMALY) {}

  /** a copy of a profile for storage; recent attempts older than an hour left out */
  state(id: string, now: number): ProfileState | undefined {
    const p = this.map.get(id);
    if (!p) return undefined;
    return {
      calls: p.calls,
      firstAt: p.first,
      hours: Array.from(p.hours),
      dests: [...p.dests],
      recent: p.recent.filter((t) => now - t < HOUR_MS),
      lenN: p.lenN,
      lenMean: p.lenMean,
      lenM2: p.lenM2,
      updatedAt: p.last,
    };
  }

  /** puts a stored profile back (at start), in place of what is in memory */
  load(id: string, s: ProfileState, now: number): void {
    const hours = new Uint32Array(24);
    for (let h = 0; h < 24; h++) hours[h] = Math.max(0, Math.floor(s.hours[h] ?? 0));
    this.map.set(id, {
      calls: s.calls,
      first: s.firstAt,
      last: s.updatedAt,
      hours,
      dests: new Set(s.dests.slice(0, MAX_DESTS)),
      recent: s.recent.filter((t) => now - t < HOUR_MS).slice(-MAX_RECENT),
      lenN: s.lenN,
      lenMean: s.lenMean,
      lenM2: s.lenM2,
    });
  }

  private profile(id: string, now: number): Profile {
    let p = this.map.get(id);
    if (!p) {
      p = { calls: 0, first: now, last: now, hours: new Uint32Array(24), dests: new Set(), recent: [], lenN: 0, lenMean: 0, lenM2: 0 };
      this.map.set(id, p);
    }
    return p;
  }

  destKey(dialled: string, e164: string | null): string {
    return e164 !== null ? '+' + e164.slice(0, this.cfg.destDigits) : dialled;
  }

  /** anomalies of a call about to be placed (empty while learning or when off) */
  check(id: string, dest: string, now: number): string[] {
    if (this.cfg.mode === 'off') return [];
    const p = this.map.get(id);
    if (!p || p.calls < this.cfg.minCalls) return [];
    const flags: string[] = [];
    if (!p.dests.has(dest)) flags.push('new-destination');
    const hour = new Date(now).getHours();
    if (p.hours[hour]! / p.calls < this.cfg.hourShare) flags.push('unusual-hour');
    const spanH = Math.max(1, (now - p.first) / HOUR_MS);
    const rate = p.calls / spanH;
    let lastHour = 0;
    for (const t of p.recent) if (now - t < HOUR_MS) lastHour++;
    if (lastHour + 1 > Math.max(this.cfg.freqMin, this.cfg.freqFactor * rate)) flags.push('frequency');
    return flags;
  }

  /** learn from a call that went out */
  learn(id: string, dest: string, now: number): void {
    if (this.cfg.mode === 'off') return;
    const p = this.profile(id, now);
    p.calls++;
    p.last = Math.max(p.last, now);
    p.hours[new Date(now).getHours()]!++;
    if (p.dests.size < MAX_DESTS) p.dests.add(dest);
    p.recent.push(now);
    if (p.recent.length > MAX_RECENT) p.recent.splice(0, p.recent.length - MAX_RECENT);
    while (p.recent.length && now - p.recent[0]! >= HOUR_MS) p.recent.shift();
    this.onChange?.(id);
  }

  /** learn an answered call's length; returns 'long-call' when it was anomalous */
  learnLength(id: string, seconds: number): string | undefined {
    if (this.cfg.mode === 'off') return undefined;
    const p = this.map.get(id);
    if (!p) return undefined;
    let flag: string | undefined;
    if (p.lenN >= this.cfg.minCalls) {
      const sd = Math.sqrt(p.lenM2 / (p.lenN - 1));
      if (seconds > this.cfg.longCallMin && seconds > p.lenMean + 4 * sd) flag = 'long-call';
    }
    // Welford's running mean and variance
    p.lenN++;
    const d = seconds - p.lenMean;
    p.lenMean += d / p.lenN;
    p.lenM2 += d * (seconds - p.lenMean);
    this.onChange?.(id);
    return flag;
  }

  /**
   * forgets every profile `gone` picks (told its principal and the time of
   * its last call); returns their principals. Not reported to onChange: the
   * caller decides what becomes of the stored ones.
   */
  drop(gone: (id: string, lastCallAt: number, firstCallAt: number) => boolean): string[] {
    const out: string[] = [];
    for (const [id, p] of this.map) {
      if (!gone(id, p.last, p.first)) continue;
      this.map.delete(id);
      out.push(id);
    }
    return out;
  }

  /** how many principals have a profile */
  get size(): number {
    return this.map.size;
  }

  summary(id: string): Record<string, unknown> | undefined {
    const p = this.map.get(id);
    if (!p) return undefined;
    return { calls: p.calls, destinations: p.dests.size, mean_length_s: Math.round(p.lenMean), learning: p.calls < this.cfg.minCalls };
  }
}
