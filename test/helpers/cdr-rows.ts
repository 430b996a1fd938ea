// The CDR rows of a test's Palisade (the SQLite file in its run directory),
// in the order they were written, once it holds at least `count`: a row is
// written as a call ends, a moment after the phones see the end. After `ms`
// the rows there are are returned, and the test's assertions say what is
// missing.
import { join } from 'node:path';
import Database from 'better-sqlite3';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitCdrRows<T = Record<string, unknown>>(pal: { dir: string }, count: number, ms = 10_000): Promise<T[]> {
  const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const rows = db.prepare('SELECT * FROM cdr ORDER BY id').all() as T[];
      if (rows.length >= count || Date.now() > deadline) return rows;
      await sleep(100);
    }
  } finally {
    db.close();
  }
}
