// The live state of the queues: members (static from queues.conf, dynamic
// from AddQueueMember/commands), the agents behind them (one per interface,
// shared between the queues it serves: busy, ringing, wrap-up, last call),
// the callers waiting, and the dispatcher that hands free members to
// waiting callers in order (priority, then arrival), as app_queue.c's
// is_our_turn() with autofill: as many callers ring at once as there are
// free members.
import type { CallState } from '../../dialplan/app-types.js';
import type { EmptyCondition, QueueDef } from './queues-conf.js';
import { pickMembers, type Candidate } from './strategy.js';

/** what the PBX knows of a member's phone (the core's call and device-state events) */
export type DeviceState = 'idle' | 'ringing' | 'inuse' | 'unavailable' | 'unknown';

export interface DeviceStates {
  state(tech: string, resource: string): DeviceState;
  /** called when any device changes state (a member may have become free) */
  onChange(fn: () => void): () => void;
}

/** SIP/1001 and PJSIP/1001 are the same phone here */
export function agentKey(tech: string, resource: string): string {
  const t = tech.toUpperCase();
  return `${t === 'PJSIP' ? 'SIP' : t}/${resource}`;
}

/** one phone behind one or more queue memberships */
export class Agent {
  /** calls this module has bridged to it now */
  inCall = 0;
  /** callers ringing it now */
  ringing = 0;
  /** when its last queue call ended (ms; 0 = never) */
  lastCallMs = 0;
  /** not rung before this (ms) */
  wrapupUntilMs = 0;
  constructor(
    readonly key: string,
    readonly tech: string,
    readonly resource: string,
  ) {}
}

export class QueueMember implements Candidate {
  pos = 0;
  paused = false;
  pausedReason = '';
  pausedAtMs = 0;
  calls = 0;
  talkMs = 0;
  missed = 0;
  /** last call in this queue (leastrecent without shared_lastcall) */
  ownLastCallMs = 0;
  constructor(
    readonly iface: string,
    readonly name: string,
    public penalty: number,
    readonly dynamic: boolean,
    readonly agent: Agent,
    readonly ringinuse: boolean | null,
    readonly wrapupSec: number | null,
  ) {}

  lastCallMs = 0;
}

export type EntryState = 'wanting' | 'ringing' | 'retry';

let entrySeq = 0;

export class QueueEntry {
  readonly seq = ++entrySeq;
  state: EntryState = 'wanting';
  /** members granted by the dispatcher, to ring now */
  grant: QueueMember[] | null = null;
  /** members tried (busy, unavailable) in this round */
  readonly tried = new Set<QueueMember>();
  /** linear: the next position to try */
  linpos = 0;
  retryUntilMs = 0;
  /** original position when joining */
  opos = 0;
  private wakeFn: (() => void) | null = null;
  constructor(
    readonly call: CallState,
    readonly prio: number,
    readonly startMs: number,
    readonly minPenalty: number | null,
    readonly maxPenalty: number | null,
  ) {}

  /** resolves on wake() or after ms (0: no timer) */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = ms > 0 ? setTimeout(() => this.wake(), ms) : null;
      this.wakeFn = () => {
        if (t) clearTimeout(t);
        this.wakeFn = null;
        resolve();
      };
    });
  }

  wake(): void {
    this.wakeFn?.();
  }
}

export interface QueueStatsLive {
  completed: number;
  abandoned: number;
  timeouts: number;
  /** answered within the service level */
  completedInSl: number;
  holdTotalS: number;
  longestHoldS: number;
  talkTotalS: number;
}

export class RunningQueue {
  readonly members: QueueMember[] = [];
  readonly entries: QueueEntry[] = [];
  rrpos = 0;
  readonly stats: QueueStatsLive = { completed: 0, abandoned: 0, timeouts: 0, completedInSl: 0, holdTotalS: 0, longestHoldS: 0, talkTotalS: 0 };
  constructor(public def: QueueDef) {}

  member(iface: string): QueueMember | undefined {
    const k = keyOfIface(iface);
    return this.members.find((m) => keyOfIface(m.iface) === k);
  }

  renumber(): void {
    this.members.forEach((m, i) => {
      m.pos = i;
    });
  }

  /** 1-based position of a waiting caller */
  position(e: QueueEntry): number {
    return this.entries.indexOf(e) + 1;
  }

  insert(e: QueueEntry): void {
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.prio < e.prio) i--;
    this.entries.splice(i, 0, e);
    e.opos = i + 1;
  }

  remove(e: QueueEntry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }
}

export function keyOfIface(iface: string): string {
  const slash = iface.indexOf('/');
  return slash < 0 ? iface.toUpperCase() : agentKey(iface.slice(0, slash), iface.slice(slash + 1));
}

export type MemberStatus = 'free' | 'paused' | 'inuse' | 'ringing' | 'unavailable' | 'wrapup';

export class Dispatcher {
  constructor(
    private readonly devices: DeviceStates,
    private readonly now: () => number,
    private readonly random: () => number = Math.random,
  ) {}

  status(q: RunningQueue, m: QueueMember): MemberStatus {
    if (m.paused) return 'paused';
    const a = m.agent;
    const dev = this.devices.state(a.tech, a.resource);
    if (dev === 'unavailable') return 'unavailable';
    const ringinuse = m.ringinuse ?? q.def.ringinuse;
    if (a.inCall > 0 || (!ringinuse && dev === 'inuse')) return 'inuse';
    if (a.ringing > 0 || (!ringinuse && dev === 'ringing')) return 'ringing';
    if (this.now() < this.wrapupEnd(q, m)) return 'wrapup';
    return 'free';
  }

  /** when this member's wrap-up ends (ms) */
  wrapupEnd(q: RunningQueue, m: QueueMember): number {
    const wrap = (m.wrapupSec ?? q.def.wrapupSec) * 1000;
    return m.agent.lastCallMs > 0 ? Math.max(m.agent.wrapupUntilMs, m.agent.lastCallMs + wrap) : 0;
  }

  /** app_queue.c get_member_status(): true when no member is usable under these conditions (join/leave when empty) */
  empty(q: RunningQueue, conds: ReadonlySet<EmptyCondition>, e: { minPenalty: number | null; maxPenalty: number | null } | null): boolean {
    if (conds.size === 0) return false;
    if (q.members.length === 0) return true;
    for (const m of q.members) {
      if (conds.has('penalty') && e && ((e.maxPenalty !== null && m.penalty > e.maxPenalty) || (e.minPenalty !== null && m.penalty < e.minPenalty))) continue;
      const s = this.status(q, m);
      if (s === 'paused' && conds.has('paused')) continue;
      if (s === 'unavailable' && (conds.has('unavailable') || conds.has('invalid') || conds.has('unknown'))) continue;
      if (s === 'inuse' && conds.has('inuse')) continue;
      if (s === 'ringing' && conds.has('ringing')) continue;
      if (s === 'wrapup' && conds.has('wrapup')) continue;
      return false;
    }
    return true;
  }

  /** hands free members to waiting callers, in order; returns when the next wrap-up ends (ms) or 0 */
  dispatch(q: RunningQueue): number {
    let nextWrapEnd = 0;
    const free: QueueMember[] = [];
    for (const m of q.members) {
      const s = this.status(q, m);
      if (s === 'free') free.push(m);
      else if (s === 'wrapup') {
        const end = this.wrapupEnd(q, m);
        if (nextWrapEnd === 0 || end < nextWrapEnd) nextWrapEnd = end;
      }
    }
    for (const e of q.entries) {
      if (free.length === 0) break;
      if (e.state === 'wanting' && e.grant === null) {
        const cands = free.filter((m) => !e.tried.has(m));
        const chosen = pickMembers(cands, {
          strategy: q.def.strategy,
          memberCount: q.members.length,
          penaltymemberslimit: q.def.penaltymemberslimit,
          minPenalty: e.minPenalty,
          maxPenalty: e.maxPenalty,
          nextPos: q.def.strategy === 'linear' ? e.linpos : q.rrpos,
          nowMs: this.now(),
          random: this.random,
        });
        if (chosen.length === 0) {
          if (e.tried.size > 0) {
            // every free member was tried this round: the round is over
            e.state = 'retry';
            e.wake();
          }
        } else {
          for (const m of chosen) {
            m.agent.ringing++;
            free.splice(free.indexOf(m), 1);
          }
          e.grant = chosen;
          e.state = 'ringing';
          e.wake();
        }
      }
      if (!q.def.autofill) break;
    }
    return nextWrapEnd;
  }
}
