// Data sources and named queries for DBLookup(). The administrator writes
// the SQL in the YAML with '?' placeholders; the dialplan names the query and
// passes arguments, which are only ever bound as parameters. Every
// connection is read-only: SQLite is opened readonly with query_only on (and
// a query that could write is refused at load), PostgreSQL and MariaDB/MySQL
// run each query inside a READ ONLY transaction. A failure becomes an
// ERROR status for the call, never an exception.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { DialplanDatasourceConfig, DialplanQueryConfig, SourcePos } from '../config/config-types.js';
import { ConfigError } from '../config/config-error.js';

export interface DataSourcesConfig {
  datasources: Record<string, DialplanDatasourceConfig>;
  queries: Record<string, DialplanQueryConfig>;
  /** a look-up that takes longer counts as ERROR */
  timeoutMs: number;
}

export type LookupResult = { status: 'FOUND'; columns: string[]; values: string[] } | { status: 'NOTFOUND' } | { status: 'ERROR'; error: string };

/** '?' → $1, $2 ... for PostgreSQL (same scan as countPlaceholders). */
export function toDollarParams(sql: string): string {
  let n = 0;
  let q: string | null = null;
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (q) {
      if (c === q) q = null;
    } else if (c === "'" || c === '"') q = c;
    else if (c === '-' && sql[i + 1] === '-') {
      // a comment runs to the end of the line: copy it untouched
      const nl = sql.indexOf('\n', i);
      const end = nl < 0 ? sql.length : nl;
      out += sql.slice(i, end);
      i = end - 1;
      continue;
    } else if (c === '?') {
      out += `$${++n}`;
      continue;
    }
    out += c;
  }
  return out;
}

interface Backend {
  run(sql: string, args: string[]): Promise<{ columns: string[]; row: unknown[] | null }>;
  close(): Promise<void>;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

class SqliteBackend implements Backend {
  private readonly db: BetterSqlite3.Database;
  private readonly stmts = new Map<string, BetterSqlite3.Statement>();
  constructor(path: string) {
    this.db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    this.db.pragma('query_only = ON');
    this.db.pragma('busy_timeout = 2000');
  }
  /** Prepares at load so a typo or a writing statement is a configuration error, not a call-time one. */
  prepare(sql: string): string | null {
    try {
      const st = this.db.prepare(sql);
      if (!st.reader || !st.readonly) return 'the query must be a read-only SELECT that returns rows';
      this.stmts.set(sql, st.raw(true));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }
  async run(sql: string, args: string[]): Promise<{ columns: string[]; row: unknown[] | null }> {
    let st = this.stmts.get(sql);
    if (!st) {
      const err = this.prepare(sql);
      if (err) throw new Error(err);
      st = this.stmts.get(sql)!;
    }
    const row = st.get(...args) as unknown[] | undefined;
    return { columns: st.columns().map((c) => c.name), row: row ?? null };
  }
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

class PostgresBackend implements Backend {
  private pool: import('pg').Pool | null = null;
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}
  async run(sql: string, args: string[]): Promise<{ columns: string[]; row: unknown[] | null }> {
    if (!this.pool) {
      const { default: pg } = await import('pg');
      this.pool = new pg.Pool({ connectionString: this.url, max: 4, connectionTimeoutMillis: this.timeoutMs });
      this.pool.on('error', () => {});
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(this.timeoutMs))}`);
      const r = await client.query({ text: toDollarParams(sql), values: args, rowMode: 'array' });
      await client.query('COMMIT');
      return { columns: r.fields.map((f) => f.name), row: (r.rows[0] as unknown[] | undefined) ?? null };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }
  async close(): Promise<void> {
    await this.pool?.end().catch(() => {});
  }
}

class MysqlBackend implements Backend {
  private pool: import('mysql2/promise').Pool | null = null;
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}
  async run(sql: string, args: string[]): Promise<{ columns: string[]; row: unknown[] | null }> {
    if (!this.pool) {
      const { createPool } = await import('mysql2/promise');
      // multipleStatements stays off (the default): one statement per query
      this.pool = createPool({ uri: this.url.replace(/^mariadb:/, 'mysql:'), connectionLimit: 4, connectTimeout: this.timeoutMs, rowsAsArray: true });
    }
    const conn = await this.pool.getConnection();
    try {
      await conn.query('START TRANSACTION READ ONLY');
      const [rows, fields] = await conn.execute({ sql, values: args, timeout: this.timeoutMs, rowsAsArray: true });
      await conn.query('COMMIT');
      const list = rows as unknown[][];
      return { columns: (fields ?? []).map((f) => f.name), row: list[0] ?? null };
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      conn.release();
    }
  }
  async close(): Promise<void> {
    await this.pool?.end().catch(() => {});
  }
}

/**
 * First start of a fresh install: build the SQLite file from the
 * administrator's script (create_from), in one transaction, with a writable
 * connection that is closed before the read-only one opens. An existing
 * file is never touched.
 */
function createSqlite(path: string, script: string): void {
  const sqlText = readFileSync(script, 'utf8');
  mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  try {
    db.exec('BEGIN');
    db.exec(sqlText);
    db.exec('COMMIT');
    db.close();
  } catch (e) {
    db.close();
    rmSync(path, { force: true });
    throw e;
  }
}

export class DataSources {
  private readonly backends = new Map<string, Backend>();

  private constructor(private readonly cfg: DataSourcesConfig) {}

  /**
   * Opens the SQLite sources and prepares their queries (configuration errors
   * at load with the YAML position); network sources connect on first use so
   * a database that is down does not stop the PBX from starting.
   */
  static open(cfg: DataSourcesConfig): DataSources {
    const ds = new DataSources(cfg);
    const issues: Array<{ at: SourcePos; message: string }> = [];
    for (const [name, src] of Object.entries(cfg.datasources)) {
      if (src.driver === 'sqlite') {
        try {
          if (src.createFrom && !existsSync(src.path)) createSqlite(src.path, src.createFrom);
        } catch (e) {
          issues.push({
            at: src.at,
            message: `dialplan.datasources.${name}: cannot create ${src.path} from ${src.createFrom} (${(e as Error).message}); fix the script or create the database yourself`,
          });
          continue;
        }
        try {
          ds.backends.set(name, new SqliteBackend(src.path));
        } catch (e) {
          issues.push({
            at: src.at,
            message: `dialplan.datasources.${name}: cannot open SQLite database ${src.path} read-only (${(e as Error).message}); expected an existing database file`,
          });
        }
      } else if (src.driver === 'postgres') ds.backends.set(name, new PostgresBackend(src.url, cfg.timeoutMs));
      else ds.backends.set(name, new MysqlBackend(src.url, cfg.timeoutMs));
    }
    for (const [name, q] of Object.entries(cfg.queries)) {
      const b = ds.backends.get(q.datasource);
      if (b instanceof SqliteBackend) {
        const err = b.prepare(q.sql);
        if (err) issues.push({ at: q.at, message: `dialplan.queries.${name}: ${err}` });
      }
    }
    if (issues.length > 0) {
      void ds.close();
      throw new ConfigError(issues.map((i) => ({ ...i.at, message: i.message })));
    }
    return ds;
  }

  async lookup(query: string, args: string[]): Promise<LookupResult> {
    const q = this.cfg.queries[query];
    if (!q) return { status: 'ERROR', error: `no query named ${query} in dialplan.queries` };
    if (args.length !== q.params) return { status: 'ERROR', error: `query ${query} takes ${q.params} argument(s), got ${args.length}` };
    const b = this.backends.get(q.datasource);
    if (!b) return { status: 'ERROR', error: `data source ${q.datasource} is not available` };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${this.cfg.timeoutMs} ms`)), this.cfg.timeoutMs);
      });
      const r = await Promise.race([b.run(q.sql, args), timeout]);
      if (!r.row) return { status: 'NOTFOUND' };
      return { status: 'FOUND', columns: r.columns, values: r.row.map(text) };
    } catch (e) {
      return { status: 'ERROR', error: (e as Error).message.split('\n')[0]!.slice(0, 200) };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    for (const b of this.backends.values()) await b.close();
    this.backends.clear();
  }
}
