// One worker's side of sip.workers > 1 (docs/operations.md, "One machine,
// every core"):
//  - packet affinity: a packet this worker read that another worker owns
//    (src/transport/worker-route.ts) goes to it over loopback UDP, after this
//    worker's packet gate; the owner handles it as received and answers from
//    its own socket (src/transport/steered-udp.ts: the kernel hands each
//    worker its own addresses' new requests; responses and in-dialog
//    requests may still come to another). Stream connections are worker 0's: what another
//    worker sends on one goes to worker 0 to write.
//  - shared state through the primary: every registration (location adopt/
//    drop, as the cluster module does over NATS) and every defence change
//    (bans, reputation, fraud reloads, spend: src/core/defence-sync.ts).
//    A plain re-REGISTER, which moves only the expiry, is shared at most once
//    a second per binding (REFRESH_SHARE_MS): the other workers still hold
//    the binding until its old expiry, and under load most REGISTERs are
//    such refreshes. New, changed and removed bindings go at once.
//  - the calls up: every phase of this worker's calls goes to the others,
//    whose call-event hubs count them as remote (device states for queues
//    and presence, busy lamps, the console's live view in worker 0), so a
//    BLF key lights for a call another worker holds and picks it up (the
//    INVITE with Replaces is steered to that worker by its Call-ID mark).
//    A worker that dies takes its calls with it: the others end them.
//  - control commands: worker 0 holds the control socket; `calls` and
//    `workers` ask every worker and merge, the reloads run in every worker.
import dgram from 'node:dgram';
import type { Logger } from '../../observability/logger.js';
import { HANDOVER_HEADER, readHandover, type WorkerIdentity } from '../../core/workers.js';
import type { DefenceChange } from '../../core/defence-sync.js';
import type { CallEventHub } from '../../core/call-events.js';
import type { WorkerBus } from '../../core/worker-bus.js';
import type { StoredKind } from '../../core/stored-changes.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { mergeMetrics, type MetricValues } from '../../observability/metrics.js';
import type { TransportLayer, WorkerRouter } from '../../transport/transport-layer.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import { packetOwner } from '../../transport/worker-route.js';
import { bindingKey, toStored, type Binding, type LocationEvent, type LocationService } from '../../sip/ua/location.js';
import type { StoredBinding } from '../../storage/location-types.js';
import type { CommandTable } from '../command-table.js';
import type { CommandHandler } from '../../core/module.js';
import { literalLookup } from '../../core/udp-lookup.js';
import {
  BATCH_LIMIT,
  batchedLength,
  batchFrames,
  decodeFrame,
  encodeBatch,
  FrameKind,
  type PendingFrame,
  type SharedChange,
  type ToPrimary,
  type ToWorker,
  type WorkerAnswer,
} from './ipc.js';

/** modules whose work is once per server: they start in worker 0 only */
export const WORKER0_MODULES: ReadonlySet<string> = new Set(['qualify', 'iax2', 'campaigns', 'xmpp', 'cluster', 'console']);

/** how long a binding's refresh (expiry only) may wait before the other workers hear of it */
export const REFRESH_SHARE_MS = 1000;

/** how long a steered request's Call-ID keeps going to the worker it was steered to: its CANCEL, retransmissions, the INVITE with credentials (64*T1) */
export const STEER_MEMORY_MS = 32_000;
/** at most this many Call-IDs remembered at once */
const STEER_MEMORY_MAX = 50_000;

/** control commands every worker runs (worker 0's answer is returned): reloads, and tracing an extension (each worker records its own calls) */
const EVERY_WORKER = ['reload-extensions', 'reload-dialplan', 'trace-extension'];
/** control commands whose answers are lists: every worker's, each row with its worker */
const MERGED = ['calls', 'parked'];
/** control commands about one call: run in every worker, the one that has it answers */
const ANY_WORKER = ['hangup'];

export interface WorkerLinkDeps {
  me: WorkerIdentity;
  transport: TransportLayer;
  location: Pick<LocationService, 'on' | 'adopt' | 'drop'>;
  defences: { carry(send: (c: DefenceChange) => void, name?: string): void; applyRemote(c: DefenceChange, from?: string): void };
  /** objects the API changed in the database (src/core/stored-changes.ts) */
  stored: { carry(send: (k: StoredKind) => void, name?: string): void; applyRemote(k: StoredKind, from?: string): Promise<number> };
  /** this worker's call events go to the others; theirs come in as remote */
  callEvents: Pick<CallEventHub, 'onCall' | 'emitRemote' | 'dropWorker' | 'ownCalls'>;
  /** calls up in this worker */
  calls(): Record<string, unknown>[];
  /** bans this worker's packet gate holds */
  bans(): number;
  /** the feature modules' messages, peers and steering rules (src/core/worker-bus.ts) */
  bus: WorkerBus;
  /** this worker's Prometheus registry: worker 0 merges every worker's for a scrape */
  metrics: { getMetricsAsJSON(): Promise<MetricValues> };
  log: Logger;
}

export class WorkerLink {
  private readonly socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  private ports: Array<number | null> = [];
  private readonly points: ListenPoint[];
  private askSeq = 0;
  private readonly asks = new Map<number, (a: WorkerAnswer[]) => void>();
  private commands: CommandTable | null = null;
  /** worker 0: the handlers of commands it wrapped to run in every worker */
  private readonly own = new Map<string, CommandHandler>();
  readonly counts = { sharedOut: 0, sharedIn: 0 };
  /** refreshed bindings not yet shared, by aor and contact (the latest state of each) */
  private readonly refreshes = new Map<string, Binding>();
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly d: WorkerLinkDeps) {
    this.points = d.transport.listenPoints;
    const { me, transport } = d;
    const router: WorkerRouter = {
      route: (data, remote, local) => this.route(data, remote, local),
      steer: (msg, data, remote, local) => this.steer(msg, data, remote, local),
    };
    d.bus.attach({ publish: (topic, body) => this.bcast({ k: 'bus', w: me.index, topic, body }) });
    // streams are worker 0's: the others send on them through it
    if (me.index !== 0) router.streamSend = (data, remote) => this.toWorker(0, FrameKind.StreamOut, data, remote, 0);
    // a stream connection worker 0 held closed: the other workers' transactions on it fail now, not by their timers
    else {
      const local = transport.flowClosed;
      transport.flowClosed = (remote) => {
        local(remote);
        if (remote.flow !== undefined) this.bcast({ k: 'flow-closed', remote: { ...remote } });
      };
    }
    transport.router = router;
  }

  /** binds the loopback socket and starts sharing; before the transport starts */
  async open(): Promise<void> {
    const { transport, log } = this.d;
    this.socket.on('message', (batch) => {
      for (const frame of batchFrames(batch)) {
        const f = decodeFrame(frame);
        if (!f) continue;
        if (f.kind === FrameKind.StreamOut) transport.send(f.data, f.remote);
        else transport.inject(f.data, f.remote, this.points[f.listenIndex] ?? this.points[0]!, f.kind === FrameKind.Steered);
      }
    });
    this.socket.on('error', (err) => log.warn('worker-link-error', { error: err.message }));
    await new Promise<void>((resolve) => this.socket.bind({ address: '127.0.0.1', port: 0, exclusive: true }, resolve));
    try {
      this.socket.setRecvBufferSize(8 * 1024 * 1024);
    } catch {
      /* the kernel's cap */
    }
    process.on('message', (m: ToWorker) => this.fromPrimary(m));
    this.share();
  }

  private route(data: Buffer, remote: Remote, local: ListenPoint): boolean {
    const owner = packetOwner(data, remote.address, this.d.me.count);
    if (owner === this.d.me.index) return false;
    return this.toWorker(owner, FrameKind.Inbound, data, remote, this.points.indexOf(local));
  }

  /** Call-ID → the worker its new requests were steered to, and until when */
  private readonly steered = new Map<string, { worker: number; until: number }>();
  private steerSweep: NodeJS.Timeout | null = null;

  /**
   * A new request (no To tag) that a feature's rule sends where its state
   * lives (src/core/worker-bus.ts): an INVITE the rules name another worker
   * for, or whose signed hand-over names one (src/core/workers.ts), or any
   * request of a Call-ID steered before (CANCEL, a retransmission, the
   * INVITE again with credentials). A read of the request's To and a Map
   * look-up per request; for INVITEs, a header look-up and the rules.
   */
  private steer(msg: SipMessage, data: Buffer, remote: Remote, local: ListenPoint): boolean {
    const bus = this.d.bus;
    const invite = msg.method === 'INVITE';
    if (this.steered.size === 0 && !invite) return false;
    let worker: number;
    try {
      if (msg.to.params.tag) return false;
      const callId = msg.callId;
      const known = this.steered.get(callId);
      if (known) worker = known.worker;
      else {
        if (!invite) return false;
        // a call another worker hands over, signed with the workers' key (src/core/workers.ts): to the worker it names
        const handover = msg.get(HANDOVER_HEADER);
        const signed = handover === undefined ? null : readHandover(handover, callId);
        if (signed) worker = signed.worker < this.d.me.count ? signed.worker : -1;
        else worker = bus.steering ? bus.steerOf({ user: msg.ruri.user ?? '', fromUser: msg.from.uri.user ?? '', toUser: msg.to.uri.user ?? '' }) : -1;
        if (worker < 0 || worker === this.d.me.index) return false;
        // bounded: a flood of new INVITEs to a pickup code cannot grow it without end (past the cap, only that packet is steered)
        if (this.steered.size < STEER_MEMORY_MAX) this.steered.set(callId, { worker, until: Date.now() + STEER_MEMORY_MS });
        this.steerSweep ??= setInterval(() => this.sweepSteered(), 5_000).unref();
        this.d.log.info('request-steered', { callId, to: worker, method: msg.method, user: msg.ruri.user ?? '' });
      }
    } catch {
      // a request too broken to read: the transaction layer answers it here
      return false;
    }
    return this.toWorker(worker, FrameKind.Steered, data, remote, this.points.indexOf(local));
  }

  private sweepSteered(): void {
    const now = Date.now();
    for (const [id, s] of this.steered) if (s.until < now) this.steered.delete(id);
    if (this.steered.size === 0 && this.steerSweep) {
      clearInterval(this.steerSweep);
      this.steerSweep = null;
    }
  }

  /**
   * false when that worker has no port yet (starting): the packet is handled
   * here. Frames for one worker wait for the end of this event-loop turn and
   * go as one datagram (a burst of datagrams read in one turn is one send).
   */
  private toWorker(index: number, kind: FrameKind, data: Buffer, remote: Remote, listenIndex: number): boolean {
    const port = this.ports[index];
    if (port == null) return false;
    const frame: PendingFrame = { kind, data, remote, listenIndex: Math.max(0, listenIndex) };
    const size = batchedLength(frame);
    let out = this.outbox.get(index);
    if (!out) {
      out = { frames: [], bytes: 0 };
      this.outbox.set(index, out);
    }
    if (out.bytes + size > BATCH_LIMIT) this.sendBatch(index, out);
    out.frames.push(frame);
    out.bytes += size;
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flushOutbox);
    }
    return true;
  }

  private readonly outbox = new Map<number, { frames: PendingFrame[]; bytes: number }>();
  private flushing = false;
  private readonly flushOutbox = (): void => {
    this.flushing = false;
    for (const [index, out] of this.outbox) if (out.frames.length > 0) this.sendBatch(index, out);
  };

  private sendBatch(index: number, out: { frames: PendingFrame[]; bytes: number }): void {
    const port = this.ports[index];
    const frames = out.frames;
    out.frames = [];
    out.bytes = 0;
    if (port == null) return;
    this.socket.send(encodeBatch(frames), port, '127.0.0.1');
  }

  private share(): void {
    const { location, defences } = this.d;
    // what this worker changed, and in worker 0 of a clustered node what the cluster brought
    const carries = (e: LocationEvent): boolean => e.type !== 'reachability' && (!e.remote || (this.d.me.index === 0 && e.from === 'cluster'));
    location.on((e) => {
      if (!carries(e) || e.type === 'reachability') return;
      const key = bindingKey(e.binding.aor, e.binding.contactUri);
      if (e.type === 'updated' && e.refreshOnly) {
        this.refreshes.set(key, e.binding);
        this.refreshTimer ??= setTimeout(() => this.shareRefreshes(), REFRESH_SHARE_MS).unref();
        return;
      }
      // anything else about this binding goes now, and supersedes a refresh still waiting
      this.refreshes.delete(key);
      if (e.type === 'updated' && e.previousContact !== undefined) this.refreshes.delete(bindingKey(e.binding.aor, e.previousContact));
      // every worker expires bindings by itself
      if (e.type === 'removed' && e.cause === 'expired') return;
      if (e.type === 'removed') this.bcast({ k: 'loc-del', aor: e.binding.aor, contactUri: e.binding.contactUri, cause: e.cause });
      else this.bcast({ k: 'loc-set', binding: { ...toStored(e.binding) }, replaces: e.type === 'updated' ? e.previousContact : undefined });
    });
    defences.carry((change) => this.bcast({ k: 'defence', change }), 'workers');
    // an object the API changed in the database (extensions, trunks, routes, queue members): every worker reads it again
    this.d.stored.carry((kind) => this.bcast({ k: 'stored', kind }), 'workers');
    // only this worker's own calls: the others' come back as remote and are not sent on
    const w = this.d.me.index;
    this.d.callEvents.onCall((event) => this.bcast({ k: 'call', w, event }));
  }

  /**
   * Worker 0's stream connection closed: what this worker had on it fails —
   * transactions of requests that came in on it (they carry its flow), and
   * those this worker sent to the phone's address, which went out through
   * worker 0 and know the address, not the flow.
   */
  private flowClosed(remote: Remote): void {
    const t = this.d.transport;
    t.flowClosed(remote);
    t.flowClosed({ transport: remote.transport, address: remote.address, port: remote.port });
  }

  private async reloadStored(kind: StoredKind): Promise<void> {
    try {
      await this.d.stored.applyRemote(kind, 'workers');
    } catch (err) {
      this.d.log.warn('worker-reload-failed', { kind, error: (err as Error).message });
    }
  }

  private shareRefreshes(): void {
    this.refreshTimer = null;
    for (const b of this.refreshes.values()) this.bcast({ k: 'loc-set', binding: { ...toStored(b) } });
    this.refreshes.clear();
  }

  /** the changes of this event-loop turn, sent together when it ends (one IPC message instead of one per change) */
  private pending: SharedChange[] = [];

  private bcast(body: SharedChange): void {
    this.counts.sharedOut++;
    if (this.pending.push(body) > 1) return;
    setImmediate(() => {
      const bodies = this.pending;
      this.pending = [];
      this.toPrimary({ t: 'bcast', bodies });
    });
  }

  private toPrimary(m: ToPrimary): void {
    if (process.connected) process.send?.(m);
  }

  private fromPrimary(m: ToWorker): void {
    if (m.t === 'peers') this.peersChanged(m.ports);
    else if (m.t === 'bcast') {
      for (const b of m.bodies) {
        this.counts.sharedIn++;
        if (b.k === 'defence') this.d.defences.applyRemote(b.change as DefenceChange, 'workers');
        else if (b.k === 'stored') void this.reloadStored(b.kind as StoredKind);
        else if (b.k === 'call') this.d.callEvents.emitRemote(b.event, b.w);
        else if (b.k === 'bus') this.d.bus.deliver(b.topic, b.body, b.w);
        else if (b.k === 'flow-closed') this.flowClosed(b.remote as Remote);
        else if (b.k === 'loc-set') this.d.location.adopt(b.binding as unknown as StoredBinding, b.replaces, 'workers');
        else this.d.location.drop(b.aor, b.contactUri, b.cause, 'workers');
      }
    } else if (m.t === 'run') void this.run(m.id, m.cmd, m.args);
    else if (m.t === 'answers') {
      const done = this.asks.get(m.id);
      this.asks.delete(m.id);
      done?.(m.answers);
    }
  }

  /**
   * A worker that went (its port gone) held calls that are over; one that
   * came (a new port: started, or restarted after a death) learns this
   * worker's calls up, so its lamps and device states count them.
   */
  private peersChanged(ports: Array<number | null>): void {
    const before = this.ports;
    this.ports = ports;
    let came = false;
    for (let i = 0; i < ports.length; i++) {
      if (i === this.d.me.index) continue;
      if (before[i] != null && ports[i] == null) {
        this.d.callEvents.dropWorker(i);
        this.d.bus.peer(i, false);
        for (const [id, s] of this.steered) if (s.worker === i) this.steered.delete(id);
      }
      if (ports[i] != null && before[i] !== ports[i]) {
        came = true;
        this.d.bus.peer(i, true);
      }
    }
    if (!came) return;
    const w = this.d.me.index;
    for (const event of this.d.callEvents.ownCalls()) this.bcast({ k: 'call', w, event });
  }

  private async run(id: number, cmd: string, args: Record<string, unknown>): Promise<void> {
    const index = this.d.me.index;
    try {
      const own = this.own.get(cmd);
      const value = cmd === 'worker' ? this.figures() : own ? await own(args) : await this.commands?.run(cmd, args);
      this.toPrimary({ t: 'result', id, index, ok: true, value: value ?? null });
    } catch (err) {
      this.toPrimary({ t: 'result', id, index, ok: false, value: (err as Error).message });
    }
  }

  /**
   * Worker 0: the Prometheus text of every worker's registry merged, so one
   * scrape counts the calls, transactions and packets of them all. A worker
   * that does not answer in time is left out of that scrape.
   */
  async scrapeMetrics(): Promise<string> {
    const answers = await this.askAll('metrics-here');
    return mergeMetrics(answers.filter((a) => a.ok).map((a) => a.value as MetricValues));
  }

  /** runs a control command in every worker (this one too), through the primary */
  askAll(cmd: string, args: Record<string, unknown> = {}): Promise<WorkerAnswer[]> {
    const id = ++this.askSeq;
    return new Promise((resolve) => {
      this.asks.set(id, resolve);
      this.toPrimary({ t: 'ask', id, cmd, args });
    });
  }

  /** after the server stopped: the loopback socket closes and the IPC channel is let go, so the process can end */
  async close(): Promise<void> {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    if (this.steerSweep) clearInterval(this.steerSweep);
    this.steerSweep = null;
    this.d.bus.attach(null);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    if (process.connected) process.disconnect();
  }

  /**
   * tells the primary this worker is up (worker 0: the others may start);
   * only now do the others learn where to send what it owns: until its
   * modules have started they handle its share themselves
   */
  ready(): void {
    this.toPrimary({ t: 'port', port: this.socket.address().port });
    this.toPrimary({ t: 'ready' });
  }

  /** this worker's line of `show workers` */
  figures(): Record<string, unknown> {
    const s = this.d.transport.stats;
    return {
      worker: this.d.me.index,
      pid: process.pid,
      udp: this.d.transport.udpSocket,
      calls: this.d.calls().length,
      bans: this.d.bans(),
      received: s.received,
      gated: s.gated,
      forwarded: s.forwarded,
      injected: s.injected,
      shared_out: this.counts.sharedOut,
      shared_in: this.counts.sharedIn,
    };
  }

  /**
   * The command table every worker answers from; in worker 0, `calls` and
   * `workers` gather every worker's. `counted`: the modules' status paths
   * each worker counts for itself (ModuleHost.countedStatus), summed in `status`.
   */
  serve(commands: CommandTable, counted: readonly string[] = []): void {
    this.commands = commands;
    commands.add('metrics-here', () => this.d.metrics.getMetricsAsJSON());
    if (this.d.me.index !== 0) return;
    const all = async (cmd: string, args: Record<string, unknown>) => {
      const answers = await this.askAll(cmd, args);
      const failed = answers.find((a) => !a.ok);
      if (failed) throw new Error(`worker ${failed.index}: ${String(failed.value)}`);
      return answers;
    };
    commands.add('workers', async () => (await all('worker', {})).map((a) => a.value));
    // status: worker 0's answer, with the per-process figures summed over every worker and a line per worker
    if (commands.has('status')) {
      commands.wrap('status', (own) => {
        this.own.set('status', own);
        return async (args) =>
          mergeStatus(
            (await all('status', args)).map((a) => ({ worker: a.index, status: a.value as Record<string, unknown> })),
            counted,
          );
      });
    }
    // the traces every worker keeps, each with its worker; the rest (store figures, traced extensions) worker 0's
    if (commands.has('trace-list')) {
      commands.wrap('trace-list', (own) => {
        this.own.set('trace-list', own);
        return async (args) => {
          const answers = (await all('trace-list', args)).map((a) => ({ worker: a.index, v: a.value as { traces?: Array<Record<string, unknown>> } & Record<string, unknown> }));
          const first = answers.find((a) => a.worker === 0)?.v ?? {};
          const traces = answers.flatMap((a) => (a.v.traces ?? []).map((t): Record<string, unknown> => ({ worker: a.worker, ...t })));
          // oldest first, as one worker lists them (ISO times compare as strings)
          traces.sort((x, y) => String(x.start ?? '').localeCompare(String(y.start ?? '')));
          return { ...first, traces };
        };
      });
    }
    // a kept call by Call-ID or #N is in one worker (trace numbers are unique over the workers);
    // by extension, the newest call of every worker's is the one meant
    const newestTrace = async (args: Record<string, unknown>): Promise<{ worker: number; trace: Record<string, unknown> }> => {
      const answers = await this.askAll('trace', args);
      let best: { worker: number; trace: Record<string, unknown> } | null = null;
      for (const a of answers) {
        if (!a.ok) continue;
        const t = a.value as Record<string, unknown>;
        if (best === null || String(t.start ?? '') > String(best.trace.start ?? '')) best = { worker: a.index, trace: t };
      }
      if (best === null) throw failure(answers, 'trace');
      return best;
    };
    if (commands.has('trace')) {
      commands.wrap('trace', (own) => {
        this.own.set('trace', own);
        return async (args) => {
          const { worker, trace } = await newestTrace(args);
          return { worker, ...trace };
        };
      });
    }
    if (commands.has('pcap')) {
      commands.wrap('pcap', (own) => {
        this.own.set('pcap', own);
        return async (args) => {
          // the call is found as `trace` finds it (its summary only, not the ladder), then captured by its first Call-ID
          const { trace } = await newestTrace({ call: args.call, summary: true });
          const callId = String(trace.call_ids ?? '').split(' ')[0] ?? '';
          return firstAnswer(await this.askAll('pcap', { ...args, call: callId }), 'pcap');
        };
      });
    }
    for (const name of MERGED) {
      if (!commands.has(name)) continue;
      commands.wrap(name, (own) => {
        this.own.set(name, own);
        return async (args) => (await all(name, args)).flatMap((a) => (a.value as Array<Record<string, unknown>>).map((c) => ({ worker: a.index, ...c })));
      });
    }
    for (const name of [...EVERY_WORKER, ...ANY_WORKER]) {
      if (!commands.has(name)) continue;
      const any = ANY_WORKER.includes(name);
      commands.wrap(name, (own) => {
        // what every worker (this one too) runs when asked
        this.own.set(name, own);
        return async (args) => {
          if (!any) return (await all(name, args)).find((a) => a.index === 0)?.value;
          return firstAnswer(await this.askAll(name, args), name);
        };
      });
    }
  }
}

/** the first worker's answer that succeeded; when none did, the first worker's error */
function firstAnswer(answers: WorkerAnswer[], cmd: string): unknown {
  const done = answers.find((a) => a.ok);
  if (!done) throw failure(answers, cmd);
  return done.value;
}

/** no worker could answer: the first one's reason */
function failure(answers: WorkerAnswer[], cmd: string): Error {
  return new Error(String(answers[0]?.value ?? `${cmd}: no worker answered`));
}

/** the core's figures of `status` each worker counts for itself: summed over the workers */
const PER_PROCESS = ['active_calls', 'calls', 'transactions', 'packets', 'tcp_connections', 'tls_connections', 'tls_handshake_errors', 'rss_mb', 'heap_used_mb'];

/** numbers added, objects added key by key; anything else is the first one's */
function addUp(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = k in out ? addUp(out[k], v) : v;
    return out;
  }
  return a;
}

/**
 * `status` with several workers: worker 0's answer (what every worker holds
 * alike — registrations, bans — and what worker 0 alone runs), the
 * per-process figures summed over every worker, and `workers`: one line per
 * worker with its own.
 */
export function mergeStatus(answers: Array<{ worker: number; status: Record<string, unknown> }>, counted: readonly string[] = []): Record<string, unknown> {
  const sorted = [...answers].sort((x, y) => x.worker - y.worker);
  const first = sorted[0]?.status ?? {};
  const out: Record<string, unknown> = { ...first };
  for (const key of PER_PROCESS) {
    let v: unknown = first[key];
    for (const a of sorted.slice(1)) if (key in a.status) v = v === undefined ? a.status[key] : addUp(v, a.status[key]);
    if (v !== undefined) out[key] = v;
  }
  // the modules' counters ("messaging", "security.ids"): summed where each worker has the field
  for (const path of counted) {
    const [key, member] = path.split('.', 2) as [string, string | undefined];
    let v: unknown;
    for (const a of sorted) {
      const field = a.status[key];
      const x = member === undefined ? field : field && typeof field === 'object' ? (field as Record<string, unknown>)[member] : undefined;
      if (x === undefined || x === null) continue;
      v = v === undefined ? x : addUp(v, x);
    }
    if (v === undefined) continue;
    if (member === undefined) out[key] = v;
    else out[key] = { ...(out[key] as Record<string, unknown>), [member]: v };
  }
  out.workers = sorted.map((a) => ({ worker: a.worker, active_calls: a.status.active_calls, rss_mb: a.status.rss_mb, heap_used_mb: a.status.heap_used_mb }));
  return out;
}
