// The cluster module: several Palisade nodes on one PostgreSQL database and
// one NATS broker (docs/operations.md, "Scaling out"). It carries what each
// node's defences decide to every other node — bans, reputation marks,
// learned calling profiles, fraud-list reloads, calls and spend against the
// limits (src/core/defence-sync.ts) — and keeps every node's location
// service holding every registration, so a phone registered through one node
// is called from any. What the API changes in the shared database (routes,
// extensions, queue members: src/core/stored-changes.ts) it announces, and
// the other nodes read that kind again. Without a
// `cluster:` section it does nothing and a node runs alone as before.
//
//   control command `cluster`, status field `cluster`: the node, the broker
//   link, the nodes seen, and how long bans and reputation marks took to
//   arrive here (p50/p99).
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { DefenceChange } from '../../core/defence-sync.js';
import { STORED_KINDS, type StoredKind } from '../../core/stored-changes.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { LogRoot, Logger } from '../../observability/logger.js';
import type { StoredBinding } from '../../storage/location-types.js';
import { toStored, type LocationEvent, type LocationService } from '../../sip/ua/location.js';
import { readCluster, type ClusterConfig } from './read-cluster.js';
import { NatsLink, preciseNow, type Heartbeat, type LocationMessage } from './nats-link.js';
import { LatencyRecord } from './latency-record.js';
import { setSystemName } from '../../core/system-name.js';
import type { CallEvent } from '../../core/call-events.js';
import type { CdrInput } from '../../core/cdr.js';
import type { Database } from '../../storage/database.js';
import { CallJournal, CLUSTER_MIGRATIONS } from './call-journal.js';

/** What the cluster module needs of the running server (the host hands in a superset). */
export interface ClusterServices {
  cfg: { sections: Readonly<Record<string, unknown>>; security: { ids: { ban: { max: number } } } };
  logs: LogRoot;
  defences: { sync: { carry(send: (c: DefenceChange) => void): void; applyRemote(c: DefenceChange): void } };
  /** stored objects the API changed (src/core/stored-changes.ts) */
  storedChanges: { carry(send: (k: StoredKind) => void): void; applyRemote(k: StoredKind): Promise<number> };
  location: Pick<LocationService, 'on' | 'adopt' | 'drop' | 'resync'>;
  storage: Pick<Database, 'migrateModule' | 'kysely'> & { cdr: { insert(rec: CdrInput): Promise<unknown> } };
  callEvents: { onCall(fn: (e: CallEvent) => void, o?: { everyWorker?: boolean }): () => void };
}

interface Member {
  started: number;
  lastSeen: number;
  /** counted as gone (no heartbeat for node_timeout): its running calls spend no more */
  gone?: boolean;
}

class ClusterNode {
  readonly link: NatsLink;
  readonly banLatency = new LatencyRecord();
  readonly markLatency = new LatencyRecord();
  private readonly members = new Map<string, Member>();
  /** the end time of the last ban adopted per address: a ban arrives live and again through the bucket */
  private readonly adopted = new Map<string, number>();
  private readonly started = Date.now();
  private beat?: NodeJS.Timeout;
  private unlisten?: () => void;
  private unlistenCalls?: () => void;
  journal?: CallJournal;
  readonly counts = { bansIn: 0, unbansIn: 0, marksIn: 0, otherIn: 0, bindingsIn: 0, bindingsOut: 0, resyncs: 0, reloadsIn: 0 };
  /** per kind: a reload running, and whether another notice came meanwhile (read once more after it) */
  private readonly reloading = new Map<StoredKind, { again: boolean }>();

  constructor(
    readonly cfg: ClusterConfig,
    private readonly s: ClusterServices,
    private readonly log: Logger,
  ) {
    this.link = new NatsLink({
      url: cfg.broker,
      node: cfg.node,
      namespace: cfg.namespace,
      maxBanMs: Math.max(3600, s.cfg.security.ids.ban.max) * 1000,
      log,
      handlers: {
        defence: (c, origin, sentAt) => this.defenceIn(c, origin, sentAt),
        reload: (kind, origin, sentAt) => this.reloadIn(kind, origin, sentAt),
        location: (m) => this.locationIn(m),
        heartbeat: (hb, origin) => this.heartbeatIn(hb, origin),
        reconnected: () => void this.resync('broker-back'),
        disconnected: () => {},
      },
    });
  }

  /** the calls this node has up, noted in the shared database; those its previous run left are closed first */
  async startJournal(): Promise<void> {
    await this.s.storage.migrateModule('cluster', CLUSTER_MIGRATIONS);
    const journal = new CallJournal({
      db: this.s.storage.kysely as never,
      node: this.cfg.node,
      started: this.started,
      writeCdr: (rec) => this.s.storage.cdr.insert(rec),
      log: this.log,
    });
    this.journal = journal;
    // every worker's calls (sip.workers > 1: this module runs in worker 0, the others' calls come as remote)
    this.unlistenCalls = this.s.callEvents.onCall((e) => journal.onCall(e), { everyWorker: true });
    await journal.start();
  }

  start(): void {
    this.s.defences.sync.carry((c) => this.link.publishDefence(c));
    this.s.storedChanges.carry((k) => this.link.publishReload(k));
    this.unlisten = this.s.location.on((e) => this.locationOut(e));
    void this.link
      .run()
      .then(() => this.resync('connected'))
      .catch((err: Error) => this.log.error('cluster-connect-failed', { broker: this.cfg.broker, error: err.message }));
    this.beat = setInterval(() => {
      this.link.heartbeat({ node: this.cfg.node, started: this.started } satisfies Heartbeat);
      this.checkMembers();
    }, 1000);
    this.beat.unref();
  }

  async stop(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    this.unlisten?.();
    this.unlistenCalls?.();
    await this.journal?.stop();
    await this.link.close();
  }

  private heartbeatIn(hb: Heartbeat, origin: string): void {
    const m = this.members.get(origin);
    // started again (a crash and restart within node_timeout): what it had running is over
    if (m && m.started !== hb.started && !m.gone) this.nodeGone(origin, 'restarted');
    this.members.set(origin, { started: hb.started, lastSeen: Date.now() });
  }

  private checkMembers(): void {
    const now = Date.now();
    for (const [name, m] of this.members) {
      if (!m.gone && now - m.lastSeen > this.cfg.nodeTimeout * 1000) {
        m.gone = true;
        this.nodeGone(name, 'silent');
      }
    }
  }

  /** a node's open priced calls stop counting against the spend limits here (applied locally, not published) */
  private nodeGone(name: string, why: string): void {
    this.log.info('cluster-node-gone', { node: name, why });
    this.s.defences.sync.applyRemote({ kind: 'node-gone', node: name });
  }

  private defenceIn(c: DefenceChange, origin: string, sentAt: number): void {
    const ms = preciseNow() - sentAt;
    if (c.kind === 'ban') {
      if (this.adopted.get(c.ban.address) === c.ban.until) return;
      if (this.adopted.size > 100_000) this.adopted.clear();
      this.adopted.set(c.ban.address, c.ban.until);
    } else if (c.kind === 'unban') this.adopted.delete(c.address);
    this.s.defences.sync.applyRemote(c);
    // measured after the change is in force here: the ban is in the packet gate's map
    if (c.kind === 'ban') {
      this.counts.bansIn++;
      // a ban read back at start is history, not propagation
      if (ms < 60_000) this.banLatency.add(ms);
      this.log.info('cluster-ban-adopted', { address: c.ban.address, from: origin, ms: Math.round(ms * 1000) / 1000 });
    } else if (c.kind === 'unban') this.counts.unbansIn++;
    else if (c.kind === 'reputation') {
      this.counts.marksIn++;
      this.markLatency.add(ms);
    } else this.counts.otherIn++;
  }

  /** another node changed a kind of stored object: read it again (notices that come during a reload make one more) */
  private reloadIn(kind: string, origin: string, sentAt: number): void {
    if (!(STORED_KINDS as readonly string[]).includes(kind)) {
      this.log.warn('cluster-reload-unknown', { kind, from: origin });
      return;
    }
    const k = kind as StoredKind;
    const running = this.reloading.get(k);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.reloading.set(k, state);
    const run = async (): Promise<void> => {
      do {
        state.again = false;
        try {
          const readers = await this.s.storedChanges.applyRemote(k);
          this.counts.reloadsIn++;
          this.log.info('cluster-reloaded', { kind: k, from: origin, readers, ms: Math.round((preciseNow() - sentAt) * 1000) / 1000 });
        } catch (err) {
          this.log.warn('cluster-reload-failed', { kind: k, from: origin, error: (err as Error).message });
        }
      } while (state.again);
      this.reloading.delete(k);
    };
    void run();
  }

  private locationOut(e: LocationEvent): void {
    // this worker's changes, and those another worker of this node made (sip.workers > 1: they reach worker 0, which runs this module)
    if (e.type === 'reachability' || (e.remote && e.from !== 'workers')) return;
    // every node expires bindings by itself
    if (e.type === 'removed' && e.cause === 'expired') return;
    const msg: LocationMessage =
      e.type === 'removed'
        ? { op: 'del', binding: { aor: e.binding.aor, contactUri: e.binding.contactUri }, cause: e.cause }
        : { op: 'set', binding: { ...toStored(e.binding) }, replaces: e.type === 'updated' ? e.previousContact : undefined };
    this.counts.bindingsOut++;
    this.link.publishLocation(msg);
  }

  private locationIn(m: LocationMessage): void {
    this.counts.bindingsIn++;
    if (m.op === 'set') this.s.location.adopt(m.binding as unknown as StoredBinding, m.replaces);
    else this.s.location.drop(m.binding.aor, m.binding.contactUri, m.cause ?? 'unregistered');
  }

  /** registrations made elsewhere while this node was not listening: from the shared database */
  private async resync(why: string): Promise<void> {
    // the other nodes commit a registration within about 50 ms of answering it
    await new Promise((r) => setTimeout(r, 200));
    try {
      const r = await this.s.location.resync();
      this.counts.resyncs++;
      this.log.info('cluster-location-resync', { why, ...r });
    } catch (err) {
      this.log.warn('cluster-location-resync-failed', { why, error: (err as Error).message });
    }
  }

  status(): Record<string, unknown> {
    const now = Date.now();
    const nodes = [...this.members]
      .filter(([, m]) => now - m.lastSeen <= this.cfg.nodeTimeout * 1000)
      .map(([name]) => name)
      .sort();
    return {
      node: this.cfg.node,
      broker: this.cfg.broker,
      namespace: this.cfg.namespace,
      connected: this.link.connected,
      nodes: [this.cfg.node, ...nodes].sort(),
      link: this.link.stats,
      received: this.counts,
      calls_journal: this.journal?.stats,
      ban_propagation: this.banLatency.summary(),
      reputation_propagation: this.markLatency.summary(),
    };
  }
}

export function clusterModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader, PalisadeConfig>, ClusterServices> {
  let node: ClusterNode | null = null;
  return {
    name: 'cluster',
    declare(d) {
      d.configSection('cluster', (section, config) => readCluster(section, config));
      d.status('cluster', () => node?.status() ?? { node: null });
      d.command('cluster', (args) => {
        if (!node) throw new Error('this node runs alone: there is no cluster section in its configuration');
        if (args.reset === true) {
          node.banLatency.reset();
          node.markLatency.reset();
        }
        return node.status();
      });
    },
    async start(s) {
      const cfg = s.cfg.sections.cluster as ClusterConfig | null | undefined;
      if (!cfg) return;
      // CDR uniqueids "NODE-EPOCH.SEQ": unique across the nodes writing to one database
      setSystemName(cfg.node);
      node = new ClusterNode(cfg, s, s.logs.get('cluster'));
      node.start();
      // without the database the node still runs; its calls are then not noted
      const log = s.logs.get('cluster');
      await node.startJournal().catch((err: Error) => log.error('cluster-calls-journal-failed', { error: err.message }));
    },
    async stop() {
      await node?.stop();
      node = null;
      setSystemName('');
    },
  };
}
