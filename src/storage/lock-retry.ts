// Several nodes write the shared tables of a cluster at once. A write that
// takes row locks in one order (callers sort their rows by key) cannot
// deadlock with another such write, but one that still loses a deadlock or
// a serialization conflict was rolled back whole by the server and is
// simply tried again.

/** how often a write that lost a lock conflict is tried in all */
export const LOCK_TRIES = 4;

/** PostgreSQL deadlock_detected / serialization_failure; MySQL and MariaDB ER_LOCK_DEADLOCK / ER_LOCK_WAIT_TIMEOUT */
export function isLockConflict(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return e.code === '40P01' || e.code === '40001' || e.errno === 1213 || e.errno === 1205;
}

/** runs `write` (a whole transaction or one statement) again after a short random wait while it loses a lock conflict */
export async function withLockRetry<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= LOCK_TRIES || !isLockConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }
}

/** a comparator of rows by their key, the order every writer takes its locks in */
export function byKey<R>(key: (r: R) => string): (a: R, b: R) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
