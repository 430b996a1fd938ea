// The queue_log, in Asterisk's exact format so existing queue reporting
// tools read it (main/logger.c ast_queue_log): one line per event,
//
//   epoch|callid|queuename|agent|event|data1|data2|...
//
// e.g. `1733325412|1733325400.c12|support|PJSIP/1001|CONNECT|12|1733325412.q3|4`.
// Each line is written to the file at once (one write() of the whole line on
// a descriptor opened for append, so a crash loses none), and to the
// database table queue_log in the shape of Asterisk's realtime queue_log
// (time, callid, queuename, agent, event, data1..data5), where the per-day
// statistics are read from.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import type { ModuleMigration } from '../../storage/database.js';
import { BatchQueue } from '../../storage/batch-queue.js';

export interface QueueLogEntry {
  epoch: number;
  callid: string;
  queue: string;
  agent: string;
  event: string;
  data: string[];
}

/** the file line for an entry (no newline) */
export function formatQueueLogLine(e: QueueLogEntry): string {
  return [String(e.epoch), e.callid, e.queue, e.agent, e.event, ...e.data].join('|') + (e.data.length === 0 ? '|' : '');
}

/** a file line back into its fields (for tests and `queue-log` readers) */
export function parseQueueLogLine(line: string): QueueLogEntry | null {
  const f = line.split('|');
  if (f.length < 6 || !/^\d+$/.test(f[0]!)) return null;
  // "EVENT|" (no data) reads back as one empty field, as Asterisk's data1 column holds ''
  return { epoch: Number(f[0]), callid: f[1]!, queue: f[2]!, agent: f[3]!, event: f[4]!, data: f.slice(5) };
}

/** Asterisk's realtime `time` column: local time with microseconds */
function timeColumn(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

export const QUEUE_LOG_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    description: 'queue_log (Asterisk realtime shape) and persistent dynamic members',
    tables: ['queue_log', 'queue_members'],
    async up(db, ctx) {
      await db.schema
        .createTable('queue_log')
        .ifNotExists()
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('time', 'varchar(32)', (c) => c.notNull())
        .addColumn('epoch', 'bigint', (c) => c.notNull())
        .addColumn('day', 'varchar(10)', (c) => c.notNull())
        .addColumn('callid', 'varchar(80)', (c) => c.notNull())
        .addColumn('queuename', 'varchar(80)', (c) => c.notNull())
        .addColumn('agent', 'varchar(120)', (c) => c.notNull())
        .addColumn('event', 'varchar(32)', (c) => c.notNull())
        .addColumn('data1', 'varchar(200)', (c) => c.notNull())
        .addColumn('data2', 'varchar(200)', (c) => c.notNull())
        .addColumn('data3', 'varchar(200)', (c) => c.notNull())
        .addColumn('data4', 'varchar(200)', (c) => c.notNull())
        .addColumn('data5', 'varchar(200)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex(`${ctx.prefix}queue_log_day`).ifNotExists().on('queue_log').columns(['queuename', 'day']).execute();
      await db.schema
        .createTable('queue_members')
        .ifNotExists()
        .addColumn('queuename', 'varchar(80)', (c) => c.notNull())
        .addColumn('interface', 'varchar(120)', (c) => c.notNull())
        .addColumn('membername', 'varchar(120)', (c) => c.notNull())
        .addColumn('penalty', 'integer', (c) => c.notNull())
        .addColumn('paused', 'integer', (c) => c.notNull())
        .addColumn('reason', 'varchar(120)', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${ctx.prefix}queue_members_pk`, ['queuename', 'interface'])
        .execute();
    },
  },
];

export interface QueueLogRow {
  seq: number;
  time: string;
  epoch: number;
  day: string;
  callid: string;
  queuename: string;
  agent: string;
  event: string;
  data1: string;
  data2: string;
  data3: string;
  data4: string;
  data5: string;
}

/** a local calendar day YYYY-MM-DD */
export function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export class QueueLog {
  private fd: number | null = null;
  private readonly rows: BatchQueue<QueueLogRow> | null;
  private seq = 0;
  private failures = 0;

  constructor(
    file: string | null,
    // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
    db: Kysely<any> | null,
    private readonly onError: (what: string, err: Error) => void,
    private readonly now: () => number = Date.now,
  ) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(file, 'a', 0o640);
    }
    this.rows = db
      ? new BatchQueue((items) =>
          db
            .insertInto('queue_log')
            .values(items)
            .execute()
            .then(() => undefined),
        )
      : null;
  }

  /** one event; data fields as Asterisk writes them for that event */
  write(queue: string, callid: string, agent: string, event: string, ...data: Array<string | number>): QueueLogEntry {
    const ms = this.now();
    const e: QueueLogEntry = { epoch: Math.floor(ms / 1000), callid, queue, agent, event, data: data.map(String) };
    if (this.fd !== null) {
      try {
        writeSync(this.fd, formatQueueLogLine(e) + '\n');
      } catch (err) {
        this.onError('file', err as Error);
      }
    }
    if (this.rows) {
      const d = e.data;
      const row: QueueLogRow = {
        seq: ms * 1000 + (this.seq++ % 1000),
        time: timeColumn(ms),
        epoch: e.epoch,
        day: localDay(ms),
        callid,
        queuename: queue,
        agent,
        event,
        data1: d[0] ?? '',
        data2: d[1] ?? '',
        data3: d[2] ?? '',
        data4: d[3] ?? '',
        data5: d.slice(4).join('|'),
      };
      this.rows.push(row).catch((err: Error) => {
        this.failures++;
        this.onError('database', err);
      });
    }
    return e;
  }

  get hasDatabase(): boolean {
    return this.rows !== null;
  }

  /** rows that could not be stored */
  get dbFailures(): number {
    return this.failures;
  }

  /** resolves when every row written so far is in the database */
  async flush(): Promise<void> {
    await this.rows?.idle();
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
