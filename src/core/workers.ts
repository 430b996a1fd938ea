// Several SIP/media worker processes under one `palisade start` (sip.workers,
// docs/operations.md "One machine, every core"). The primary process tells
// each worker its index in the environment; a worker marks what it generates
// (tags, Via branches) with that index, so a packet that answers or continues
// something it started can be routed back to it by a byte scan
// (src/transport/worker-route.ts). One worker, or no worker environment: no
// mark, exactly as before.

/** the environment variable the primary sets for each worker: "INDEX/COUNT" */
export const WORKER_ENV = 'PALISADE_WORKER';

export interface WorkerIdentity {
  index: number;
  count: number;
}

/** "1/2" → { index: 1, count: 2 }; anything else (unset, malformed) → null */
export function readWorkerEnv(v: string | undefined): WorkerIdentity | null {
  const m = v === undefined ? null : /^(\d{1,2})\/(\d{1,2})$/.exec(v);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index < count ? { index, count } : null;
}

/** this process as a worker (null: a single process) */
export const thisWorker: WorkerIdentity | null = readWorkerEnv(process.env[WORKER_ENV]);

/** the mark that starts a token worker `index` generates: "pw" INDEX "." (token characters, RFC 3261 §25.1) */
export function workerMark(index: number): string {
  return `pw${index}.`;
}

/** the mark of this process's tags and branches ('' with one worker) */
export const TOKEN_MARK = thisWorker !== null && thisWorker.count > 1 ? workerMark(thisWorker.index) : '';

/**
 * Worker `index`'s share of the RTP port range [min, max] (min even): whole
 * RTP/RTCP pairs, disjoint, the last worker taking what the division leaves.
 * Throws when a share would hold fewer than two pairs.
 */
export function portShare(min: number, max: number, index: number, count: number): { portMin: number; portMax: number } {
  const pairs = Math.floor((max - min + 1) / 2);
  const per = Math.floor(pairs / count);
  if (per < 2) throw new Error(`the RTP range ${min}-${max} holds ${pairs} port pairs: too few for ${count} workers (each needs at least 2)`);
  const portMin = min + 2 * per * index;
  const portMax = index === count - 1 ? max : portMin + 2 * per - 1;
  return { portMin, portMax };
}
