// One worker's side of sip.workers > 1 (docs/operations.md, "One machine,
// every core"):
//  - packet affinity: a packet this worker read that another worker owns
//    (src/transport/worker-route.ts) goes to it over loopback UDP, after this
//    worker's packet gate; the owner handles it as received and answers from
//    the shared socket itself. Stream connections are worker 0's: what another
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
import type { WorkerIdentity } from '../../core/workers.js';
import type { DefenceChange } from '../../core/defence-sync.js';
import type { CallEventHub } from '../../core/call-events.js';
import { mergeMetrics, type MetricValues } from '../../observability/metrics.js';
import type { TransportLayer, WorkerRouter } from '../../transport/transport-layer.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import { packetOwner } from '../../transport/worker-route.js';
import { bindingKey, toStored, type Binding, type LocationService } from '../../sip/ua/location.js';
import type { StoredBinding } from '../../storage/location-types.js';
import type { CommandTable } from '../command-table.js';
import type { CommandHandler } from '../../core/module.js';
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

/** control commands every worker runs (worker 0's answer is returned): reloads, and settings each worker holds in memory */
const EVERY_WORKER = ['reload-extensions', 'reload-dialplan', 'dnd', 'forward'];
/** control commands about one call: run in every worker, the one that has it answers */
const ANY_WORKER = ['hangup'];

export interface WorkerLinkDeps {
  me: WorkerIdentity;
  transport: TransportLayer;
  location: Pick<LocationService, 'on' | 'adopt' | 'drop'>;
  defences: { carry(send: (c: DefenceChange) => void): void; applyRemote(c: DefenceChange): void };
  /** this worker's call events go to the others; theirs come in as remote */
  callEvents: Pick<CallEventHub, 'onCall' | 'emitRemote' | 'dropWorker' | 'ownCalls'>;
  /** calls up in this worker */
  calls(): Record<string, unknown>[];
  /** bans this worker's packet gate holds */
  bans(): number;
  /** this worker's Prometheus registry: worker 0 merges every worker's for a scrape */
  metrics: { getMetricsAsJSON(): Promise<MetricValues> };
  log: Logger;
}

export class WorkerLink {
  private readonly socket = dgram.createSocket('udp4');
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
    };
    // streams are worker 0's: the others send on them through it
    if (me.index !== 0) router.streamSend = (data, remote) => this.toWorker(0, FrameKind.StreamOut, data, remote, 0);
    transport.router = router;
  }

  /** binds the loopback socket and starts sharing; before the transport starts */
  async open(): Promise<void> {
    const { transport, log } = this.d;
    this.socket.on('message', (batch) => {
      for (const frame of batchFrames(batch)) {
        const f = decodeFrame(frame);
        if (!f) continue;
        if (f.kind === FrameKind.Inbound) transport.inject(f.data, f.remote, this.points[f.listenIndex] ?? this.points[0]!);
        else transport.send(f.data, f.remote);
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

  /**
   * false when that worker has no port yet (starting): the packet is handled
   * here. Frames for one worker wait for the end of this event-loop turn and
   * go as one datagram (a read burst of the shared socket is one send).
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
    location.on((e) => {
      if (e.type === 'reachability' || e.remote) return;
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
    defences.carry((change) => this.bcast({ k: 'defence', change }));
    // only this worker's own calls: the others' come back as remote and are not sent on
    const w = this.d.me.index;
    this.d.callEvents.onCall((event) => this.bcast({ k: 'call', w, event }));
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
        if (b.k === 'defence') this.d.defences.applyRemote(b.change as DefenceChange);
        else if (b.k === 'call') this.d.callEvents.emitRemote(b.event, b.w);
        else if (b.k === 'loc-set') this.d.location.adopt(b.binding as unknown as StoredBinding, b.replaces);
        else this.d.location.drop(b.aor, b.contactUri, b.cause);
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
      if (before[i] != null && ports[i] == null) this.d.callEvents.dropWorker(i);
      if (ports[i] != null && before[i] !== ports[i]) came = true;
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

  /** the command table every worker answers from; in worker 0, `calls` and `workers` gather every worker's */
  serve(commands: CommandTable): void {
    this.commands = commands;
    commands.add('calls-here', () => this.d.calls());
    commands.add('metrics-here', () => this.d.metrics.getMetricsAsJSON());
    if (this.d.me.index !== 0) return;
    const all = async (cmd: string, args: Record<string, unknown>) => {
      const answers = await this.askAll(cmd, args);
      const failed = answers.find((a) => !a.ok);
      if (failed) throw new Error(`worker ${failed.index}: ${String(failed.value)}`);
      return answers;
    };
    commands.add('workers', async () => (await all('worker', {})).map((a) => a.value));
    commands.wrap('calls', () => async () => (await all('calls-here', {})).flatMap((a) => (a.value as Array<Record<string, unknown>>).map((c) => ({ worker: a.index, ...c }))));
    for (const name of [...EVERY_WORKER, ...ANY_WORKER]) {
      if (!commands.has(name)) continue;
      const any = ANY_WORKER.includes(name);
      commands.wrap(name, (own) => {
        // what every worker (this one too) runs when asked
        this.own.set(name, own);
        return async (args) => {
          if (!any) return (await all(name, args)).find((a) => a.index === 0)?.value;
          const answers = await this.askAll(name, args);
          const done = answers.find((a) => a.ok);
          if (!done) throw new Error(String(answers[0]?.value ?? `${name}: no worker answered`));
          return done.value;
        };
      });
    }
  }
}
