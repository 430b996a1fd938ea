// The ban table: which addresses are banned until when, and how often each
// has offended (ban time grows with repeat offences). A Map keyed by the
// textual address, so the packet gate's question is one O(1) lookup. Bans and
// offence history are persisted to a JSON file (written atomically, debounced)
// and reloaded at start, so a restart does not pardon anyone.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Ban {
  address: string;
  /** epoch ms */
  since: number;
  /** epoch ms */
  until: number;
  reason: string;
  /** this address's offence count, this ban included */
  offences: number;
  /** set by an administrator rather than a rule */
  manual: boolean;
}

interface History {
  offences: number;
  /** end of the last ban (epoch ms): offences are forgotten some time after it */
  lastUntil: number;
}

export interface BanPolicy {
  /** first ban, seconds */
  timeSec: number;
  /** each further offence multiplies the ban time */
  factor: number;
  /** cap, seconds */
  maxSec: number;
  /** an address clean this long after its last ban starts again at the first offence (seconds) */
  forgetAfterSec: number;
}

interface StateFile {
  version: 1;
  bans: Ban[];
  history: Array<{ address: string } & History>;
}

export class BanTable {
  /** the hot-path map: the packet gate only calls get() on it */
  readonly active = new Map<string, Ban>();
  private readonly history = new Map<string, History>();
  private saveTimer?: NodeJS.Timeout;
  saveErrors = 0;

  constructor(
    private readonly policy: BanPolicy,
    private readonly stateFile?: string,
    private readonly onSaveError: (err: Error) => void = () => {},
    /** false: another process writes the state file (a worker other than worker 0); it is only read */
    private readonly writes = true,
  ) {}

  /** the ban time for an address's next offence, in seconds */
  nextDuration(address: string, now: number): { seconds: number; offences: number } {
    const h = this.history.get(address);
    const prior = h && now - h.lastUntil < this.policy.forgetAfterSec * 1000 ? h.offences : 0;
    const seconds = Math.min(this.policy.maxSec, Math.round(this.policy.timeSec * this.policy.factor ** prior));
    return { seconds, offences: prior + 1 };
  }

  /** bans (or extends a ban on) `address`; a rule ban counts as an offence, a manual one with a fixed time too */
  add(address: string, reason: string, now: number, opts: { seconds?: number; manual?: boolean } = {}): Ban {
    const next = this.nextDuration(address, now);
    const seconds = opts.seconds ?? next.seconds;
    const until = now + seconds * 1000;
    const prev = this.active.get(address);
    const ban: Ban = {
      address,
      since: prev && prev.until > now ? prev.since : now,
      until: prev && prev.until > until && !opts.manual ? prev.until : until,
      reason,
      offences: next.offences,
      manual: opts.manual ?? false,
    };
    this.active.set(address, ban);
    this.history.set(address, { offences: next.offences, lastUntil: ban.until });
    this.scheduleSave();
    return ban;
  }

  /**
   * takes a ban another node made as it is (its time and offence count):
   * the ban table of every node then holds the same ban
   */
  adopt(ban: Ban): void {
    this.active.set(ban.address, ban);
    const h = this.history.get(ban.address);
    this.history.set(ban.address, { offences: Math.max(ban.offences, h?.offences ?? 0), lastUntil: Math.max(ban.until, h?.lastUntil ?? 0) });
    this.scheduleSave();
  }

  /** removes a ban; an administrator's removal also forgets the offences */
  remove(address: string, forget: boolean): Ban | undefined {
    const b = this.active.get(address);
    this.active.delete(address);
    if (forget) this.history.delete(address);
    if (b || forget) this.scheduleSave();
    return b;
  }

  /** bans that ended by `now`: removed and returned */
  expire(now: number): Ban[] {
    const out: Ban[] = [];
    for (const b of this.active.values()) if (b.until <= now) out.push(b);
    for (const b of out) this.active.delete(b.address);
    // forget offence history that has aged out, so the map stays bounded
    const horizon = now - this.policy.forgetAfterSec * 1000;
    for (const [a, h] of this.history) if (h.lastUntil < horizon && !this.active.has(a)) this.history.delete(a);
    if (out.length > 0) this.scheduleSave();
    return out;
  }

  list(now: number): Ban[] {
    return [...this.active.values()].filter((b) => b.until > now).sort((a, b) => a.since - b.since);
  }

  load(now: number): number {
    if (!this.stateFile) return 0;
    let state: StateFile;
    try {
      state = JSON.parse(readFileSync(this.stateFile, 'utf8')) as StateFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onSaveError(err as Error);
      return 0;
    }
    for (const h of state.history ?? []) {
      if (typeof h.address === 'string' && Number.isFinite(h.offences)) this.history.set(h.address, { offences: h.offences, lastUntil: h.lastUntil });
    }
    let n = 0;
    for (const b of state.bans ?? []) {
      if (typeof b.address === 'string' && Number.isFinite(b.until) && b.until > now) {
        this.active.set(b.address, b);
        n++;
      }
    }
    return n;
  }

  private scheduleSave(): void {
    if (!this.stateFile || !this.writes || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, 200);
    this.saveTimer.unref();
  }

  /** writes the state file at once (also at shutdown) */
  saveNow(): void {
    if (!this.stateFile || !this.writes) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const state: StateFile = {
      version: 1,
      bans: [...this.active.values()],
      history: [...this.history].map(([address, h]) => ({ address, ...h })),
    };
    try {
      mkdirSync(dirname(this.stateFile), { recursive: true });
      const tmp = `${this.stateFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
      renameSync(tmp, this.stateFile);
    } catch (err) {
      this.saveErrors++;
      this.onSaveError(err as Error);
    }
  }
}
