// Durable copy of the location service (implements LocationPersistence).
// Every REGISTER saves a binding, thousands per second under load, so writes
// are coalesced per (aor, contactUri) — only the latest state matters — and
// committed in one transaction at most 50 ms after they are queued. save()
// resolves once its state is committed; the registrar does not wait for it,
// and a binding acknowledged over ~1 s ago is on disk (see CoalescingWriter).
import type { Insertable, Selectable } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database.js';
import type { LocationPersistence, StoredBinding } from './location-types.js';
import type { LocationTable } from './schema.js';
import { CoalescingWriter } from './coalescing-writer.js';
import { byKey, withLockRetry } from './lock-retry.js';

type Op = { kind: 'save'; row: Insertable<LocationTable> } | { kind: 'remove'; aor: string; contactUri: string };

const COLUMNS = ['aor', 'contact_uri', 'contact_header', 'expires_at', 'received', 'call_id', 'cseq', 'user_agent', 'q', 'instance_id', 'reg_id', 'updated_at', 'path'] as const;
const UPDATED = COLUMNS.filter((c) => c !== 'aor' && c !== 'contact_uri');
const CHUNK = 400;

function toRow(b: StoredBinding): Insertable<LocationTable> {
  return {
    aor: b.aor,
    contact_uri: b.contactUri,
    contact_header: b.contactHeader,
    expires_at: b.expiresAt,
    received: b.received,
    call_id: b.callId,
    cseq: b.cseq,
    user_agent: b.userAgent,
    q: b.q,
    instance_id: b.instanceId,
    reg_id: b.regId,
    updated_at: Date.now(),
    path: b.path && b.path.length > 0 ? JSON.stringify(b.path) : null,
  };
}

function fromRow(r: Selectable<LocationTable>): StoredBinding {
  return {
    aor: r.aor,
    contactUri: r.contact_uri,
    contactHeader: r.contact_header,
    expiresAt: Number(r.expires_at),
    received: r.received,
    callId: r.call_id,
    cseq: Number(r.cseq),
    userAgent: r.user_agent,
    q: Number(r.q),
    instanceId: r.instance_id,
    regId: r.reg_id === null ? null : Number(r.reg_id),
    ...(r.path ? { path: parsePath(r.path) } : {}),
  };
}

/** the stored route set (a JSON array of Path values); an unreadable one is dropped */
function parsePath(s: string): string[] {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export class LocationRepo implements LocationPersistence {
  private readonly writer: CoalescingWriter<Op>;

  constructor(private readonly db: Database) {
    this.writer = new CoalescingWriter<Op>(db.sqlite ? this.sqliteWriter(db.sqlite) : (ops) => this.kyselyWrite(ops));
  }

  save(b: StoredBinding): Promise<void> {
    return this.writer.submit(b.aor + '\u0000' + b.contactUri, { kind: 'save', row: toRow(b) });
  }

  remove(aor: string, contactUri: string): Promise<void> {
    return this.writer.submit(aor + '\u0000' + contactUri, { kind: 'remove', aor, contactUri });
  }

  /** Deletes bindings with expiresAt <= now (queued writes land first); returns how many. */
  async removeExpired(now: number): Promise<number> {
    await this.writer.flush();
    const r = await this.db.kysely.deleteFrom('location').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async loadAll(): Promise<StoredBinding[]> {
    await this.writer.flush();
    const rows = await this.db.kysely.selectFrom('location').selectAll().orderBy('aor').orderBy('contact_uri').execute();
    return rows.map(fromRow);
  }

  /** Commits everything queued so far. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.flush();
  }

  private sqliteWriter(raw: BetterSqlite3.Database): (ops: Op[]) => Promise<void> {
    const t = this.db.table('location');
    const upsert = raw.prepare(
      `INSERT INTO "${t}" (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')}) ` +
        `ON CONFLICT(aor, contact_uri) DO UPDATE SET ${UPDATED.map((c) => `${c} = excluded.${c}`).join(', ')}`,
    );
    const del = raw.prepare(`DELETE FROM "${t}" WHERE aor = ? AND contact_uri = ?`);
    const apply = raw.transaction((ops: Op[]) => {
      for (const op of ops) {
        if (op.kind === 'save') upsert.run(op.row);
        else del.run(op.aor, op.contactUri);
      }
    });
    return async (ops) => apply(ops);
  }

  private async kyselyWrite(ops: Op[]): Promise<void> {
    // One key appears once per batch, so saves and removes commute. Several
    // nodes write the shared table at once (a node's own registrations, a
    // phone's retransmission answered by another node after a failover):
    // every batch takes its row locks in one order, (aor, contact_uri), so
    // two batches of saves never deadlock; a deadlock left between one
    // node's saves and another's removes is retried (the server has rolled
    // the loser back whole).
    const saves = ops.flatMap((o) => (o.kind === 'save' ? [o.row] : [])).sort(byKey((r) => r.aor + '\u0000' + r.contact_uri));
    const removes = ops.flatMap((o) => (o.kind === 'remove' ? [o] : [])).sort(byKey((r) => r.aor + '\u0000' + r.contactUri));
    await withLockRetry(() => this.writeBatch(saves, removes));
  }

  private async writeBatch(saves: Insertable<LocationTable>[], removes: Array<{ aor: string; contactUri: string }>): Promise<void> {
    const driver = this.db.driver;
    await this.db.kysely.transaction().execute(async (tx) => {
      for (let i = 0; i < saves.length; i += CHUNK) {
        const q = tx.insertInto('location').values(saves.slice(i, i + CHUNK));
        if (driver === 'mysql') {
          await q.onDuplicateKeyUpdate((eb) => Object.fromEntries(UPDATED.map((c) => [c, eb.fn('VALUES', [eb.ref(c)])]))).execute();
        } else {
          await q.onConflict((oc) => oc.columns(['aor', 'contact_uri']).doUpdateSet((eb) => Object.fromEntries(UPDATED.map((c) => [c, eb.ref(`excluded.${c}`)])))).execute();
        }
      }
      for (let i = 0; i < removes.length; i += CHUNK) {
        const part = removes.slice(i, i + CHUNK);
        await tx
          .deleteFrom('location')
          .where((eb) => eb.or(part.map((r) => eb.and([eb('aor', '=', r.aor), eb('contact_uri', '=', r.contactUri)]))))
          .execute();
      }
    });
  }
}
