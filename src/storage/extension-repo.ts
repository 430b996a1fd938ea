// Extensions as stored: credentials only as HA1 (RFC 7616 §3.4.2), one per
// digest algorithm, together with the realm they were computed for. An
// extension with voicemail has the mailbox of its number in [default]; the
// PIN an import gave it is kept as voicemail.conf keeps PINs (a PIN its owner
// changes by phone is scrypt-hashed in the spool and wins).
import type { Insertable, Selectable } from 'kysely';
import type { ExtensionConfig } from '../config/config-types.js';
import type { Database } from './database.js';
import type { ExtensionsTable } from './schema.js';
import { byKey, withLockRetry } from './lock-retry.js';

export interface ExtensionRecord {
  number: string;
  name: string;
  ha1Md5: string | null;
  ha1Sha256: string | null;
  realm: string;
  context: string;
  email: string | null;
  voicemail: boolean;
  /** the mailbox PIN set by `palisade users import`; null: none */
  voicemailPin: string | null;
  directMedia: boolean;
  maxContacts: number;
  /**
   * when this holder of the number was made (epoch ms), for a record written
   * back as it was (an extension set aside and enabled again); a new row gets
   * now without it, and an update never changes it
   */
  createdAt?: number;
}

export interface StoredExtension extends ExtensionRecord {
  createdAt: number; // epoch ms
  updatedAt: number;
}

/** Maps a configured extension to its stored form. */
export function extensionRecordFromConfig(e: ExtensionConfig, realm: string): ExtensionRecord {
  return {
    number: e.number,
    name: e.name,
    ha1Md5: e.ha1Md5,
    ha1Sha256: e.ha1Sha256,
    realm,
    context: e.context,
    email: e.email,
    voicemail: e.voicemail,
    voicemailPin: null,
    directMedia: e.directMedia,
    maxContacts: e.maxContacts,
  };
}

const COLUMNS = [
  'number',
  'name',
  'ha1_md5',
  'ha1_sha256',
  'realm',
  'context',
  'email',
  'voicemail',
  'voicemail_pin',
  'direct_media',
  'max_contacts',
  'created_at',
  'updated_at',
] as const;
const UPDATED = COLUMNS.filter((c) => c !== 'number' && c !== 'created_at');
const CHUNK = 500;

function toRow(r: ExtensionRecord, now: number): Insertable<ExtensionsTable> {
  return {
    number: r.number,
    name: r.name,
    ha1_md5: r.ha1Md5,
    ha1_sha256: r.ha1Sha256,
    realm: r.realm,
    context: r.context,
    email: r.email,
    voicemail: r.voicemail ? 1 : 0,
    voicemail_pin: r.voicemailPin,
    direct_media: r.directMedia ? 1 : 0,
    max_contacts: r.maxContacts,
    created_at: r.createdAt ?? now,
    updated_at: now,
  };
}

function fromRow(r: Selectable<ExtensionsTable>): StoredExtension {
  return {
    number: r.number,
    name: r.name,
    ha1Md5: r.ha1_md5,
    ha1Sha256: r.ha1_sha256,
    realm: r.realm,
    context: r.context,
    email: r.email,
    voicemail: Number(r.voicemail) !== 0,
    voicemailPin: r.voicemail_pin ?? null,
    directMedia: Number(r.direct_media) !== 0,
    maxContacts: Number(r.max_contacts),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class ExtensionRepo {
  private readonly sqliteUpsert: ((rows: Insertable<ExtensionsTable>[]) => void) | null = null;

  constructor(private readonly db: Database) {
    const raw = db.sqlite;
    if (raw) {
      const t = db.table('extensions');
      const stmt = raw.prepare(
        `INSERT INTO "${t}" (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')}) ` +
          `ON CONFLICT(number) DO UPDATE SET ${UPDATED.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      );
      // better-sqlite3 transactions are synchronous: nothing else can run on
      // the connection in between, so a CDR insert never lands inside them.
      this.sqliteUpsert = raw.transaction((rows: Insertable<ExtensionsTable>[]) => {
        for (const r of rows) stmt.run(r);
      });
    }
  }

  /** Inserts or updates all records in one transaction (all or nothing); created_at survives updates. */
  async upsertMany(records: readonly ExtensionRecord[]): Promise<void> {
    if (records.length === 0) return;
    const now = Date.now();
    const rows = records.map((r) => toRow(r, now));
    if (this.sqliteUpsert) {
      this.sqliteUpsert(rows);
      return;
    }
    const driver = this.db.driver;
    // rows locked in key order, so two nodes importing the same extensions cannot deadlock; a lost conflict is tried again
    rows.sort(byKey((r) => r.number));
    await withLockRetry(() =>
      this.db.kysely.transaction().execute(async (tx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          const q = tx.insertInto('extensions').values(rows.slice(i, i + CHUNK));
          if (driver === 'mysql') {
            await q.onDuplicateKeyUpdate((eb) => Object.fromEntries(UPDATED.map((c) => [c, eb.fn('VALUES', [eb.ref(c)])]))).execute();
          } else {
            await q.onConflict((oc) => oc.column('number').doUpdateSet((eb) => Object.fromEntries(UPDATED.map((c) => [c, eb.ref(`excluded.${c}`)])))).execute();
          }
        }
      }),
    );
  }

  async get(number: string): Promise<StoredExtension | undefined> {
    const row = await this.db.kysely.selectFrom('extensions').selectAll().where('number', '=', number).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async list(): Promise<StoredExtension[]> {
    const rows = await this.db.kysely.selectFrom('extensions').selectAll().orderBy('number').execute();
    return rows.map(fromRow);
  }

  /** Returns whether a row was deleted. */
  async delete(number: string): Promise<boolean> {
    const r = await this.db.kysely.deleteFrom('extensions').where('number', '=', number).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- extensions set aside ("disabled"): their records, out of `extensions`

  async disabled(): Promise<Array<{ number: string; record: Record<string, unknown>; disabledAt: number }>> {
    const rows = await this.db.kysely.selectFrom('extensions_disabled').selectAll().orderBy('number').execute();
    return rows.map(setAsideRecord);
  }

  /** one number's record set aside, or undefined when it is not (one row read: the API's edit and delete) */
  async disabledOne(number: string): Promise<{ number: string; record: Record<string, unknown>; disabledAt: number } | undefined> {
    const r = await this.db.kysely.selectFrom('extensions_disabled').selectAll().where('number', '=', number).executeTakeFirst();
    return r ? setAsideRecord(r) : undefined;
  }

  /** the numbers set aside, without their records (the directory's reload) */
  async disabledNumbers(): Promise<string[]> {
    const rows = await this.db.kysely.selectFrom('extensions_disabled').select('number').execute();
    return rows.map((r) => r.number);
  }

  /** sets `number` aside with its record (replacing one set aside before), in one statement */
  async setDisabled(number: string, record: Record<string, unknown>): Promise<void> {
    // no transaction: on SQLite one would hold the shared connection across awaits, and a CDR written meanwhile would land inside it
    const set = { record_json: JSON.stringify(record), disabled_at: Date.now() };
    const q = this.db.kysely.insertInto('extensions_disabled').values({ number, ...set });
    if (this.db.driver === 'mysql') await q.onDuplicateKeyUpdate(set).execute();
    else await q.onConflict((oc) => oc.column('number').doUpdateSet(set)).execute();
  }

  /** Returns whether `number` was set aside. */
  async clearDisabled(number: string): Promise<boolean> {
    const r = await this.db.kysely.deleteFrom('extensions_disabled').where('number', '=', number).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

/** a row of extensions_disabled as the repository answers it */
function setAsideRecord(r: { number: string; record_json: string; disabled_at: number | string | bigint }): {
  number: string;
  record: Record<string, unknown>;
  disabledAt: number;
} {
  return { number: r.number, record: JSON.parse(r.record_json) as Record<string, unknown>, disabledAt: Number(r.disabled_at) };
}
