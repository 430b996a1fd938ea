// Loopback source addresses chosen by the worker that owns their
// out-of-dialog traffic (src/transport/worker-route.ts: hash of the address
// modulo the worker count), so a test can send through a given worker.
import { addressWorker } from '../../src/transport/worker-route.js';

/** the first `n` addresses 127.0.0.FROM… whose traffic worker `w` of `count` owns */
export function workerAddresses(w: number, n: number, count = 2, from = 10): string[] {
  const out: string[] = [];
  for (let i = from; out.length < n && i < 250; i++) if (addressWorker(`127.0.0.${i}`, count) === w) out.push(`127.0.0.${i}`);
  return out;
}
