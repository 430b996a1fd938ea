// The three storage drivers every repository test runs against: SQLite in a
// temporary file, and the PostgreSQL and MariaDB servers of this machine
// (the install script starts them). The external servers are required: a
// test whose server does not answer fails, unless PALISADE_SKIP_EXTERNAL_DB=1
// skips them. Each config() is fresh: its own SQLite file, or its own table
// prefix on the shared server, so tests and parallel runs never meet.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageConfig } from '../../src/config/config-types.js';
import { openDatabase, type Database } from '../../src/storage/database.js';

export interface StorageBackend {
  name: 'sqlite' | 'postgres' | 'mariadb';
  /** for node:test's describe(): the reason it is skipped, or false */
  skip: string | false;
  /** a fresh configuration for this driver */
  config(): Promise<StorageConfig>;
  /** a database opened on a fresh configuration */
  open(): Promise<Database>;
}

const PG_URLS = process.env.PALISADE_TEST_PG_URL ? [process.env.PALISADE_TEST_PG_URL] : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];
const MYSQL_URL = process.env.PALISADE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** the PostgreSQL URL that answered first (the machine's trust login is postgres or root) */
let pgUrl: Promise<string> | null = null;
function reachablePg(): Promise<string> {
  pgUrl ??= (async () => {
    let last: unknown;
    for (const url of PG_URLS) {
      try {
        const db = await openDatabase({ driver: 'postgres', url, tablePrefix: 'probe_' });
        await db.close();
        return url;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  })();
  return pgUrl;
}

/**
 * The drivers for one test file; `tag` (a letter or two) starts its table
 * prefixes and names its temporary folder, removed after the file's tests.
 */
export function storageBackends(tag: string): StorageBackend[] {
  const tmp = mkdtempSync(join(tmpdir(), `pal${tag}-`));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const prefix = (): string => `${tag}${process.pid}_${Math.random().toString(36).slice(2, 7)}_`;
  const skip = process.env.PALISADE_SKIP_EXTERNAL_DB === '1' ? 'PALISADE_SKIP_EXTERNAL_DB=1' : false;
  const make = (name: StorageBackend['name'], external: boolean, config: () => Promise<StorageConfig>): StorageBackend => ({
    name,
    skip: external ? skip : false,
    config,
    open: async () => openDatabase(await config()),
  });
  return [
    make('sqlite', false, async () => ({ driver: 'sqlite', path: join(tmp, `${prefix()}.db`), tablePrefix: '' })),
    make('postgres', true, async () => ({ driver: 'postgres', url: await reachablePg(), tablePrefix: prefix() })),
    make('mariadb', true, async () => ({ driver: 'mysql', url: MYSQL_URL, tablePrefix: prefix() })),
  ];
}
