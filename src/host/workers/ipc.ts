// The messages between the primary and its workers (node:cluster IPC), and
// the frame of a packet one worker hands to another over loopback UDP.
import type { Remote, TransportKind } from '../../transport/types.js';
import type { CallEvent } from '../../core/call-events.js';

/** worker → primary */
export type ToPrimary =
  /** the loopback port this worker's forwarded packets go to */
  | { t: 'port'; port: number }
  /** worker 0 is up (migrations done): the others may start */
  | { t: 'ready' }
  /** to every other worker: the changes of one event-loop turn, in order */
  | { t: 'bcast'; bodies: SharedChange[] }
  /** run a control command in every worker and answer with each one's result */
  | { t: 'ask'; id: number; cmd: string; args: Record<string, unknown> }
  | { t: 'result'; id: number; index: number; ok: boolean; value: unknown };

/** primary → worker */
export type ToWorker =
  | { t: 'peers'; ports: Array<number | null> }
  | { t: 'bcast'; bodies: SharedChange[] }
  | { t: 'run'; id: number; cmd: string; args: Record<string, unknown> }
  | { t: 'answers'; id: number; answers: WorkerAnswer[] };

export interface WorkerAnswer {
  index: number;
  ok: boolean;
  value: unknown;
}

/** what every worker holds alike: location bindings, defence changes (src/core/defence-sync.ts), the calls up */
export type SharedChange =
  | { k: 'loc-set'; binding: Record<string, unknown>; replaces?: string }
  | { k: 'loc-del'; aor: string; contactUri: string; cause: 'unregistered' | 'expired' | 'replaced' }
  | { k: 'defence'; change: unknown }
  /** worker 0: a stream connection it held closed (its flow): transactions on it fail in every worker */
  | { k: 'flow-closed'; remote: Remote }
  /** a kind of stored object the API changed (src/core/stored-changes.ts): read it again */
  | { k: 'stored'; kind: string }
  /** a phase of a call worker `w` holds (src/core/call-events.ts), for the others' lamps, device states and live view */
  | { k: 'call'; w: number; event: CallEvent }
  /** a feature module's message on the worker bus (src/core/worker-bus.ts) from worker `w` */
  | { k: 'bus'; w: number; topic: string; body: unknown };

export const FrameKind = {
  /** a packet the receiver owns: handle it as received */
  Inbound: 1,
  /** a message to write on a stream connection the receiver holds */
  StreamOut: 2,
  /** a new request steered to the receiver (src/core/worker-bus.ts): handle it as received, never steer it on */
  Steered: 3,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/**
 * Several frames in one datagram, as a worker sends what it forwards to one
 * peer during one event-loop turn: [u16 length][frame] repeated. One send and
 * one wake-up of the peer per turn instead of one per packet.
 */
export const BATCH_LIMIT = 60_000;

/** a packet waiting to be forwarded: written into the batch once, when the turn ends */
export interface PendingFrame {
  kind: FrameKind;
  data: Buffer;
  remote: Remote;
  listenIndex: number;
}

/** bytes a frame takes in a batch, its length prefix included */
export function batchedLength(f: PendingFrame): number {
  return 2 + HEAD + Buffer.byteLength(f.remote.address, 'latin1') + f.data.length;
}

/** the frames in one buffer, each encoded straight into it (no per-frame buffer) */
export function encodeBatch(frames: readonly PendingFrame[]): Buffer {
  let n = 0;
  for (const f of frames) n += batchedLength(f);
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  for (const f of frames) {
    const len = writeFrame(out, at + 2, f.kind, f.data, f.remote, f.listenIndex);
    out.writeUInt16BE(len, at);
    at += 2 + len;
  }
  return out;
}

/** the frames of a batch; a truncated tail is dropped */
export function* batchFrames(batch: Buffer): Generator<Buffer> {
  let at = 0;
  while (at + 2 <= batch.length) {
    const len = batch.readUInt16BE(at);
    if (at + 2 + len > batch.length) return;
    yield batch.subarray(at + 2, at + 2 + len);
    at += 2 + len;
  }
}

const KINDS: TransportKind[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const NO_FLOW = 0xffffffff;
const HEAD = 10;

/** [kind][transport][port u16][flow u32][listen index][address length][address][packet] */
export function encodeFrame(kind: FrameKind, data: Buffer, remote: Remote, listenIndex: number): Buffer {
  const out = Buffer.allocUnsafe(HEAD + Buffer.byteLength(remote.address, 'latin1') + data.length);
  writeFrame(out, 0, kind, data, remote, listenIndex);
  return out;
}

/** writes the frame at `at`; returns its length */
function writeFrame(out: Buffer, at: number, kind: FrameKind, data: Buffer, remote: Remote, listenIndex: number): number {
  const alen = out.write(remote.address, at + HEAD, 'latin1');
  out[at] = kind;
  out[at + 1] = KINDS.indexOf(remote.transport);
  out.writeUInt16BE(remote.port, at + 2);
  out.writeUInt32BE(remote.flow ?? NO_FLOW, at + 4);
  out[at + 8] = listenIndex;
  out[at + 9] = alen;
  data.copy(out, at + HEAD + alen);
  return HEAD + alen + data.length;
}

export function decodeFrame(frame: Buffer): { kind: FrameKind; remote: Remote; listenIndex: number; data: Buffer } | null {
  if (frame.length < HEAD) return null;
  const transport = KINDS[frame[1]!];
  const alen = frame[9]!;
  if (!transport || frame.length < HEAD + alen) return null;
  const flow = frame.readUInt32BE(4);
  const remote: Remote = { transport, address: frame.toString('latin1', HEAD, HEAD + alen), port: frame.readUInt16BE(2) };
  if (flow !== NO_FLOW) remote.flow = flow;
  return { kind: frame[0] as FrameKind, remote, listenIndex: frame[8]!, data: frame.subarray(HEAD + alen) };
}
