// Table shapes (as Kysely sees them) and the ordered list of migrations.
// Times are epoch milliseconds in BIGINT columns on every driver: one
// representation, no time-zone conversions, cheap to index and compare.
// Booleans are SMALLINT 0/1 (SQLite has no boolean type).
import { sql, type ColumnType, type Kysely } from 'kysely';
import type { StorageDriver } from '../config/config-types.js';
import { CDR_FAR_END_COLUMNS, CDR_QUALITY_COLUMNS, cdrQualityColumnType, type CdrQualityRow } from './cdr-quality.js';

/** pg returns BIGINT as a string; repositories convert with Number(). */
export type Int8 = ColumnType<number | string, number, number>;

export interface ExtensionsTable {
  number: string;
  name: string;
  ha1_md5: string | null;
  ha1_sha256: string | null;
  realm: string;
  context: string;
  email: string | null;
  voicemail: number;
  /** the mailbox PIN an import set (clear, like voicemail.conf); null: none */
  voicemail_pin: string | null;
  direct_media: number;
  max_contacts: number;
  created_at: Int8;
  updated_at: Int8;
}

export interface LocationTable {
  aor: string;
  contact_uri: string;
  contact_header: string;
  expires_at: Int8;
  received: string;
  call_id: string;
  cseq: Int8;
  user_agent: string;
  q: number;
  instance_id: string | null;
  reg_id: number | null;
  updated_at: Int8;
  /** the Path header values of the REGISTER (RFC 3327), a JSON array; null without */
  path: string | null;
}

export interface CdrTable extends Partial<CdrQualityRow> {
  id: ColumnType<number | string, never, never>;
  accountcode: string;
  src: string;
  dst: string;
  dcontext: string;
  clid: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  start: Int8;
  answer: ColumnType<number | string | null, number | null, number | null>;
  end: Int8;
  duration: number;
  billsec: number;
  disposition: string;
  amaflags: string;
  uniqueid: string;
  userfield: string;
  source_ip: string;
  security_verdict: string;
}

/** reputation of an address (ip:...) or user (user:...): aged good/bad evidence (src/security/reputation) */
export interface ReputationTable {
  subject: string;
  good: number;
  bad: number;
  updated_at: Int8;
}

/** known fraud numbers (E.164 digit prefixes) imported with `palisade fraud import` */
export interface FraudNumbersTable {
  prefix: string;
  source: string;
  added_at: Int8;
}

/**
 * a principal's learned calling profile (src/security/fraud/calling-profile.ts):
 * hours are 24 comma-separated counts, dests and recent JSON arrays
 */
export interface CallingProfilesTable {
  principal: string;
  calls: number;
  first_at: Int8;
  hours: string;
  dests: string;
  recent: string;
  len_n: number;
  len_mean: number;
  len_m2: number;
  updated_at: Int8;
}

/**
 * an extension set aside ("disabled" through the API or a site file): its
 * whole record as JSON, out of `extensions`, so it can neither register nor
 * call; the directory still knows the number is taken (its learned calling
 * profile is kept for when it comes back)
 */
export interface ExtensionsDisabledTable {
  number: string;
  record_json: string;
  disabled_at: Int8;
}

export interface SchemaVersionTable {
  version: number;
  applied_at: Int8;
}

export interface Tables {
  extensions: ExtensionsTable;
  location: LocationTable;
  cdr: CdrTable;
  schema_version: SchemaVersionTable;
  reputation: ReputationTable;
  fraud_numbers: FraudNumbersTable;
  calling_profiles: CallingProfilesTable;
  extensions_disabled: ExtensionsDisabledTable;
}

export const TABLE_NAMES = ['extensions', 'location', 'cdr', 'schema_version', 'reputation', 'fraud_numbers', 'calling_profiles', 'extensions_disabled'] as const;

export interface MigrationContext {
  driver: StorageDriver;
  prefix: string;
}

export interface Migration {
  version: number;
  description: string;
  up(db: Kysely<Tables>, ctx: MigrationContext): Promise<void>;
}

/**
 * ALTER TABLE ... ADD COLUMN. PostgreSQL and SQLite roll a failed migration's
 * DDL back; MySQL commits each statement, so a column a half-finished run
 * already added is taken as done (ER_DUP_FIELDNAME) instead of failing forever.
 */
async function addColumn(
  db: Kysely<Tables>,
  ctx: MigrationContext,
  table: keyof Tables,
  column: string,
  type: 'varchar(16)' | 'varchar(64)' | 'integer' | 'double precision' | 'text',
): Promise<void> {
  try {
    await db.schema.alterTable(table).addColumn(column, type).execute();
  } catch (err) {
    if (ctx.driver === 'mysql' && (err as { errno?: number }).errno === 1060) return;
    throw err;
  }
}

async function createIndex(db: Kysely<Tables>, ctx: MigrationContext, name: string, table: keyof Tables, cols: string[], unique = false): Promise<void> {
  // Index names are per schema in PostgreSQL, so they carry the prefix too.
  let b = db.schema
    .createIndex(ctx.prefix + name)
    .on(table)
    .columns(cols);
  if (unique) b = b.unique();
  // MySQL lacks CREATE INDEX IF NOT EXISTS; the schema_version row guards it.
  if (ctx.driver !== 'mysql') b = b.ifNotExists();
  await b.execute();
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'extensions, location, cdr',
    async up(db, ctx) {
      await db.schema
        .createTable('extensions')
        .ifNotExists()
        .addColumn('number', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('ha1_md5', 'varchar(32)')
        .addColumn('ha1_sha256', 'varchar(64)')
        .addColumn('realm', 'varchar(255)', (c) => c.notNull())
        .addColumn('context', 'varchar(80)', (c) => c.notNull())
        .addColumn('email', 'varchar(255)')
        .addColumn('voicemail', 'smallint', (c) => c.notNull().defaultTo(0))
        .addColumn('direct_media', 'smallint', (c) => c.notNull().defaultTo(0))
        .addColumn('max_contacts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('location')
        .ifNotExists()
        .addColumn('aor', 'varchar(32)', (c) => c.notNull())
        .addColumn('contact_uri', 'varchar(512)', (c) => c.notNull())
        .addColumn('contact_header', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('received', 'varchar(128)', (c) => c.notNull())
        .addColumn('call_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('cseq', 'bigint', (c) => c.notNull())
        .addColumn('user_agent', 'varchar(255)', (c) => c.notNull())
        .addColumn('q', 'double precision', (c) => c.notNull())
        .addColumn('instance_id', 'varchar(255)')
        .addColumn('reg_id', 'integer')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${ctx.prefix}location_pk`, ['aor', 'contact_uri'])
        .execute();
      await createIndex(db, ctx, 'location_expires_at', 'location', ['expires_at']);

      let cdr = db.schema.createTable('cdr').ifNotExists();
      // SQLite: INTEGER PRIMARY KEY is the rowid (no separate index to maintain).
      if (ctx.driver === 'sqlite') cdr = cdr.addColumn('id', 'integer', (c) => c.primaryKey());
      else if (ctx.driver === 'postgres') cdr = cdr.addColumn('id', 'bigserial', (c) => c.primaryKey());
      else cdr = cdr.addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement());
      await cdr
        .addColumn('accountcode', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('src', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('dst', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('dcontext', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('clid', 'varchar(160)', (c) => c.notNull().defaultTo(''))
        .addColumn('channel', 'varchar(160)', (c) => c.notNull().defaultTo(''))
        .addColumn('dstchannel', 'varchar(160)', (c) => c.notNull().defaultTo(''))
        .addColumn('lastapp', 'varchar(80)', (c) => c.notNull().defaultTo(''))
        .addColumn('lastdata', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('start', 'bigint', (c) => c.notNull())
        .addColumn('answer', 'bigint')
        .addColumn('end', 'bigint', (c) => c.notNull())
        .addColumn('duration', 'integer', (c) => c.notNull())
        .addColumn('billsec', 'integer', (c) => c.notNull())
        .addColumn('disposition', 'varchar(16)', (c) => c.notNull())
        .addColumn('amaflags', 'varchar(16)', (c) => c.notNull().defaultTo('DOCUMENTATION'))
        .addColumn('uniqueid', 'varchar(150)', (c) => c.notNull())
        .addColumn('userfield', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('source_ip', 'varchar(64)', (c) => c.notNull().defaultTo(''))
        .addColumn('security_verdict', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .execute();
      await createIndex(db, ctx, 'cdr_uniqueid', 'cdr', ['uniqueid'], true);
      await createIndex(db, ctx, 'cdr_start', 'cdr', ['start']);
    },
  },
  {
    version: 2,
    description: 'reputation scores, known fraud numbers',
    async up(db) {
      await db.schema
        .createTable('reputation')
        .ifNotExists()
        .addColumn('subject', 'varchar(160)', (c) => c.primaryKey())
        .addColumn('good', 'double precision', (c) => c.notNull())
        .addColumn('bad', 'double precision', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('fraud_numbers')
        .ifNotExists()
        .addColumn('prefix', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('source', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 3,
    description: 'mailbox PINs of imported extensions',
    async up(db, ctx) {
      await addColumn(db, ctx, 'extensions', 'voicemail_pin', 'varchar(16)');
    },
  },
  {
    version: 4,
    description: 'learned calling profiles',
    async up(db, ctx) {
      // up to 5,000 destinations: more than MySQL's TEXT (64 KB) may hold
      const list = ctx.driver === 'mysql' ? sql`mediumtext` : 'text';
      await db.schema
        .createTable('calling_profiles')
        .ifNotExists()
        .addColumn('principal', 'varchar(160)', (c) => c.primaryKey())
        .addColumn('calls', 'integer', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('hours', 'varchar(300)', (c) => c.notNull())
        .addColumn('dests', list, (c) => c.notNull())
        .addColumn('recent', list, (c) => c.notNull())
        .addColumn('len_n', 'integer', (c) => c.notNull())
        .addColumn('len_mean', 'double precision', (c) => c.notNull())
        .addColumn('len_m2', 'double precision', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 5,
    description: 'media quality of each call in the CDR (src/storage/cdr-quality.ts)',
    async up(db, ctx) {
      for (const c of CDR_QUALITY_COLUMNS) await addColumn(db, ctx, 'cdr', c, cdrQualityColumnType(c));
    },
  },
  {
    version: 6,
    description: 'what each party reported in RTCP and RTCP XR about the media it received (src/storage/cdr-quality.ts)',
    async up(db, ctx) {
      for (const c of CDR_FAR_END_COLUMNS) await addColumn(db, ctx, 'cdr', c, cdrQualityColumnType(c));
    },
  },
  {
    version: 7,
    description: 'the Path of each registered contact (RFC 3327: requests to the phone go through the proxy that holds its connection)',
    async up(db, ctx) {
      await addColumn(db, ctx, 'location', 'path', 'text');
    },
  },
  {
    version: 8,
    description: 'extensions set aside (disabled): the directory knows their numbers in every worker and node',
    async up(db) {
      // the console module kept these in its own table until now; its next schema step moves them here
      await db.schema
        .createTable('extensions_disabled')
        .ifNotExists()
        .addColumn('number', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('record_json', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

/** Quote an identifier for raw SQL on the given driver. */
export function quoteIdent(driver: StorageDriver, name: string): string {
  return driver === 'mysql' ? '`' + name.replace(/`/g, '``') + '`' : '"' + name.replace(/"/g, '""') + '"';
}
