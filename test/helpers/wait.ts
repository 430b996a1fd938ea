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
