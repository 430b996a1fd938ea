// The queues at run time: the queues of queues.conf with their members,
// dynamic members (added, removed, paused with a reason; kept in the
// database when persistentmembers = yes), the dispatcher, the queue_log and
// the live statistics. Callers are handled by queue-caller.ts (Queue()).
import type { Kysely } from 'kysely';
import type { Logger } from '../../observability/logger.js';
import type { QueueDef, QueuesConf } from './queues-conf.js';
import { Agent, Dispatcher, QueueMember, RunningQueue, agentKey, keyOfIface, type DeviceStates, type MemberStatus } from './queue-state.js';
import type { QueueLog } from './queue-log.js';

export interface QueueServiceDeps {
  conf: QueuesConf;
  log: QueueLog;
  devices: DeviceStates;
  logger: Logger;
  // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
  db: Kysely<any> | null;
  now?: () => number;
  random?: () => number;
}

export type MemberResult = 'ok' | 'nosuchqueue' | 'exists' | 'notfound' | 'notdynamic' | 'badinterface';

export interface MemberView {
  interface: string;
  name: string;
  penalty: number;
  dynamic: boolean;
  status: MemberStatus;
  paused: boolean;
  reason: string;
  calls: number;
  talkSeconds: number;
  missed: number;
  lastCall: number;
}

const IFACE_RE = /^([A-Za-z][A-Za-z0-9]*)\/([A-Za-z0-9_.@+-]{1,80})$/;

/**
 * A change of the members made here, as the other workers of sip.workers > 1
 * apply it (applyShared): they hold the same members, so whichever worker
 * runs a queue's calls rings the same agents.
 */
export type MemberOp =
  | { op: 'add'; queue: string; iface: string; penalty: number; name: string; paused: boolean; reason: string }
  | { op: 'remove'; queue: string; iface: string }
  | { op: 'pause'; queue: string; iface: string; paused: boolean; reason: string }
  | { op: 'penalty'; queue: string; iface: string; penalty: number };

/** a dynamic member's settings as AddQueueMember() and the API give them */
export interface MemberOptions {
  penalty?: number;
  name?: string;
  paused?: boolean;
  callid?: string;
  reason?: string;
}

export class QueueService {
  readonly queues = new Map<string, RunningQueue>();
  readonly agents = new Map<string, Agent>();
  readonly dispatcher: Dispatcher;
  readonly now: () => number;
  private readonly wrapTimers = new Map<string, NodeJS.Timeout>();
  private unsubscribe: (() => void) | null = null;
  /** member rows are written one after the other, in the order of the changes */
  private memberWrites: Promise<void> = Promise.resolve();
  private stopped = false;
  /** several workers: each member change made here, for the others */
  onMemberOp: ((op: MemberOp) => void) | null = null;

  constructor(readonly deps: QueueServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.dispatcher = new Dispatcher(deps.devices, this.now, deps.random);
    for (const def of deps.conf.queues) {
      const q = new RunningQueue(def);
      for (const m of def.members) q.members.push(new QueueMember(m.iface, m.name, m.penalty, false, this.agent(m.tech, m.resource), m.ringinuse, m.wrapupSec));
      q.renumber();
      this.queues.set(def.name, q);
    }
    this.unsubscribe = deps.devices.onChange(() => this.dispatchAll());
  }

  get log(): QueueLog {
    return this.deps.log;
  }

  /** loads persistent dynamic members; logs QUEUESTART as Asterisk does at load */
  async start(): Promise<void> {
    this.deps.log.write('NONE', 'NONE', 'NONE', 'QUEUESTART', '');
    await this.loadMembers(false);
  }

  /**
   * the dynamic members as the database holds them (another node of a
   * cluster changed them through its API): added, taken out, paused and
   * penalised as stored; false without persistentmembers (nothing is stored)
   */
  async reloadMembers(): Promise<boolean> {
    if (!this.deps.db || !this.deps.conf.general.persistentmembers) return false;
    // this node's own writes first, or the read could miss them
    await this.memberWrites;
    await this.loadMembers(true);
    this.dispatchAll();
    return true;
  }

  private async loadMembers(sync: boolean): Promise<void> {
    if (!this.deps.db || !this.deps.conf.general.persistentmembers) return;
    const rows = (await this.deps.db.selectFrom('queue_members').selectAll().execute()) as Array<{
      queuename: string;
      interface: string;
      membername: string;
      penalty: number;
      paused: number;
      reason: string;
    }>;
    if (sync) {
      const stored = new Set(rows.map((r) => `${r.queuename}|${r.interface}`));
      for (const q of this.queues.values()) {
        const gone = q.members.filter((m) => m.dynamic && !stored.has(`${q.def.name}|${m.iface}`));
        if (gone.length === 0) continue;
        q.members.splice(0, q.members.length, ...q.members.filter((m) => !gone.includes(m)));
        q.renumber();
      }
    }
    for (const r of rows) {
      const q = this.queues.get(r.queuename);
      const m = IFACE_RE.exec(r.interface);
      if (!q || !m) continue;
      const paused = Number(r.paused) === 1;
      const have = q.member(r.interface);
      if (have) {
        if (!sync || !have.dynamic) continue;
        if (have.paused !== paused) have.pausedAtMs = paused ? this.now() : 0;
        have.paused = paused;
        have.pausedReason = r.reason;
        have.penalty = Number(r.penalty);
        continue;
      }
      const mem = new QueueMember(r.interface, r.membername, Number(r.penalty), true, this.agent(m[1]!, m[2]!), null, null);
      mem.paused = paused;
      mem.pausedReason = r.reason;
      q.members.push(mem);
      q.renumber();
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.wrapTimers.values()) clearTimeout(t);
    this.wrapTimers.clear();
  }

  agent(tech: string, resource: string): Agent {
    const k = agentKey(tech, resource);
    let a = this.agents.get(k);
    if (!a) {
      a = new Agent(k, tech, resource);
      this.agents.set(k, a);
    }
    return a;
  }

  dispatchAll(): void {
    for (const q of this.queues.values()) this.dispatch(q);
  }

  /** runs the dispatcher; re-runs it when the next wrap-up ends */
  dispatch(q: RunningQueue): void {
    if (this.stopped) return;
    const next = this.dispatcher.dispatch(q);
    const old = this.wrapTimers.get(q.def.name);
    if (old) clearTimeout(old);
    this.wrapTimers.delete(q.def.name);
    if (next > 0 && q.entries.length > 0) {
      const t = setTimeout(() => this.dispatch(q), Math.max(1, next - this.now() + 5));
      t.unref();
      this.wrapTimers.set(q.def.name, t);
    }
  }

  // ----------------------------------------------------------- members

  addMember(queue: string, iface: string, o: MemberOptions): MemberResult {
    return this.add(true, queue, iface, o);
  }

  removeMember(queue: string, iface: string, callid = 'MANAGER'): MemberResult {
    return this.remove(true, queue, iface, callid);
  }

  /** pause or unpause in one queue, or in every queue the interface serves (queue ''); false when not a member anywhere */
  setPaused(queue: string, iface: string, paused: boolean, reason = ''): boolean {
    return this.pause(true, queue, iface, paused, reason);
  }

  setPenalty(queue: string, iface: string, penalty: number): boolean {
    return this.penalty(true, queue, iface, penalty);
  }

  /** another worker's member change (sip.workers > 1): held here too; its queue_log line and row were written there, and it is not shared again */
  applyShared(op: MemberOp): void {
    if (op.op === 'add') this.add(false, op.queue, op.iface, { penalty: op.penalty, name: op.name, paused: op.paused, reason: op.reason });
    else if (op.op === 'remove') this.remove(false, op.queue, op.iface, 'MANAGER');
    else if (op.op === 'pause') this.pause(false, op.queue, op.iface, op.paused, op.reason);
    else this.penalty(false, op.queue, op.iface, op.penalty);
  }

  // `own`: a change made in this worker (written to the queue_log and the member table, and shared), not another worker's

  private add(own: boolean, queue: string, iface: string, o: MemberOptions): MemberResult {
    const q = this.queues.get(queue);
    if (!q) return 'nosuchqueue';
    const m = IFACE_RE.exec(iface);
    if (!m) return 'badinterface';
    if (q.member(iface)) return 'exists';
    const mem = new QueueMember(iface, o.name || iface, o.penalty ?? 0, true, this.agent(m[1]!, m[2]!), null, null);
    if (o.paused) {
      mem.paused = true;
      mem.pausedReason = o.reason ?? '';
      mem.pausedAtMs = this.now();
    }
    q.members.push(mem);
    q.renumber();
    this.qlog(own, queue, o.callid ?? 'MANAGER', mem.name, 'ADDMEMBER', o.paused ? 'PAUSED' : '');
    this.persist(own, q, mem);
    this.shareOp(own, { op: 'add', queue, iface, penalty: mem.penalty, name: mem.name, paused: mem.paused, reason: mem.pausedReason });
    this.dispatch(q);
    return 'ok';
  }

  private remove(own: boolean, queue: string, iface: string, callid: string): MemberResult {
    const q = this.queues.get(queue);
    if (!q) return 'nosuchqueue';
    const mem = q.member(iface);
    if (!mem) return 'notfound';
    if (!mem.dynamic) return 'notdynamic';
    q.members.splice(q.members.indexOf(mem), 1);
    q.renumber();
    this.qlog(own, queue, callid, mem.name, 'REMOVEMEMBER', '');
    this.shareOp(own, { op: 'remove', queue, iface });
    const db = this.deps.db;
    if (db && this.deps.conf.general.persistentmembers && own) {
      this.writeMember(queue, async () => {
        await db.deleteFrom('queue_members').where('queuename', '=', queue).where('interface', '=', mem.iface).execute();
      });
    }
    return 'ok';
  }

  private pause(own: boolean, queue: string, iface: string, paused: boolean, reason: string): boolean {
    const targets = queue ? [this.queues.get(queue)].filter((q): q is RunningQueue => !!q) : [...this.queues.values()];
    let found = 0;
    for (const q of targets) {
      const mem = q.member(iface);
      if (!mem) continue;
      if (++found === 1 && !queue) this.qlog(own, 'NONE', 'NONE', mem.name, paused ? 'PAUSEALL' : 'UNPAUSEALL', reason);
      mem.paused = paused;
      mem.pausedReason = paused ? reason : '';
      mem.pausedAtMs = paused ? this.now() : 0;
      this.qlog(own, q.def.name, 'NONE', mem.name, paused ? 'PAUSE' : 'UNPAUSE', reason);
      this.shareOp(own, { op: 'pause', queue: q.def.name, iface, paused, reason });
      if (mem.dynamic) this.persist(own, q, mem);
      if (!paused) this.dispatch(q);
    }
    return found > 0;
  }

  private penalty(own: boolean, queue: string, iface: string, penalty: number): boolean {
    const q = this.queues.get(queue);
    const mem = q?.member(iface);
    if (!q || !mem) return false;
    mem.penalty = penalty;
    this.qlog(own, queue, 'NONE', iface, 'PENALTY', penalty);
    this.shareOp(own, { op: 'penalty', queue, iface, penalty });
    this.dispatch(q);
    return true;
  }

  private qlog(own: boolean, queue: string, callid: string, agent: string, event: string, data: string | number): void {
    if (own) this.deps.log.write(queue, callid, agent, event, data);
  }

  private shareOp(own: boolean, op: MemberOp): void {
    if (own) this.onMemberOp?.(op);
  }

  private persist(own: boolean, q: RunningQueue, mem: QueueMember): void {
    const db = this.deps.db;
    if (!own || !db || !this.deps.conf.general.persistentmembers || !mem.dynamic) return;
    const row = { queuename: q.def.name, interface: mem.iface, membername: mem.name, penalty: mem.penalty, paused: mem.paused ? 1 : 0, reason: mem.pausedReason };
    this.writeMember(q.def.name, async () => {
      await db.deleteFrom('queue_members').where('queuename', '=', row.queuename).where('interface', '=', row.interface).execute();
      await db.insertInto('queue_members').values(row).execute();
    });
  }

  private writeMember(queue: string, write: () => Promise<void>): void {
    this.memberWrites = this.memberWrites.then(write).catch((err: Error) => this.deps.logger.warn('queue-member-store-failed', { queue, error: err.message }));
  }

  /** resolves when every member change so far is stored */
  flushMembers(): Promise<void> {
    return this.memberWrites;
  }

  // ------------------------------------------------------------- views

  memberView(q: RunningQueue, m: QueueMember): MemberView {
    return {
      interface: m.iface,
      name: m.name,
      penalty: m.penalty,
      dynamic: m.dynamic,
      status: this.dispatcher.status(q, m),
      paused: m.paused,
      reason: m.pausedReason,
      calls: m.calls,
      talkSeconds: Math.round(m.talkMs / 1000),
      missed: m.missed,
      lastCall: Math.floor(m.ownLastCallMs / 1000),
    };
  }

  /** `queue show`: every queue, its members and waiting callers */
  status(name?: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const q of this.queues.values()) {
      if (name && q.def.name !== name) continue;
      const now = this.now();
      out.push({
        queue: q.def.name,
        strategy: q.def.strategy,
        waiting: q.entries.length,
        ...this.liveStats(q),
        members: q.members.map((m) => this.memberView(q, m)),
        callers: q.entries.map((e, i) => ({
          position: i + 1,
          channel: e.call.channel.name,
          callerid: e.call.channel.callerIdNum,
          waitSeconds: Math.floor((now - e.startMs) / 1000),
          priority: e.prio,
          state: e.state,
        })),
      });
    }
    return out;
  }

  /** Asterisk's QUEUE_* figures since start: answered, abandoned, service level, hold and talk times */
  liveStats(q: RunningQueue): Record<string, number> {
    const s = q.stats;
    const now = this.now();
    const waitingLongest = q.entries.reduce((mx, e) => Math.max(mx, Math.floor((now - e.startMs) / 1000)), 0);
    return {
      answered: s.completed,
      abandoned: s.abandoned,
      timeouts: s.timeouts,
      serviceLevelSeconds: q.def.servicelevel,
      serviceLevelPercent: s.completed === 0 ? 0 : Math.round((1000 * s.completedInSl) / s.completed) / 10,
      avgHoldSeconds: s.completed === 0 ? 0 : Math.round(s.holdTotalS / s.completed),
      longestHoldSeconds: s.longestHoldS,
      longestWaitingNowSeconds: waitingLongest,
      avgTalkSeconds: s.completed === 0 ? 0 : Math.round(s.talkTotalS / s.completed),
    };
  }

  def(name: string): QueueDef | undefined {
    return this.queues.get(name)?.def;
  }

  static keyOf(iface: string): string {
    return keyOfIface(iface);
  }
}
