// `palisade backup` / `palisade restore` (docs/operations.md, Backups): the
// configuration file, the database, the dialplan files, voicemail.conf, the
// TLS certificate and key, the voicemail spool, the administrator's prompts
// and the IDS state, in one .tar.gz with a manifest of where each came from.
// The SQLite database is copied with SQLite's online backup (a consistent
// snapshot while calls are written); PostgreSQL and MariaDB tables are read
// in one REPEATABLE READ transaction into JSON. Restore runs with the server
// stopped and puts each part back where the manifest says.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { LoadedConfig } from '../../security/config/load-config.js';
import type { Database } from '../../storage/database.js';

export interface BackupManifest {
  version: 1;
  createdAt: number;
  driver: string;
  /** table name → rows, for PostgreSQL and MariaDB (database.json) */
  files: Array<{ role: string; path: string; archived: string }>;
  dirs: Array<{ role: string; path: string; archived: string }>;
}

export class BackupError extends Error {}

function tar(args: string[]): void {
  const r = spawnSync('tar', args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new BackupError(`tar ${args[0]} failed: ${r.stderr || r.error?.message}`);
}

/** what a backup holds besides the database: [role, path, is a directory] */
function parts(cfg: LoadedConfig): Array<[string, string, boolean]> {
  const out: Array<[string, string, boolean]> = [['config', resolve(cfg.configFile), false]];
  if (cfg.dialplan.file) {
    const d = dirname(resolve(cfg.dialplan.file));
    for (const f of readdirSync(d).filter((x) => x.endsWith('.conf'))) out.push(['dialplan', join(d, f), false]);
  }
  if (cfg.voicemail.file) out.push(['voicemail.conf', resolve(cfg.voicemail.file), false]);
  if (cfg.tls) out.push(['tls-cert', cfg.tls.certFile, false], ['tls-key', cfg.tls.keyFile, false]);
  out.push(['voicemail', cfg.voicemail.spoolDir, true]);
  if (cfg.prompts.customDir) out.push(['prompts', cfg.prompts.customDir, true]);
  if (cfg.security.ids.stateFile) out.push(['ids-state', cfg.security.ids.stateFile, false]);
  // the same file may be named twice (voicemail.conf beside extensions.conf): once is enough
  const seen = new Set<string>();
  return out.filter(([, p]) => {
    if (!existsSync(p) || seen.has(p)) return false;
    seen.add(p);
    return true;
  });
}

async function dumpTables(db: Database): Promise<Record<string, unknown[]>> {
  // biome-ignore lint/suspicious/noExplicitAny: every table, whoever owns it
  const k = db.kysely as unknown as Kysely<any>;
  const tables = (await k.introspection.getTables()).map((t) => t.name).filter((n) => n.startsWith(db.prefix));
  const out: Record<string, unknown[]> = {};
  await k.transaction().execute(async (tx) => {
    if (db.driver === 'postgres') await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`.execute(tx);
    for (const t of tables) out[t] = await tx.withoutPlugins().selectFrom(t).selectAll().execute();
  });
  return out;
}

/** writes the archive; the database is copied while the server may be running */
export async function makeBackup(cfg: LoadedConfig, db: Database, out: string): Promise<{ bytes: number; parts: number }> {
  const stage = mkdtempSync(join(tmpdir(), 'palisade-backup-'));
  try {
    const manifest: BackupManifest = { version: 1, createdAt: Date.now(), driver: db.driver, files: [], dirs: [] };
    if (cfg.storage.driver === 'sqlite') {
      // SQLite's online backup: a consistent copy while the server writes (WAL)
      const src = new BetterSqlite3(cfg.storage.path, { readonly: true, fileMustExist: true });
      try {
        await src.backup(join(stage, 'database.sqlite'));
      } finally {
        src.close();
      }
      manifest.files.push({ role: 'database', path: resolve(cfg.storage.path), archived: 'database.sqlite' });
    } else {
      writeFileSync(join(stage, 'database.json'), JSON.stringify(await dumpTables(db)));
    }
    let n = 0;
    for (const [role, path, isDir] of parts(cfg)) {
      const archived = `parts/${n++}`;
      mkdirSync(join(stage, 'parts'), { recursive: true });
      if (isDir) {
        cpSync(path, join(stage, archived), { recursive: true });
        manifest.dirs.push({ role, path, archived });
      } else {
        copyFileSync(path, join(stage, archived));
        manifest.files.push({ role, path, archived });
      }
    }
    writeFileSync(join(stage, 'manifest.json'), JSON.stringify(manifest, null, 2));
    mkdirSync(dirname(resolve(out)), { recursive: true });
    tar(['-czf', resolve(out), '-C', stage, '.']);
    return { bytes: statSync(out).size, parts: manifest.files.length + manifest.dirs.length };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** puts a backup back: the server must be stopped (the caller checks) */
export async function restoreBackup(file: string, cfg: LoadedConfig, openDb: () => Promise<Database>): Promise<BackupManifest> {
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`);
  const stage = mkdtempSync(join(tmpdir(), 'palisade-restore-'));
  try {
    tar(['-xzf', resolve(file), '-C', stage]);
    const manifest = JSON.parse(readFileSync(join(stage, 'manifest.json'), 'utf8')) as BackupManifest;
    if (manifest.version !== 1) throw new BackupError(`${file}: not a Palisade backup (manifest version ${String(manifest.version)})`);
    if ((manifest.driver === 'sqlite') !== (cfg.storage.driver === 'sqlite')) {
      throw new BackupError(`${file} holds a ${manifest.driver} database; this configuration uses ${cfg.storage.driver}`);
    }
    for (const f of manifest.files) {
      if (f.role === 'database' && cfg.storage.driver === 'sqlite') {
        const target = resolve(cfg.storage.path);
        for (const ext of ['-wal', '-shm']) rmSync(target + ext, { force: true });
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(join(stage, f.archived), target);
        continue;
      }
      mkdirSync(dirname(f.path), { recursive: true });
      copyFileSync(join(stage, f.archived), f.path);
    }
    for (const d of manifest.dirs) {
      rmSync(d.path, { recursive: true, force: true });
      cpSync(join(stage, d.archived), d.path, { recursive: true });
    }
    if (cfg.storage.driver !== 'sqlite') {
      const tables = JSON.parse(readFileSync(join(stage, 'database.json'), 'utf8')) as Record<string, Array<Record<string, unknown>>>;
      const db = await openDb();
      try {
        // biome-ignore lint/suspicious/noExplicitAny: every table, whoever owns it
        const k = (db.kysely as unknown as Kysely<any>).withoutPlugins();
        await k.transaction().execute(async (tx) => {
          for (const [t, rows] of Object.entries(tables)) {
            await tx.deleteFrom(t).execute();
            for (let i = 0; i < rows.length; i += 500)
              await tx
                .insertInto(t)
                .values(rows.slice(i, i + 500))
                .execute();
          }
        });
      } finally {
        await db.close();
      }
    }
    return manifest;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
