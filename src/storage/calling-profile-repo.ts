// Learned calling profiles as stored. The fraud guard keeps them in memory
// for its decisions, loads them at start and writes changed ones behind
// (src/security/fraud/calling-profile-store.ts): no database on the call path.
// Profiles it drops (a principal gone, or no call for
// fraud.anomaly.profile_max_age_days) are deleted here.
import type { Insertable } from 'kysely';
import type { Database } from './database.js';
import type { CallingProfilesTable } from './schema.js';
import { byKey, withLockRetry } from './lock-retry.js';

export interface CallingProfileRow {
  principal: string;
  calls: number;
  /** epoch ms of the first call learned */
  firstAt: number;
  /** calls per hour of day, 24 entries */
  hours: number[];
  dests: string[];
  /** attempt times (epoch ms) of the last hour */
  recent: number[];
  lenN: number;
  lenMean: number;
  lenM2: number;
  /** epoch ms of the last call learned (the profile's age counts from it) */
  updatedAt: number;
}

const CHUNK = 100;
const UPDATED = ['calls', 'first_at', 'hours', 'dests', 'recent', 'len_n', 'len_mean', 'len_m2', 'updated_at'] as const;

export class CallingProfileRepo {
  constructor(private readonly db: Database) {}

  async loadAll(): Promise<CallingProfileRow[]> {
    const rows = await this.db.kysely.selectFrom('calling_profiles').selectAll().execute();
    return rows.map((r) => ({
      principal: r.principal,
      calls: Number(r.calls),
      firstAt: Number(r.first_at),
      hours: r.hours.split(',').map(Number),
      dests: JSON.parse(r.dests) as string[],
      recent: JSON.parse(r.recent) as number[],
      lenN: Number(r.len_n),
      lenMean: Number(r.len_mean),
      lenM2: Number(r.len_m2),
      updatedAt: Number(r.updated_at),
    }));
  }

  /** insert or replace each principal's profile */
  async saveMany(rows: readonly CallingProfileRow[]): Promise<void> {
    const k = this.db.kysely;
    // every node of a cluster writes the profiles it learns: rows in one order (src/storage/lock-retry.ts)
    const sorted = [...rows].sort(byKey((r) => r.principal));
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const values = sorted.slice(i, i + CHUNK).map((r) => ({
        principal: r.principal,
        calls: r.calls,
        first_at: r.firstAt,
        hours: r.hours.join(','),
        dests: JSON.stringify(r.dests),
        recent: JSON.stringify(r.recent),
        len_n: r.lenN,
        len_mean: r.lenMean,
        len_m2: r.lenM2,
        updated_at: r.updatedAt,
      }));
      await withLockRetry(() => this.upsert(k, values));
    }
  }

  /** deletes these principals' profiles (those not stored are no error); returns how many rows went */
  async deleteMany(principals: readonly string[]): Promise<number> {
    const k = this.db.kysely;
    // in key order, as saveMany takes its locks
    const sorted = [...principals].sort(byKey((p) => p));
    let deleted = 0;
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const chunk = sorted.slice(i, i + CHUNK);
      const r = await withLockRetry(() => k.deleteFrom('calling_profiles').where('principal', 'in', chunk).executeTakeFirst());
      deleted += Number(r.numDeletedRows);
    }
    return deleted;
  }

  private async upsert(k: Database['kysely'], values: Insertable<CallingProfilesTable>[]): Promise<void> {
    if (this.db.driver === 'mysql') {
      await k
        .insertInto('calling_profiles')
        .values(values)
        .onDuplicateKeyUpdate((eb) => Object.fromEntries(UPDATED.map((c) => [c, eb.fn('VALUES', [eb.ref(c)])])))
        .execute();
    } else {
      await k
        .insertInto('calling_profiles')
        .values(values)
        .onConflict((oc) => oc.column('principal').doUpdateSet((eb) => Object.fromEntries(UPDATED.map((c) => [c, eb.ref(`excluded.${c}`)]))))
        .execute();
    }
  }
}
