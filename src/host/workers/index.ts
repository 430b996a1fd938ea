// Several SIP/media workers under one `palisade start` (sip.workers > 1):
// what the composition root (src/main.ts) and `palisade start` call.
import type { WorkerIdentity } from '../../core/workers.js';
import type { DefenceSyncHub } from '../../core/defence-sync.js';
import type { Logger } from '../../observability/logger.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import type { CommandTable } from '../command-table.js';
import type { SipStack } from '../sip-stack.js';
import { NONCE_KEY_ENV } from './primary.js';
import { WORKER0_MODULES, WorkerLink } from './worker-link.js';

export { runPrimary } from './primary.js';

/** what buildSipStack takes for a worker: its RTP share, the shared nonce key */
export function workerStackOptions(worker: WorkerIdentity | null): { worker: WorkerIdentity | null; nonceKey?: Buffer } {
  const hex = process.env[NONCE_KEY_ENV];
  return worker && hex ? { worker, nonceKey: Buffer.from(hex, 'hex') } : { worker };
}

/** whether a module starts in this process (once-per-server modules: worker 0 only) */
export function runsInWorker(module: string, worker: WorkerIdentity | null): boolean {
  return worker === null || worker.index === 0 || !WORKER0_MODULES.has(module);
}

function callsOf(stack: SipStack): () => Record<string, unknown>[] {
  return () => [...stack.b2bua.listCalls(), ...stack.channels.list()];
}

/** binds the loopback link and starts sharing, before the transport listens */
export async function openWorkerLink(
  worker: WorkerIdentity,
  stack: SipStack,
  sync: DefenceSyncHub,
  bans: () => number,
  metrics: MetricsRegistry,
  log: Logger,
): Promise<WorkerLink> {
  const link = new WorkerLink({
    me: worker,
    transport: stack.transport,
    location: stack.location,
    defences: sync,
    callEvents: stack.callEvents,
    calls: callsOf(stack),
    bans,
    metrics,
    log,
  });
  await link.open();
  return link;
}

/** `workers` in a single process: its one line */
export function singleWorkerCommand(commands: CommandTable, stack: SipStack, bans: () => number): void {
  const calls = callsOf(stack);
  commands.add('workers', () => {
    const s = stack.transport.stats;
    return [{ worker: 0, pid: process.pid, calls: calls().length, bans: bans(), received: s.received, gated: s.gated, forwarded: 0, injected: 0 }];
  });
}
