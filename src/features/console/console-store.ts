// The console module's tables (its own version series, migrateModule
// 'console'): administrator accounts, API tokens (only a hash of each),
// the change log (written, never updated: no route edits it), extensions
// an administrator disabled (set aside until enabled), and settings such
// as the time of the last backup. Every query runs on SQLite, PostgreSQL
// and MariaDB.
import type { Kysely } from 'kysely';
import type { Database, ModuleMigration } from '../../storage/database.js';
import type { ApiRole } from '../../core/api-routes.js';

export interface AccountRow {
  name: string;
  role: ApiRole;
  passwordHash: string;
  totpSecret: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface TokenRow {
  id: string;
  account: string;
  label: string;
  role: ApiRole;
  hash: string;
  createdAt: number;
  expiresAt: number;
}

export interface ChangeRow {
  id: number;
  at: number;
  actor: string;
  role: string;
  via: string;
  remote: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export type NewChange = Omit<ChangeRow, 'id' | 'at' | 'before' | 'after'> & { before?: unknown; after?: unknown };

export const CONSOLE_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    description: 'console accounts, API tokens, change log, disabled extensions, settings',
    tables: ['console_accounts', 'console_tokens', 'console_changes', 'console_disabled_extensions', 'console_settings'],
    async up(db, ctx) {
      await db.schema
        .createTable('console_accounts')
        .ifNotExists()
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('totp_secret', 'varchar(128)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('console_tokens')
        .ifNotExists()
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('account', 'varchar(64)', (c) => c.notNull())
        .addColumn('label', 'varchar(64)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      let changes = db.schema.createTable('console_changes').ifNotExists();
      if (ctx.driver === 'sqlite') changes = changes.addColumn('id', 'integer', (c) => c.primaryKey());
      else if (ctx.driver === 'postgres') changes = changes.addColumn('id', 'bigserial', (c) => c.primaryKey());
      else changes = changes.addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement());
      await changes
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(64)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('via', 'varchar(16)', (c) => c.notNull())
        .addColumn('remote', 'varchar(64)', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('target', 'varchar(255)', (c) => c.notNull())
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .execute();
      await db.schema
        .createTable('console_disabled_extensions')
        .ifNotExists()
        .addColumn('number', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('record_json', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('console_settings')
        .ifNotExists()
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 2,
    description: "disabled extensions move to the core's extensions_disabled (the directory of every worker and node knows them)",
    async up(db) {
      // the core's schema step 8 made extensions_disabled before any module starts. The old table stays,
      // empty: a backup made before this step restores its rows there with this step not yet recorded
      // (module_schema comes back as it was), so the next start moves them again and replaces what the
      // database held before the restore
      const rows = await db.selectFrom('console_disabled_extensions').selectAll().execute();
      await db.deleteFrom('extensions_disabled').execute();
      for (const r of rows) {
        await db.insertInto('extensions_disabled').values({ number: r.number, record_json: r.record_json, disabled_at: r.disabled_at }).execute();
      }
      await db.deleteFrom('console_disabled_extensions').execute();
    },
  },
];

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = (s: unknown): unknown => (typeof s === 'string' ? JSON.parse(s) : null);

export class ConsoleStore {
  // biome-ignore lint/suspicious/noExplicitAny: the module's tables are not in the core's Tables
  private readonly db: Kysely<any>;

  constructor(private readonly storage: Database) {
    // biome-ignore lint/suspicious/noExplicitAny: as above
    this.db = storage.kysely as unknown as Kysely<any>;
  }

  migrate(): Promise<number> {
    return this.storage.migrateModule('console', CONSOLE_MIGRATIONS);
  }

  // ---- accounts
  async accounts(): Promise<AccountRow[]> {
    const rows = await this.db.selectFrom('console_accounts').selectAll().orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      role: r.role,
      passwordHash: r.password_hash,
      totpSecret: r.totp_secret ?? null,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  async putAccount(a: Omit<AccountRow, 'createdAt' | 'updatedAt'>): Promise<void> {
    const now = Date.now();
    const exists = await this.db.selectFrom('console_accounts').select('name').where('name', '=', a.name).executeTakeFirst();
    if (exists) {
      await this.db
        .updateTable('console_accounts')
        .set({ role: a.role, password_hash: a.passwordHash, totp_secret: a.totpSecret, updated_at: now })
        .where('name', '=', a.name)
        .execute();
    } else {
      await this.db
        .insertInto('console_accounts')
        .values({ name: a.name, role: a.role, password_hash: a.passwordHash, totp_secret: a.totpSecret, created_at: now, updated_at: now })
        .execute();
    }
  }

  async deleteAccount(name: string): Promise<boolean> {
    await this.db.deleteFrom('console_tokens').where('account', '=', name).execute();
    const r = await this.db.deleteFrom('console_accounts').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- tokens
  async tokens(): Promise<TokenRow[]> {
    const rows = await this.db.selectFrom('console_tokens').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({
      id: r.id,
      account: r.account,
      label: r.label,
      role: r.role,
      hash: r.hash,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
    }));
  }

  async addToken(t: TokenRow): Promise<void> {
    await this.db
      .insertInto('console_tokens')
      .values({ id: t.id, account: t.account, label: t.label, role: t.role, hash: t.hash, created_at: t.createdAt, expires_at: t.expiresAt })
      .execute();
  }

  async deleteToken(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('console_tokens').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- change log: insert and read, nothing else
  async logChange(c: NewChange): Promise<void> {
    await this.db
      .insertInto('console_changes')
      .values({
        at: Date.now(),
        actor: c.actor.slice(0, 64),
        role: c.role.slice(0, 16),
        via: c.via.slice(0, 16),
        remote: c.remote.slice(0, 64),
        action: c.action.slice(0, 64),
        target: c.target.slice(0, 255),
        before_json: json(c.before),
        after_json: json(c.after),
      })
      .execute();
  }

  async changes(q: { limit: number; offset: number; actor?: string; action?: string; target?: string }): Promise<{ total: number; rows: ChangeRow[] }> {
    let base = this.db.selectFrom('console_changes');
    if (q.actor) base = base.where('actor', '=', q.actor);
    if (q.action) base = base.where('action', '=', q.action);
    if (q.target) base = base.where('target', '=', q.target);
    const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const rows = await base.selectAll().orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute();
    return {
      total: Number(total?.n ?? 0),
      rows: rows.map((r) => ({
        id: Number(r.id),
        at: Number(r.at),
        actor: r.actor,
        role: r.role,
        via: r.via,
        remote: r.remote,
        action: r.action,
        target: r.target,
        before: parse(r.before_json),
        after: parse(r.after_json),
      })),
    };
  }

  // ---- extensions set aside by "disable": the core's table (storage/extension-repo.ts), so every worker and node knows the numbers
  disabledExtensions(): Promise<Array<{ number: string; record: Record<string, unknown>; disabledAt: number }>> {
    return this.storage.extensions.disabled();
  }

  disabledExtension(number: string): Promise<{ number: string; record: Record<string, unknown>; disabledAt: number } | undefined> {
    return this.storage.extensions.disabledOne(number);
  }

  setDisabled(number: string, record: Record<string, unknown>): Promise<void> {
    return this.storage.extensions.setDisabled(number, record);
  }

  clearDisabled(number: string): Promise<boolean> {
    return this.storage.extensions.clearDisabled(number);
  }

  // ---- settings
  async setting(key: string): Promise<string | null> {
    const r = await this.db.selectFrom('console_settings').select('value').where('key', '=', key).executeTakeFirst();
    return r ? String(r.value) : null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.db.deleteFrom('console_settings').where('key', '=', key).execute();
    await this.db.insertInto('console_settings').values({ key, value }).execute();
  }
}
