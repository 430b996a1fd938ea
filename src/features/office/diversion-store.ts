// Each extension's do-not-disturb and call forwarding, kept in the office
// module's own table (`office_diversion`, storage.migrateModule) and in
// memory: the B2BUA and the channels read it through the core's
// DiversionPolicy (src/core/call-diversion.ts) on every call, so a look-up
// is a Map read; a change is written to the database before it is answered,
// so a restart keeps it.
import type { Kysely } from 'kysely';
import type { Diversion, DiversionPolicy } from '../../core/call-diversion.js';
import type { ModuleMigration } from '../../storage/database.js';

export const OFFICE_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    description: 'office_diversion: do-not-disturb and call forwarding per extension',
    tables: ['office_diversion'],
    async up(db) {
      await db.schema
        .createTable('office_diversion')
        .ifNotExists()
        .addColumn('extension', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('dnd', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('fwd_always', 'varchar(32)', (c) => c.notNull().defaultTo(''))
        .addColumn('fwd_busy', 'varchar(32)', (c) => c.notNull().defaultTo(''))
        .addColumn('fwd_noanswer', 'varchar(32)', (c) => c.notNull().defaultTo(''))
        .addColumn('noanswer_secs', 'integer', (c) => c.notNull().defaultTo(20))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

interface Row {
  extension: string;
  dnd: number;
  fwd_always: string;
  fwd_busy: string;
  fwd_noanswer: string;
  noanswer_secs: number;
  updated_at: number;
}

export type ForwardKind = 'always' | 'busy' | 'noanswer';

const NONE: Diversion = { dnd: false, always: '', busy: '', noAnswer: '', noAnswerSecs: 20 };

export class DiversionStore implements DiversionPolicy {
  private readonly map = new Map<string, Diversion>();
  /** after each change was written (several workers: the others adopt it) */
  onSaved: ((extension: string, d: Diversion) => void) | null = null;

  // biome-ignore lint/suspicious/noExplicitAny: the module's table is not in the core's Tables
  constructor(private readonly db: Kysely<any>) {}

  async load(): Promise<number> {
    const rows = (await this.db.selectFrom('office_diversion').selectAll().execute()) as Row[];
    this.map.clear();
    for (const r of rows) {
      this.map.set(r.extension, { dnd: Number(r.dnd) === 1, always: r.fwd_always, busy: r.fwd_busy, noAnswer: r.fwd_noanswer, noAnswerSecs: Number(r.noanswer_secs) });
    }
    return rows.length;
  }

  of(extension: string): Diversion | undefined {
    return this.map.get(extension);
  }

  /** every extension with something set */
  list(): Array<Diversion & { extension: string }> {
    return [...this.map.entries()].map(([extension, d]) => ({ extension, ...d })).sort((a, b) => a.extension.localeCompare(b.extension));
  }

  async setDnd(extension: string, on: boolean): Promise<Diversion> {
    return this.save(extension, { ...(this.map.get(extension) ?? NONE), dnd: on });
  }

  /** `target` '' turns the forward off */
  async setForward(extension: string, kind: ForwardKind, target: string, seconds?: number): Promise<Diversion> {
    const d = { ...(this.map.get(extension) ?? NONE) };
    if (kind === 'always') d.always = target;
    else if (kind === 'busy') d.busy = target;
    else {
      d.noAnswer = target;
      if (seconds !== undefined) d.noAnswerSecs = seconds;
    }
    return this.save(extension, d);
  }

  private async save(extension: string, d: Diversion): Promise<Diversion> {
    const row: Row = { extension, dnd: d.dnd ? 1 : 0, fwd_always: d.always, fwd_busy: d.busy, fwd_noanswer: d.noAnswer, noanswer_secs: d.noAnswerSecs, updated_at: Date.now() };
    // delete + insert in one transaction: the same on SQLite, PostgreSQL and MariaDB
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('office_diversion').where('extension', '=', extension).execute();
      await tx.insertInto('office_diversion').values(row).execute();
    });
    this.map.set(extension, d);
    this.onSaved?.(extension, d);
    return d;
  }

  /** a change another worker wrote (sip.workers > 1): held here too, not written again */
  adopt(extension: string, d: Diversion): void {
    this.map.set(extension, {
      dnd: d.dnd === true,
      always: String(d.always ?? ''),
      busy: String(d.busy ?? ''),
      noAnswer: String(d.noAnswer ?? ''),
      noAnswerSecs: Number(d.noAnswerSecs ?? 20),
    });
  }
}
