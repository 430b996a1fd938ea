// One handle on the configured database: a Kysely instance for queries and
// migrations, the raw better-sqlite3 connection for SQLite hot paths, and the
// three repositories. Storage never imports SIP code.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { StorageConfig, StorageDriver } from '../config/config-types.js';
import { MIGRATIONS, TABLE_NAMES, type Tables } from './schema.js';
import { TablePrefixPlugin } from './table-prefix-plugin.js';
import { ExtensionRepo } from './extension-repo.js';
import { LocationRepo } from './location-repo.js';
import { CdrRepo } from './cdr-repo.js';
import { PalisadeError } from '../core/errors.js';

/**
 * A module's own schema step. Modules (trunks, queues, messaging, the
 * console...) own their tables: each keeps its own version series in
 * `module_schema` under its name, so two modules never compete for a
 * version number and the core's MIGRATIONS list never names a feature.
 */
export interface ModuleMigration {
  version: number;
  description: string;
  /** the tables this step creates (dropped by dropTables) */
  tables?: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: a module's tables are its own; it types its queries itself
  up(db: Kysely<any>, ctx: { driver: StorageDriver; prefix: string }): Promise<void>;
}

export class StorageError extends PalisadeError {
  declare readonly code: 'PAL_ERR_STORAGE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PAL_ERR_STORAGE', message, options);
    this.name = 'StorageError';
  }
}

export class Database {
  private extRepo: ExtensionRepo | undefined;
  private locRepo: LocationRepo | undefined;
  private cdrRepo: CdrRepo | undefined;
  private closed = false;
  private readonly moduleTables = new Set<string>();

  constructor(
    readonly driver: StorageDriver,
    readonly kysely: Kysely<Tables>,
    /** the raw connection (SQLite only): synchronous prepared statements for hot paths */
    readonly sqlite: BetterSqlite3.Database | null,
    readonly prefix: string,
  ) {}

  /** A table's real name (with prefix), for raw SQL. */
  table(name: (typeof TABLE_NAMES)[number]): string {
    return this.prefix + name;
  }

  /** Creates or upgrades the tables; idempotent. Returns the schema version now in place. */
  async migrate(): Promise<number> {
    const db = this.kysely;
    await db.schema
      .createTable('schema_version')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    const row = await db
      .selectFrom('schema_version')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    let current = Number(row?.v ?? 0);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      const ctx = { driver: this.driver, prefix: this.prefix };
      // PostgreSQL and SQLite roll DDL back with the transaction; MySQL
      // commits DDL implicitly, which is why every step is IF NOT EXISTS.
      await db.transaction().execute(async (tx) => {
        await m.up(tx, ctx);
        await tx.insertInto('schema_version').values({ version: m.version, applied_at: Date.now() }).execute();
      });
      current = m.version;
    }
    return current;
  }

  /**
   * Creates or upgrades one module's tables; idempotent. Returns the
   * module's schema version now in place. A module calls this in start().
   */
  async migrateModule(module: string, migrations: readonly ModuleMigration[]): Promise<number> {
    // biome-ignore lint/suspicious/noExplicitAny: module_schema is not in the core's Tables
    const db = this.kysely as unknown as Kysely<any>;
    await db.schema
      .createTable('module_schema')
      .ifNotExists()
      .addColumn('module', 'varchar(64)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${this.prefix}module_schema_pk`, ['module', 'version'])
      .execute();
    const row = await db
      .selectFrom('module_schema')
      .where('module', '=', module)
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    let current = Number(row?.v ?? 0);
    const ctx = { driver: this.driver, prefix: this.prefix };
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      for (const t of m.tables ?? []) this.moduleTables.add(t);
      if (m.version <= current) continue;
      await db.transaction().execute(async (tx) => {
        await m.up(tx, ctx);
        await tx.insertInto('module_schema').values({ module, version: m.version, applied_at: Date.now() }).execute();
      });
      current = m.version;
    }
    return current;
  }

  get extensions(): ExtensionRepo {
    return (this.extRepo ??= new ExtensionRepo(this));
  }

  get location(): LocationRepo {
    return (this.locRepo ??= new LocationRepo(this));
  }

  get cdr(): CdrRepo {
    return (this.cdrRepo ??= new CdrRepo(this));
  }

  /** Flushes queued writes (CDR batches, coalesced bindings), then closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.locRepo?.close();
    await this.cdrRepo?.close();
    await this.kysely.destroy();
    if (this.sqlite?.open) this.sqlite.close();
  }

  /** Drops every Palisade table under this prefix (tests, uninstall). */
  async dropTables(): Promise<void> {
    for (const t of TABLE_NAMES) await this.kysely.schema.dropTable(t).ifExists().execute();
    for (const t of this.moduleTables) await this.kysely.schema.dropTable(t).ifExists().execute();
    await this.kysely.schema.dropTable('module_schema').ifExists().execute();
  }
}

/**
 * Opens the configured database and checks it answers. SQLite runs in WAL
 * mode with synchronous=NORMAL: a committed transaction survives a crash or
 * kill -9 of the process (only a power loss may take the last ones back).
 */
export async function openDatabase(cfg: StorageConfig): Promise<Database> {
  const plugins = cfg.tablePrefix ? [new TablePrefixPlugin(cfg.tablePrefix)] : [];
  if (cfg.driver === 'sqlite') {
    if (cfg.path !== ':memory:') mkdirSync(dirname(cfg.path), { recursive: true });
    let raw: BetterSqlite3.Database;
    try {
      raw = new BetterSqlite3(cfg.path);
    } catch (err) {
      throw new StorageError(`cannot open SQLite database ${cfg.path}: ${(err as Error).message}`, { cause: err });
    }
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 5000');
    raw.pragma('foreign_keys = ON');
    const kysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }), plugins });
    return new Database('sqlite', kysely, raw, cfg.tablePrefix);
  }

  let kysely: Kysely<Tables>;
  // The network drivers load only when configured: the SQLite default stays ~20 MB lighter.
  if (cfg.driver === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: cfg.url, max: 10, connectionTimeoutMillis: 5000 });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    kysely = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }), plugins });
  } else {
    const { createPool } = await import('mysql2');
    const pool = createPool({
      uri: cfg.url.replace(/^mariadb:/, 'mysql:'),
      connectionLimit: 10,
      connectTimeout: 5000,
      // BIGINT epoch ms fit a JS number; no DATE columns to convert.
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    kysely = new Kysely<Tables>({ dialect: new MysqlDialect({ pool }), plugins });
  }
  try {
    await sql`select 1`.execute(kysely);
  } catch (err) {
    await kysely.destroy().catch(() => {});
    const where = redactUrl(cfg.url);
    throw new StorageError(`cannot connect to ${cfg.driver} at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return new Database(cfg.driver, kysely, null, cfg.tablePrefix);
}

/** The composition root's entry point: open, then bring the schema up to date. */
export async function openStorage(cfg: StorageConfig): Promise<Database> {
  const db = await openDatabase(cfg);
  try {
    await db.migrate();
  } catch (err) {
    await db.close().catch(() => {});
    throw new StorageError(`cannot migrate the ${cfg.driver} database: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
