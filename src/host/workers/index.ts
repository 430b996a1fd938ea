// Several SIP/media workers under one `palisade start` (sip.workers > 1):
// what the composition root (src/main.ts) and `palisade start` call.
import type { WorkerIdentity } from '../../core/workers.js';
import type { DefenceSyncHub } from '../../core/defence-sync.js';
import type { WorkerBus } from '../../core/worker-bus.js';
import type { StoredChangeHub } from '../../core/stored-changes.js';
import type { Dialplan } from '../../dialplan/dialplan-types.js';
import { homeOfNumber } from '../../dialplan/numbers-running.js';
import type { Logger } from '../../observability/logger.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import type { CommandTable } from '../command-table.js';
import type { SipStack } from '../sip-stack.js';
import { WORKER0_MODULES, WorkerLink } from './worker-link.js';

export { runPrimary } from './primary.js';

/** whether a module starts in this process (once-per-server modules: worker 0 only) */
export function runsInWorker(module: string, worker: WorkerIdentity | null): boolean {
  return worker === null || worker.index === 0 || !WORKER0_MODULES.has(module);
}

function callsOf(stack: SipStack): () => Record<string, unknown>[] {
  return () => [...stack.b2bua.listCalls(), ...stack.channels.list()];
}

/** what the worker link shares besides the stack's own services */
export interface WorkerLinkParts {
  sync: DefenceSyncHub;
  stored: StoredChangeHub;
  bus: WorkerBus;
  bans: () => number;
  metrics: MetricsRegistry;
  log: Logger;
}

/** binds the loopback link and starts sharing, before the transport listens */
export async function openWorkerLink(worker: WorkerIdentity, stack: SipStack, p: WorkerLinkParts): Promise<WorkerLink> {
  const link = new WorkerLink({
    me: worker,
    transport: stack.transport,
    location: stack.location,
    defences: p.sync,
    stored: p.stored,
    callEvents: stack.callEvents,
    bus: p.bus,
    calls: callsOf(stack),
    bans: p.bans,
    metrics: p.metrics,
    log: p.log,
  });
  await link.open();
  return link;
}

/**
 * The applications one worker holds (WorkerBus.home): conference rooms are
 * worker 0's, so everyone who dials a room meets in one room (the queues
 * module homes Queue() there too). A call whose number leads to one of them
 * in the dialplan (src/dialplan/numbers-running.ts) goes to that worker.
 */
export function steerHomedApps(bus: WorkerBus, dialplan: { engine: { readonly dialplan: Dialplan } } | null): void {
  if (!bus.shared || !dialplan) return;
  bus.home('confbridge', 0);
  if (bus.index === 0) return;
  bus.steer((r) => homeOfNumber(bus.homes, dialplan.engine.dialplan, r.user));
}

/** `workers` in a single process: its one line */
export function singleWorkerCommand(commands: CommandTable, stack: SipStack, bans: () => number): void {
  const calls = callsOf(stack);
  commands.add('workers', () => {
    const s = stack.transport.stats;
    return [{ worker: 0, pid: process.pid, udp: stack.transport.udpSocket, calls: calls().length, bans: bans(), received: s.received, gated: s.gated, forwarded: 0, injected: 0 }];
  });
}
