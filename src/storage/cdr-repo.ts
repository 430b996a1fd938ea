// Call detail records with the Asterisk CDR field set (docs/configuration.md, `storage`), plus the
// source IP and the security verdicts of the call.
//
// Times (start, answer, end) are epoch milliseconds in BIGINT columns.
// duration and billsec are whole seconds, as in Asterisk.
//
// Durability: insert() resolves only once the row is committed. SQLite runs
// a prepared statement synchronously (WAL, synchronous=NORMAL: committed rows
// survive kill -9; a power cut may lose the last few). PostgreSQL and MySQL
// rows go through a BatchQueue: rows that arrive while a write is in flight
// are written together as one multi-row INSERT, and close() drains the queue.
import type { Insertable, Selectable } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database.js';
import type { CdrTable } from './schema.js';
import { BatchQueue } from './batch-queue.js';
import { CDR_QUALITY_COLUMNS, fromQualityRow, toQualityRow, type CdrQuality } from './cdr-quality.js';

// The record types are core/'s (core/cdr.ts), shared with the B2BUA.
import { AMA_FLAGS, CDR_DISPOSITIONS, type AmaFlags, type Cdr, type CdrDisposition, type CdrInput } from '../core/cdr.js';
export { AMA_FLAGS, CDR_DISPOSITIONS };
export type { AmaFlags, Cdr, CdrDisposition, CdrInput };

export interface CdrQuery {
  from?: number | Date; // start >= from
  to?: number | Date; // start < to
  src?: string;
  dst?: string;
  /** the call's uniqueid (`palisade show call ID`) */
  uniqueid?: string;
  disposition?: CdrDisposition;
  /** only calls whose quality was flagged (poor, one-way) */
  flagged?: boolean;
  limit?: number; // default 100, at most 10,000
}

const COLUMNS = [
  'accountcode',
  'src',
  'dst',
  'dcontext',
  'clid',
  'channel',
  'dstchannel',
  'lastapp',
  'lastdata',
  'start',
  'answer',
  'end',
  'duration',
  'billsec',
  'disposition',
  'amaflags',
  'uniqueid',
  'userfield',
  'source_ip',
  'security_verdict',
  ...CDR_QUALITY_COLUMNS,
] as const;

const ms = (t: number | Date): number => (typeof t === 'number' ? t : t.getTime());

export function toCdrRow(c: CdrInput): Insertable<CdrTable> {
  if (!CDR_DISPOSITIONS.includes(c.disposition)) throw new RangeError(`CDR disposition "${c.disposition}" is not one of ${CDR_DISPOSITIONS.join(', ')}`);
  if (!c.uniqueid) throw new RangeError('CDR uniqueid is required');
  const amaflags = c.amaflags || 'DOCUMENTATION';
  if (!(AMA_FLAGS as readonly string[]).includes(amaflags)) throw new RangeError(`CDR amaflags "${amaflags}" is not one of ${AMA_FLAGS.join(', ')}`);
  const start = ms(c.start);
  const end = ms(c.end);
  const answer = c.answer === undefined || c.answer === null ? null : ms(c.answer);
  return {
    accountcode: c.accountcode ?? '',
    src: c.src,
    dst: c.dst,
    dcontext: c.dcontext ?? '',
    clid: c.clid ?? '',
    channel: c.channel ?? '',
    dstchannel: c.dstchannel ?? '',
    lastapp: c.lastapp ?? '',
    lastdata: c.lastdata ?? '',
    start,
    answer,
    end,
    duration: c.duration ?? Math.max(0, Math.round((end - start) / 1000)),
    billsec: c.billsec ?? (answer === null ? 0 : Math.max(0, Math.round((end - answer) / 1000))),
    disposition: c.disposition,
    amaflags,
    uniqueid: c.uniqueid,
    userfield: c.userfield ?? '',
    source_ip: c.sourceIp ?? '',
    security_verdict: c.securityVerdict ?? '',
    ...toQualityRow(c.quality),
  };
}

function fromRow(r: Selectable<CdrTable>): Cdr {
  return {
    accountcode: r.accountcode,
    src: r.src,
    dst: r.dst,
    dcontext: r.dcontext,
    clid: r.clid,
    channel: r.channel,
    dstchannel: r.dstchannel,
    lastapp: r.lastapp,
    lastdata: r.lastdata,
    start: Number(r.start),
    answer: r.answer === null ? null : Number(r.answer),
    end: Number(r.end),
    duration: Number(r.duration),
    billsec: Number(r.billsec),
    disposition: r.disposition as CdrDisposition,
    amaflags: r.amaflags as AmaFlags,
    uniqueid: r.uniqueid,
    userfield: r.userfield,
    sourceIp: r.source_ip,
    securityVerdict: r.security_verdict,
    ...withQuality(fromQualityRow(r)),
  };
}

/** rows without quality figures read back without the field, as they were written */
const withQuality = (quality: CdrQuality | null): { quality?: CdrQuality } => (quality ? { quality } : {});

export class CdrRepo {
  private readonly sqliteInsert: BetterSqlite3.Statement | null = null;
  private readonly sqliteInsertMany: ((rows: Insertable<CdrTable>[]) => void) | null = null;
  private readonly queue: BatchQueue<Insertable<CdrTable>> | null = null;

  constructor(private readonly db: Database) {
    const raw = db.sqlite;
    if (raw) {
      const stmt = raw.prepare(`INSERT INTO "${db.table('cdr')}" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})`);
      this.sqliteInsert = stmt;
      this.sqliteInsertMany = raw.transaction((rows: Insertable<CdrTable>[]) => {
        for (const r of rows) stmt.run(r);
      });
    } else {
      this.queue = new BatchQueue((rows) =>
        this.db.kysely
          .insertInto('cdr')
          .values(rows)
          .execute()
          .then(() => undefined),
      );
    }
  }

  /**
   * Resolves once the record is committed; rejects on a bad record or a duplicate uniqueid.
   *
   * SQLite: rows that arrive during one turn of the event loop are committed
   * together right after it (setImmediate, before any timer or I/O wait), so
   * a busy PBX pays one commit per turn instead of one per call, and a row is
   * on disk within the same turn it was handed over.
   */
  insert(cdr: CdrInput): Promise<void> {
    let row: Insertable<CdrTable>;
    try {
      row = toCdrRow(cdr);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.sqliteInsert) {
      return new Promise<void>((resolve, reject) => {
        this.pending.push({ row, resolve, reject });
        if (this.pending.length === 1) setImmediate(this.commitPending);
      });
    }
    return this.queue!.push(row);
  }

  private pending: Array<{ row: Insertable<CdrTable>; resolve: () => void; reject: (err: unknown) => void }> = [];

  private readonly commitPending = (): void => {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.sqliteInsertMany!(batch.map((p) => p.row));
      for (const p of batch) p.resolve();
    } catch {
      // one bad row must not take the others down: insert them one by one
      for (const p of batch) {
        try {
          this.sqliteInsert!.run(p.row);
          p.resolve();
        } catch (err) {
          p.reject(err);
        }
      }
    }
  };

  /** SQLite: one transaction (all or nothing). pg/MySQL: queued like insert(); rejects if any row failed. */
  async insertMany(cdrs: readonly CdrInput[]): Promise<void> {
    const rows = cdrs.map(toCdrRow);
    if (this.sqliteInsertMany) {
      this.sqliteInsertMany(rows);
      return;
    }
    await this.queue!.pushMany(rows);
  }

  /** Newest first. */
  async query(q: CdrQuery = {}): Promise<Cdr[]> {
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 100)), 10_000);
    let sel = this.db.kysely.selectFrom('cdr').selectAll();
    if (q.from !== undefined) sel = sel.where('start', '>=', ms(q.from));
    if (q.to !== undefined) sel = sel.where('start', '<', ms(q.to));
    if (q.src !== undefined) sel = sel.where('src', '=', q.src);
    if (q.dst !== undefined) sel = sel.where('dst', '=', q.dst);
    if (q.uniqueid !== undefined) sel = sel.where('uniqueid', '=', q.uniqueid);
    if (q.disposition !== undefined) sel = sel.where('disposition', '=', q.disposition);
    if (q.flagged) sel = sel.where('rtp_quality_flags', 'is not', null).where('rtp_quality_flags', '!=', '');
    const rows = await sel.orderBy('start', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(fromRow);
  }

  /** Waits for queued inserts to be committed. */
  async flush(): Promise<void> {
    this.commitPending();
    await this.queue?.idle();
  }

  close(): Promise<void> {
    return this.flush();
  }
}
