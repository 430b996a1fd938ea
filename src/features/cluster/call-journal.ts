// The calls a node has up, in the shared database (docs/operations.md,
// "Scaling out": calls on a dead node). A CDR is written when a call ends,
// so a node killed with kill -9 would leave no record of the calls it held.
// Each call's start (and its answer) is therefore noted in `cluster_calls`
// in the background — batched, never on the call's path — and the note is
// removed when the call ends; a call that starts and ends within one batch
// never touches the table. Every few seconds the node also notes that it is
// alive (`cluster_node_alive`). When the node starts again under the same
// name, it closes what its previous run left: a CDR for each noted call,
// ended at the last moment that run was known alive, with the userfield
// "node-crashed", and the notes removed.
import type { Kysely } from 'kysely';
import type { CallEvent } from '../../core/call-events.js';
import type { CdrInput } from '../../core/cdr.js';
import type { ModuleMigration } from '../../storage/database.js';
import type { Logger } from '../../observability/logger.js';

export const CLUSTER_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    description: 'cluster_calls (calls up per node, closed into CDRs after a crash), cluster_node_alive',
    tables: ['cluster_calls', 'cluster_node_alive'],
    async up(db, ctx) {
      await db.schema
        .createTable('cluster_calls')
        .ifNotExists()
        .addColumn('node', 'varchar(32)', (c) => c.notNull())
        .addColumn('call_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('uniqueid', 'varchar(150)', (c) => c.notNull().defaultTo(''))
        .addColumn('src', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('dst', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('channel', 'varchar(200)', (c) => c.notNull().defaultTo(''))
        .addColumn('start', 'bigint', (c) => c.notNull())
        .addColumn('answer', 'bigint')
        // prefixed like the table: PostgreSQL names the key's index in the schema, and a second installation
        // sharing the database (another table_prefix) could not create its journal beside the first's
        .addPrimaryKeyConstraint(`${ctx.prefix}cluster_calls_pk`, ['node', 'call_id'])
        .execute();
      await db.schema
        .createTable('cluster_node_alive')
        .ifNotExists()
        .addColumn('node', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('started', 'bigint', (c) => c.notNull())
        .addColumn('alive_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

interface CallRow {
  node: string;
  call_id: string;
  uniqueid: string;
  src: string;
  dst: string;
  channel: string;
  start: number;
  answer: number | null;
}

interface Tables {
  cluster_calls: CallRow;
  cluster_node_alive: { node: string; started: number; alive_at: number };
  cdr: { uniqueid: string };
}

export interface JournalDeps {
  db: Kysely<Tables>;
  node: string;
  started: number;
  writeCdr(rec: CdrInput): Promise<unknown>;
  log: Logger;
  /** how often the node notes it is alive and the batch is written at the latest (ms) */
  aliveEveryMs?: number;
  flushEveryMs?: number;
}

export class CallJournal {
  private readonly inserts = new Map<string, CallRow>();
  private readonly answers = new Map<string, number>();
  private readonly deletes = new Set<string>();
  private flushing: Promise<void> | null = null;
  private timer?: NodeJS.Timeout;
  private alive?: NodeJS.Timeout;
  private ready = false;
  /** the calls of dead workers being closed, one after the other */
  private closing: Promise<void> = Promise.resolve();
  readonly stats = { noted: 0, closed: 0, skipped: 0, recovered: 0, errors: 0 };

  constructor(private readonly d: JournalDeps) {}

  /**
   * Closes what the previous run of this node left open, then starts noting
   * this run's calls (noted meanwhile, written once recovery is done).
   */
  async start(): Promise<number> {
    let n = 0;
    try {
      n = await this.recover();
    } finally {
      this.ready = true;
      await this.markAlive().catch((err: Error) => this.fault('alive', err));
      this.alive = setInterval(() => void this.markAlive().catch((err: Error) => this.fault('alive', err)), this.d.aliveEveryMs ?? 1000);
      this.alive.unref();
      this.timer = setInterval(() => void this.flush(), this.d.flushEveryMs ?? 100);
      this.timer.unref();
    }
    return n;
  }

  /** a phase of a call (src/core/call-events.ts): noted in memory, written by the next batch */
  onCall(e: CallEvent): void {
    if (e.phase === 'start') {
      if (this.inserts.has(e.callId)) return;
      this.inserts.set(e.callId, {
        node: this.d.node,
        call_id: e.callId.slice(0, 128),
        // a dialplan channel's id is its CDR uniqueid
        uniqueid: (e.uniqueid ?? (e.via === 'channel' ? e.callId : '')).slice(0, 150),
        src: e.from.slice(0, 80),
        dst: e.to.slice(0, 80),
        channel: (e.channel ?? '').slice(0, 200),
        start: e.at,
        answer: null,
      });
    } else if (e.phase === 'answered') {
      const row = this.inserts.get(e.callId);
      if (row) row.answer ??= e.at;
      else if (!this.answers.has(e.callId)) this.answers.set(e.callId, e.at);
    } else if (e.phase === 'end' && e.cause === 'worker-gone') {
      // the worker that held it died (sip.workers > 1) and wrote no CDR: closed here as a crashed node's call is
      const pending = this.inserts.get(e.callId);
      const answer = pending?.answer ?? this.answers.get(e.callId) ?? null;
      this.inserts.delete(e.callId);
      this.answers.delete(e.callId);
      this.closing = this.closing.then(() => this.closeGone(e.callId, pending, answer, e.at)).catch((err: Error) => this.fault('worker-gone', err));
    } else if (e.phase === 'end') {
      // started and ended before the batch was written: nothing to write or remove
      if (this.inserts.delete(e.callId)) {
        this.stats.skipped++;
        this.answers.delete(e.callId);
      } else {
        this.answers.delete(e.callId);
        this.deletes.add(e.callId);
      }
    }
  }

  /** writes what was noted since the last batch (one batch at a time) */
  async flush(): Promise<void> {
    if (!this.ready || this.flushing) return this.flushing ?? undefined;
    if (this.inserts.size === 0 && this.answers.size === 0 && this.deletes.size === 0) return;
    const inserts = [...this.inserts.values()];
    const answers = [...this.answers];
    const deletes = [...this.deletes];
    this.inserts.clear();
    this.answers.clear();
    this.deletes.clear();
    this.flushing = (async () => {
      const db = this.d.db;
      try {
        if (inserts.length > 0)
          await db
            .insertInto('cluster_calls')
            .values(inserts)
            .onConflict((oc) => oc.columns(['node', 'call_id']).doNothing())
            .execute();
        this.stats.noted += inserts.length;
        // one UPDATE per answered call, up to 32 at once on the pool
        for (let i = 0; i < answers.length; i += 32) {
          await Promise.all(
            answers.slice(i, i + 32).map(([id, at]) => db.updateTable('cluster_calls').set({ answer: at }).where('node', '=', this.d.node).where('call_id', '=', id).execute()),
          );
        }
        if (deletes.length > 0) await db.deleteFrom('cluster_calls').where('node', '=', this.d.node).where('call_id', 'in', deletes).execute();
        this.stats.closed += deletes.length;
      } catch (err) {
        this.fault('write', err as Error);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.alive) clearInterval(this.alive);
    await this.flushing;
    await this.flush();
    await this.closing;
  }

  private async markAlive(): Promise<void> {
    const now = Date.now();
    await this.d.db
      .insertInto('cluster_node_alive')
      .values({ node: this.d.node, started: this.d.started, alive_at: now })
      .onConflict((oc) => oc.column('node').doUpdateSet({ started: this.d.started, alive_at: now }))
      .execute();
  }

  /** the calls the previous run of this node left: each gets its CDR */
  private async recover(): Promise<number> {
    const db = this.d.db;
    const rows = await db.selectFrom('cluster_calls').selectAll().where('node', '=', this.d.node).execute();
    if (rows.length === 0) return 0;
    const prev = await db.selectFrom('cluster_node_alive').select(['alive_at', 'started']).where('node', '=', this.d.node).executeTakeFirst();
    const now = Date.now();
    let n = 0;
    for (const r of rows) {
      // the last moment the previous run was known alive (within aliveEveryMs), never before the call began
      const lastAlive = prev && Number(prev.started) !== this.d.started ? Number(prev.alive_at) : now;
      if (await this.closeRow(r, Math.min(lastAlive, now), 'node-crashed')) n++;
    }
    this.stats.recovered += n;
    this.d.log.warn('cluster-calls-closed', {
      node: this.d.node,
      calls: n,
      noted: rows.length,
      ended_at: new Date(Math.min(prev ? Number(prev.alive_at) : now, now)).toISOString(),
    });
    return n;
  }

  /** one noted call whose holder is gone: its CDR (unless written already) ending at `at`, and the note removed; true when a CDR was written */
  private async closeRow(r: CallRow, at: number, userfield: string): Promise<boolean> {
    const db = this.d.db;
    const start = Number(r.start);
    const answer = r.answer === null ? null : Number(r.answer);
    const end = Math.max(start, answer ?? start, at);
    const uniqueid = r.uniqueid || `${this.d.node}-${r.call_id}`.slice(0, 150);
    // the CDR may have been written just before the crash, its note not yet removed
    const written = await db.selectFrom('cdr').select('uniqueid').where('uniqueid', '=', uniqueid).executeTakeFirst();
    if (!written) {
      await this.d.writeCdr({
        src: r.src,
        dst: r.dst,
        channel: r.channel,
        lastapp: 'Dial',
        lastdata: r.dst,
        start,
        answer,
        end,
        disposition: answer !== null ? 'ANSWERED' : 'NO ANSWER',
        amaflags: 'DOCUMENTATION',
        uniqueid,
        userfield,
      });
    }
    await db.deleteFrom('cluster_calls').where('node', '=', this.d.node).where('call_id', '=', r.call_id).execute();
    return !written;
  }

  /** a call of a worker that died: from its note (still in memory, or written) */
  private async closeGone(callId: string, pending: CallRow | undefined, answer: number | null, at: number): Promise<void> {
    await this.flushing;
    const id = callId.slice(0, 128);
    const row = pending ?? (await this.d.db.selectFrom('cluster_calls').selectAll().where('node', '=', this.d.node).where('call_id', '=', id).executeTakeFirst());
    if (!row) return;
    if (await this.closeRow({ ...row, answer: row.answer ?? answer }, at, 'worker-crashed')) {
      this.stats.recovered++;
      this.d.log.warn('cluster-call-closed', { node: this.d.node, call: id, why: 'worker-gone' });
    }
  }

  private fault(what: string, err: Error): void {
    this.stats.errors++;
    this.d.log.warn('cluster-calls-write-failed', { what, error: err.message });
  }
}
