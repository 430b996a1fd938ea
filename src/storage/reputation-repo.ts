// Reputation evidence and known fraud numbers as stored. The security layer
// keeps both in memory for its decisions and only loads at start and writes
// behind (no database on the decision path).
import type { Insertable } from 'kysely';
import type { Database } from './database.js';
import type { ReputationTable } from './schema.js';
import { byKey, withLockRetry } from './lock-retry.js';

export interface ReputationRow {
  subject: string;
  good: number;
  bad: number;
  updatedAt: number;
}

const CHUNK = 200;

export class ReputationRepo {
  constructor(private readonly db: Database) {}

  async loadAll(): Promise<ReputationRow[]> {
    const rows = await this.db.kysely.selectFrom('reputation').selectAll().execute();
    return rows.map((r) => ({ subject: r.subject, good: Number(r.good), bad: Number(r.bad), updatedAt: Number(r.updated_at) }));
  }

  /** forget subjects not updated since `before` (epoch ms); returns how many */
  async pruneOlderThan(before: number): Promise<number> {
    const r = await this.db.kysely.deleteFrom('reputation').where('updated_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** insert or replace each subject's evidence */
  async saveMany(rows: readonly ReputationRow[]): Promise<void> {
    const k = this.db.kysely;
    // every node of a cluster writes the subjects it hears of: rows in one order (src/storage/lock-retry.ts)
    const sorted = [...rows].sort(byKey((r) => r.subject));
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const values = sorted.slice(i, i + CHUNK).map((r) => ({ subject: r.subject, good: r.good, bad: r.bad, updated_at: r.updatedAt }));
      await withLockRetry(() => this.upsert(k, values));
    }
  }

  private async upsert(k: Database['kysely'], values: Insertable<ReputationTable>[]): Promise<void> {
    if (this.db.driver === 'mysql') {
      await k
        .insertInto('reputation')
        .values(values)
        .onDuplicateKeyUpdate((eb) => ({ good: eb.fn('values', [eb.ref('good')]), bad: eb.fn('values', [eb.ref('bad')]), updated_at: eb.fn('values', [eb.ref('updated_at')]) }))
        .execute();
    } else {
      await k
        .insertInto('reputation')
        .values(values)
        .onConflict((oc) => oc.column('subject').doUpdateSet((eb) => ({ good: eb.ref('excluded.good'), bad: eb.ref('excluded.bad'), updated_at: eb.ref('excluded.updated_at') })))
        .execute();
    }
  }

  async loadFraudNumbers(): Promise<string[]> {
    const rows = await this.db.kysely.selectFrom('fraud_numbers').select('prefix').execute();
    return rows.map((r) => r.prefix);
  }

  /** adds prefixes (duplicates ignored); returns how many were new */
  async addFraudNumbers(prefixes: readonly string[], source: string): Promise<number> {
    const have = new Set(await this.loadFraudNumbers());
    const fresh = [...new Set(prefixes)].filter((p) => !have.has(p));
    const now = Date.now();
    for (let i = 0; i < fresh.length; i += CHUNK) {
      await this.db.kysely
        .insertInto('fraud_numbers')
        .values(fresh.slice(i, i + CHUNK).map((prefix) => ({ prefix, source: source.slice(0, 255), added_at: now })))
        .execute();
    }
    return fresh.length;
  }
}
