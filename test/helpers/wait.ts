// Waiting in interop tests for something a peer does in its own time.

/** polls `fn` every 100 ms until it gives a value (not undefined, not false); throws naming `what` after `timeoutMs` */
export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Polls `fn` every 100 ms until it gives a value (not undefined, not false)
 * or `timeoutMs` has passed, and returns its last answer either way: the
 * test's own assertions that follow then say what is missing. For what a
 * peer or the server does in its own time after the caller is done (a CDR
 * row, a log line): a fixed sleep loses that race on a loaded machine.
 */
export async function pollUntil<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
