// Store-and-forward: messages for an extension that is offline (or whose
// phones refused them) wait in the messaging module's own table until the
// extension registers again, at most `store_for` seconds, then are dropped
// with a log line. The table is the module's (Database.migrateModule); the
// same queries run on SQLite, PostgreSQL and MariaDB. An in-memory count per
// recipient answers "anything waiting?" on every REGISTER without a query.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ModuleMigration } from '../../storage/database.js';

export const MESSAGING_TABLE = 'messaging_queue';

export interface StoredMessage {
  id: string;
  recipient: string;
  sender: string;
  senderName: string;
  contentType: string;
  body: Buffer;
  createdAt: number;
  expiresAt: number;
}

export const MESSAGING_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    description: 'undelivered messages',
    tables: [MESSAGING_TABLE],
    async up(db, ctx) {
      await db.schema
        .createTable(MESSAGING_TABLE)
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('recipient', 'varchar(64)', (c) => c.notNull())
        .addColumn('sender', 'varchar(64)', (c) => c.notNull())
        .addColumn('sender_name', 'varchar(128)', (c) => c.notNull())
        .addColumn('content_type', 'varchar(128)', (c) => c.notNull())
        // base64: a body may be any bytes (RFC 3428 §8: any MIME type)
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex(`${ctx.prefix}${MESSAGING_TABLE}_recipient`).on(MESSAGING_TABLE).columns(['recipient', 'created_at']).execute();
    },
  },
];

interface Row {
  id: string;
  recipient: string;
  sender: string;
  sender_name: string;
  content_type: string;
  body: string;
  created_at: number | string;
  expires_at: number | string;
}

function fromRow(r: Row): StoredMessage {
  return {
    id: r.id,
    recipient: r.recipient,
    sender: r.sender,
    senderName: r.sender_name,
    contentType: r.content_type,
    body: Buffer.from(r.body, 'base64'),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

export class MessageStore {
  private readonly waiting = new Map<string, number>();

  // biome-ignore lint/suspicious/noExplicitAny: the module's table is not in the core's Tables
  constructor(private readonly db: Kysely<any>) {}

  /** the counts per recipient, from the table (at start) */
  async load(): Promise<number> {
    const rows = await this.db.selectFrom(MESSAGING_TABLE).select(['recipient']).execute();
    this.waiting.clear();
    for (const r of rows as Array<{ recipient: string }>) this.waiting.set(r.recipient, (this.waiting.get(r.recipient) ?? 0) + 1);
    return rows.length;
  }

  /** messages waiting for `recipient` (no query) */
  pending(recipient: string): number {
    return this.waiting.get(recipient) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const v of this.waiting.values()) n += v;
    return n;
  }

  /** keeps a message; false when the recipient's queue is full */
  async put(m: Omit<StoredMessage, 'id'>, max: number): Promise<StoredMessage | null> {
    if (this.pending(m.recipient) >= max) return null;
    const id = randomUUID();
    this.waiting.set(m.recipient, this.pending(m.recipient) + 1);
    try {
      await this.db
        .insertInto(MESSAGING_TABLE)
        .values({
          id,
          recipient: m.recipient,
          sender: m.sender,
          sender_name: m.senderName,
          content_type: m.contentType,
          body: m.body.toString('base64'),
          created_at: m.createdAt,
          expires_at: m.expiresAt,
        })
        .execute();
    } catch (err) {
      this.dec(m.recipient);
      throw err;
    }
    return { ...m, id };
  }

  /** the recipient's messages, oldest first */
  async forRecipient(recipient: string): Promise<StoredMessage[]> {
    const rows = await this.db.selectFrom(MESSAGING_TABLE).selectAll().where('recipient', '=', recipient).orderBy('created_at').execute();
    return (rows as Row[]).map(fromRow);
  }

  async list(): Promise<StoredMessage[]> {
    const rows = await this.db.selectFrom(MESSAGING_TABLE).selectAll().orderBy('created_at').execute();
    return (rows as Row[]).map(fromRow);
  }

  /** a message was delivered (or expired): gone from the table */
  async remove(m: StoredMessage): Promise<void> {
    const r = await this.db.deleteFrom(MESSAGING_TABLE).where('id', '=', m.id).executeTakeFirst();
    if (Number(r.numDeletedRows) > 0) this.dec(m.recipient);
  }

  /** the messages past their time, removed and returned (for the log) */
  async expire(now: number): Promise<StoredMessage[]> {
    const rows = (await this.db.selectFrom(MESSAGING_TABLE).selectAll().where('expires_at', '<=', now).execute()) as Row[];
    const out: StoredMessage[] = [];
    for (const r of rows) {
      const m = fromRow(r);
      const d = await this.db.deleteFrom(MESSAGING_TABLE).where('id', '=', m.id).executeTakeFirst();
      if (Number(d.numDeletedRows) > 0) {
        this.dec(m.recipient);
        out.push(m);
      }
    }
    return out;
  }

  private dec(recipient: string): void {
    const n = this.pending(recipient) - 1;
    if (n > 0) this.waiting.set(recipient, n);
    else this.waiting.delete(recipient);
  }
}
