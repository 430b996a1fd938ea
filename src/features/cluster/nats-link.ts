// The cluster's wire: one NATS connection per node (JetStream for what must
// survive a node's absence, core NATS for what is only live). Subjects,
// streams and buckets all start with the configured namespace, so two
// clusters (or two tests) on one broker never see each other.
//
//   <ns>_bans (KV bucket)   one key per banned address: the ban, or a
//                           lifted marker. A node starting reads every key;
//                           a node that lost the broker resumes its watch
//                           where it stopped.
//   <ns>.def  (stream <ns>_def, 1 day)  reputation marks, learned profiles,
//                           fraud-list reloads, calls and spend against the
//                           limits: additive changes, replayed in order to a
//                           node that was cut off.
//   <ns>.reload (same stream) a kind of stored object (routes, extensions,
//                           queue members) the API changed in the database:
//                           the other nodes read that kind again.
//   <ns>.loc  (core)        registrations made through a node; a node back
//                           from a broker outage reloads them from the
//                           shared database instead.
//   <ns>.ban  (core)        each ban again, live: it reaches the other nodes
//                           without the detour through the store.
//   <ns>.node (core)        a heartbeat per node each second.
//
// Every message carries its origin node and time (a high-resolution epoch ms)
// so a node skips its own echoes and measures how long a change took to
// arrive. The node that made a change never waits for the broker: durable
// changes are published asynchronously, and those made while the broker is
// away wait in an outbox until it is back.
import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerMessages, JetStreamClient, StorageType, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { DefenceChange, SharedBan } from '../../core/defence-sync.js';
import type { Logger } from '../../observability/logger.js';

/** a registration change, as it travels */
export interface LocationMessage {
  op: 'set' | 'del';
  /** the stored form of the binding (src/storage/location-types.ts) */
  binding: Record<string, unknown> & { aor: string; contactUri: string };
  replaces?: string;
  cause?: 'unregistered' | 'expired' | 'replaced';
}

export interface Heartbeat {
  node: string;
  started: number;
}

export interface LinkHandlers {
  /** a defence change another node made; `sentAt` its high-resolution send time */
  defence(change: DefenceChange, origin: string, sentAt: number): void;
  /** another node changed a kind of stored object in the shared database */
  reload(kind: string, origin: string, sentAt: number): void;
  location(msg: LocationMessage, origin: string): void;
  heartbeat(hb: Heartbeat, origin: string): void;
  /** the broker is back after an outage (the watches resume by themselves) */
  reconnected(): void;
  disconnected(): void;
}

export interface LinkOptions {
  url: string;
  node: string;
  namespace: string;
  /** the longest ban (ms): the bans bucket forgets keys older than this */
  maxBanMs: number;
  log: Logger;
  handlers: LinkHandlers;
}

interface Envelope<T> {
  o: string;
  /** epoch ms, fractional */
  t: number;
  d: T;
}

type BanValue = { ban: SharedBan } | { unban: string };

/** epoch milliseconds with sub-millisecond precision, comparable between processes on one machine */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

const enc = new TextEncoder();
const dec = new TextDecoder();

/** a KV key for an address: IPv6 colons are not allowed in keys */
export function banKey(address: string): string {
  return address.replace(/:/g, '_').replace(/[^-/_=.a-zA-Z0-9]/g, '=');
}

export class NatsLink {
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: Jsm | null = null;
  private lib: typeof import('@nats-io/jetstream') | null = null;
  private kv: KV | null = null;
  private banWatch: { stop(): void } | null = null;
  private defMessages: ConsumerMessages | null = null;
  /** where each watch stands, so a watch set up again after an outage resumes there */
  private lastBanRevision = 0;
  private lastDefSeq = 0;
  /** changes made while the broker was away, published when it is back */
  private readonly outbox: Array<{ subject: string; data: Uint8Array }> = [];
  private recovering: Promise<void> | null = null;
  private closed = false;
  private readonly subjects: { def: string; reload: string; loc: string; node: string; ban: string };
  private readonly bucket: string;
  private readonly stream: string;
  connected = false;
  readonly stats = { sent: 0, received: 0, queuedWhileDown: 0, outages: 0, recoveries: 0, errors: 0 };

  constructor(private readonly o: LinkOptions) {
    const ns = o.namespace;
    this.subjects = { def: `${ns}.def`, reload: `${ns}.reload`, loc: `${ns}.loc`, node: `${ns}.node`, ban: `${ns}.ban` };
    this.bucket = `${ns}_bans`;
    this.stream = `${ns}_def`;
  }

  /**
   * Connects and keeps trying: a node without its broker starts and defends
   * itself alone. Resolves once the first connection is set up, which
   * start() does not wait for.
   */
  async run(): Promise<void> {
    // the client loads only when a cluster is configured: a node alone stays lighter
    const [{ connect }, jsLib, { Kvm }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('@nats-io/kv')]);
    const { jetstream, jetstreamManager, StorageType } = jsLib;
    this.lib = jsLib;
    const nc = await connect({
      servers: this.o.url,
      name: `palisade-${this.o.node}`,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2000,
      // the server does not send this node's own messages back to it (live bans, registrations,
      // heartbeats): each one would be read, parsed and dropped (JetStream deliveries still come)
      noEcho: true,
    });
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    void this.watchStatus(nc);
    this.jsm = await jetstreamManager(nc);
    await ensureStream(this.jsm, { name: this.stream, subjects: [this.subjects.def, this.subjects.reload], max_age: 24 * 3600 * 1e9, storage: StorageType.File });
    this.js = jetstream(nc);
    this.kv = await new Kvm(this.js).create(this.bucket, { history: 1, ttl: this.o.maxBanMs, storage: StorageType.File });
    nc.subscribe(this.subjects.loc, { callback: (err, m) => (err ? this.fault(err) : this.onLocation(m.data)) });
    nc.subscribe(this.subjects.node, { callback: (err, m) => (err ? this.fault(err) : this.onHeartbeat(m.data)) });
    nc.subscribe(this.subjects.ban, { callback: (err, m) => (err ? this.fault(err) : this.onLiveBan(m.data)) });
    await this.watch();
    this.connected = true;
    await this.flushOutbox();
    this.o.log.info('cluster-connected', { broker: this.o.url, node: this.o.node, namespace: this.o.namespace });
  }

  publishDefence(change: DefenceChange): void {
    if (change.kind === 'ban') {
      // the live path first (core NATS, no store on the way: the other nodes ban within milliseconds),
      // then the bucket (what a node starting or coming back reads)
      this.send(this.subjects.ban, { ban: change.ban } satisfies BanValue, false);
      this.send(`$KV.${this.bucket}.${banKey(change.ban.address)}`, { ban: change.ban } satisfies BanValue, true);
    } else if (change.kind === 'unban') this.send(`$KV.${this.bucket}.${banKey(change.address)}`, { unban: change.address } satisfies BanValue, true);
    else this.send(this.subjects.def, change, true);
  }

  /** a kind of stored object changed here: durable, so a node cut off reads it again when it is back */
  publishReload(kind: string): void {
    this.send(this.subjects.reload, { kind }, true);
  }

  publishLocation(msg: LocationMessage): void {
    // live only: a node cut off reloads the shared database instead
    this.send(this.subjects.loc, msg, false);
  }

  heartbeat(hb: Heartbeat): void {
    this.send(this.subjects.node, hb, false);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopWatches();
    const nc = this.nc;
    this.nc = null;
    if (nc) await nc.drain().catch(() => nc.close());
  }

  /**
   * Durable changes go to JetStream and are acknowledged; one that could not
   * be stored (no broker) waits in the outbox. Live-only messages are simply
   * not sent while the broker is away.
   */
  private send(subject: string, d: unknown, durable: boolean): void {
    const data = enc.encode(JSON.stringify({ o: this.o.node, t: preciseNow(), d } satisfies Envelope<unknown>));
    const js = this.js;
    if (!this.connected || !js || this.recovering) {
      if (durable) {
        this.outbox.push({ subject, data });
        this.stats.queuedWhileDown++;
      }
      return;
    }
    this.stats.sent++;
    if (!durable) {
      this.nc?.publish(subject, data);
      return;
    }
    js.publish(subject, data, { timeout: 2000 }).catch(() => {
      this.outbox.push({ subject, data });
      this.stats.queuedWhileDown++;
    });
  }

  private async flushOutbox(): Promise<void> {
    const js = this.js;
    while (js && this.outbox.length > 0 && !this.closed) {
      const p = this.outbox[0]!;
      await js.publish(p.subject, p.data, { timeout: 2000 });
      this.outbox.shift();
      this.stats.sent++;
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (this.connected) this.stats.outages++;
        this.connected = false;
        this.o.log.warn('cluster-broker-lost', { broker: this.o.url });
        this.o.handlers.disconnected();
      } else if (s.type === 'reconnect') {
        this.recovering ??= this.recover().finally(() => {
          this.recovering = null;
        });
      }
    }
  }

  /**
   * The broker is back (perhaps restarted, its consumers gone): once
   * JetStream answers, publish what waited, then set the watches up again
   * where they stopped.
   */
  private async recover(): Promise<void> {
    this.stopWatches();
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.jsm!.getAccountInfo();
        await this.flushOutbox();
        await this.watch();
        break;
      } catch (err) {
        if (attempt % 20 === 0) this.o.log.warn('cluster-recover-retry', { error: (err as Error).message });
        this.stopWatches();
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    if (this.closed) return;
    this.connected = true;
    this.stats.recoveries++;
    // what was made while recovering
    this.flushOutbox().catch((err: Error) => this.fault(err));
    this.o.log.info('cluster-broker-back', { broker: this.o.url, ban_revision: this.lastBanRevision, defence_seq: this.lastDefSeq });
    this.o.handlers.reconnected();
  }

  private stopWatches(): void {
    this.banWatch?.stop();
    this.banWatch = null;
    this.defMessages?.stop();
    this.defMessages = null;
  }

  private async watch(): Promise<void> {
    const kv = this.kv!;
    // first time: every ban in force; after an outage: what came since
    const resume = this.lastBanRevision;
    const iter = await kv.watch(resume > 0 ? { resumeFromRevision: resume + 1 } : {});
    this.banWatch = iter;
    void (async () => {
      for await (const e of iter) {
        this.lastBanRevision = Math.max(this.lastBanRevision, e.revision);
        if (e.operation !== 'PUT') continue;
        const env = this.parse<BanValue>(e.value);
        const live = e.isUpdate || resume > 0;
        // our own bans come back too: skipped once live, applied while reading the bans in force at start
        if (!env || (env.o === this.o.node && live)) continue;
        const d = env.d;
        if ('ban' in d) this.o.handlers.defence({ kind: 'ban', ban: d.ban }, env.o, env.t);
        else if ('unban' in d && live) this.o.handlers.defence({ kind: 'unban', address: d.unban }, env.o, env.t);
      }
    })().catch((err: Error) => this.fault(err));

    // an ordered consumer from now on, or from the first message not seen
    const consumer = await this.js!.consumers.get(
      this.stream,
      this.lastDefSeq > 0 ? { deliver_policy: this.lib!.DeliverPolicy.StartSequence, opt_start_seq: this.lastDefSeq + 1 } : { deliver_policy: this.lib!.DeliverPolicy.New },
    );
    const messages = await consumer.consume();
    this.defMessages = messages;
    void (async () => {
      for await (const m of messages) {
        this.lastDefSeq = Math.max(this.lastDefSeq, m.seq);
        if (m.subject === this.subjects.reload) {
          const env = this.parse<{ kind: string }>(m.data);
          if (env && env.o !== this.o.node && typeof env.d.kind === 'string') this.o.handlers.reload(env.d.kind, env.o, env.t);
          continue;
        }
        const env = this.parse<DefenceChange>(m.data);
        if (!env || env.o === this.o.node) continue;
        this.o.handlers.defence(env.d, env.o, env.t);
      }
    })().catch((err: Error) => this.fault(err));
  }

  private onLocation(data: Uint8Array): void {
    const env = this.parse<LocationMessage>(data);
    if (env && env.o !== this.o.node) this.o.handlers.location(env.d, env.o);
  }

  private onLiveBan(data: Uint8Array): void {
    const env = this.parse<BanValue>(data);
    if (env && env.o !== this.o.node && 'ban' in env.d) this.o.handlers.defence({ kind: 'ban', ban: env.d.ban }, env.o, env.t);
  }

  private onHeartbeat(data: Uint8Array): void {
    const env = this.parse<Heartbeat>(data);
    if (env && env.o !== this.o.node) this.o.handlers.heartbeat(env.d, env.o);
  }

  private parse<T>(data: Uint8Array): Envelope<T> | null {
    this.stats.received++;
    try {
      const env = JSON.parse(dec.decode(data)) as Envelope<T>;
      return typeof env?.o === 'string' && typeof env.t === 'number' && env.d !== undefined ? env : null;
    } catch {
      this.stats.errors++;
      return null;
    }
  }

  private fault(err: Error): void {
    this.stats.errors++;
    if (!this.closed) this.o.log.warn('cluster-link-error', { error: err.message });
  }
}

type Jsm = Awaited<ReturnType<typeof jetstreamManager>>;

/** creates the stream, or brings an existing one to this configuration */
async function ensureStream(jsm: Jsm, cfg: { name: string; subjects: string[]; max_age: number; storage: StorageType }): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
    await jsm.streams.update(cfg.name, { subjects: cfg.subjects, max_age: cfg.max_age });
  } catch {
    await jsm.streams.add(cfg);
  }
}
