// Several SIP/media worker processes under one `palisade start` (sip.workers,
// docs/operations.md "One machine, every core"). The primary process tells
// each worker its index in the environment; a worker marks what it generates
// (tags, Via branches) with that index, so a packet that answers or continues
// something it started can be routed back to it by a byte scan
// (src/transport/worker-route.ts). One worker, or no worker environment: no
// mark, exactly as before.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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

// ---- a call handed from one worker to another (docs/operations.md, "Limits
// with more than one worker"): a worker whose call must run where some state
// lives (a parked call, a ringing call to pick up) places an INVITE to its
// own SIP address carrying a signed hand-over; the worker link steers it to
// the worker named, which takes it as the caller's call without a challenge.
// The key is fresh at every `palisade start`, made by the primary and known
// only to its workers: no one outside can make or replay one.

/** the environment variable the primary gives each worker: the hand-over key, hex */
export const WORKER_KEY_ENV = 'PALISADE_WORKER_KEY';
/** the header that carries a signed hand-over */
export const HANDOVER_HEADER = 'x-palisade-handover';
/** how long a hand-over stays good: the INVITE's retransmissions (64*T1) */
export const HANDOVER_TTL_MS = 32_000;

/** what the worker that receives the call does with it */
export type HandoverApp = 'park' | 'pickup';

export interface Handover {
  /** the worker that takes the call */
  worker: number;
  app: HandoverApp;
  /** the slot (park) or the ringing extension ('' for the caller's pickup groups) */
  arg: string;
  /** the extension the caller proved ('' for a caller that proved none) */
  account: string;
}

function readKey(): Buffer | null {
  const v = process.env[WORKER_KEY_ENV];
  // read once: the processes a worker starts (mail, speech) do not inherit it
  delete process.env[WORKER_KEY_ENV];
  return v && /^[0-9a-f]{64}$/.test(v) ? Buffer.from(v, 'hex') : null;
}

/** this worker's copy of the key (null: a single process, or no key given) */
const workerKey: Buffer | null = thisWorker ? readKey() : null;

/** a fresh key, for the primary to give its workers */
export function newWorkerKey(): string {
  return randomBytes(32).toString('hex');
}

const TOKEN = /^[0-9A-Za-z*#+._-]{0,64}$/;

function mac(key: Buffer, callId: string, fields: string): string {
  return createHmac('sha256', key).update(callId).update('\n').update(fields).digest('base64url');
}

/** the header's value for a hand-over of the INVITE with this Call-ID; null when it cannot be signed (no key, odd characters) */
export function signHandover(h: Handover, callId: string, now = Date.now(), key: Buffer | null = workerKey): string | null {
  if (!key || !TOKEN.test(h.arg) || !TOKEN.test(h.account)) return null;
  const fields = `${h.worker};${h.app};${h.arg};${h.account};${now + HANDOVER_TTL_MS}`;
  return `${fields};${mac(key, callId, fields)}`;
}

/** a hand-over whose signature holds for this Call-ID and has not run out; null otherwise */
export function readHandover(value: string, callId: string, now = Date.now(), key: Buffer | null = workerKey): Handover | null {
  if (!key) return null;
  const parts = value.trim().split(';');
  if (parts.length !== 6) return null;
  const [w, app, arg, account, until, sig] = parts as [string, string, string, string, string, string];
  if (!/^\d{1,2}$/.test(w) || (app !== 'park' && app !== 'pickup') || !TOKEN.test(arg) || !TOKEN.test(account) || !/^\d{1,15}$/.test(until)) return null;
  if (Number(until) < now) return null;
  const want = Buffer.from(mac(key, callId, parts.slice(0, 5).join(';')));
  const got = Buffer.from(sig);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  return { worker: Number(w), app, arg, account };
}
