// One caller in a queue, as app_queue.c queue_exec() runs it: join (maxlen,
// joinempty), ENTERQUEUE, music on hold (or ringing with the r option),
// position and hold-time announcements, and rounds of ringing the members
// the dispatcher hands over (queue-state.ts) for `timeout` seconds each,
// `retry` seconds apart, until a member answers (CONNECT, then
// COMPLETECALLER or COMPLETEAGENT when the bridged call ends), the caller
// hangs up (ABANDON), the maximum wait passes (EXITWITHTIMEOUT), the queue
// empties (EXITEMPTY) or the caller presses a key that the queue's context
// has (EXITWITHKEY). Sets QUEUESTATUS as Asterisk does.
import type { DialTarget } from '../../channel/channel.js';
import type { CallState, AppOutcome } from '../../dialplan/app-types.js';
import type { QueueService } from './queue-service.js';
import { QueueEntry, type QueueMember, type RunningQueue } from './queue-state.js';

export interface QueueCallOptions {
  /** Queue()'s options: c continue after the agent hangs up, r ring instead of music, n no retries */
  options: string;
  /** Queue()'s timeout argument: the longest wait, in seconds (0 = none) */
  maxWaitSec: number;
  url: string;
}

let connectSeq = 0;

function intVar(call: CallState, name: string): number | null {
  const v = call.vars.get(name);
  return v !== undefined && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}

/** music on hold that can be stopped, and the key a caller pressed during it */
class Hold {
  private ctl: AbortController | null = null;
  private running: Promise<void> | null = null;
  key: string | null = null;
  constructor(
    private readonly call: CallState,
    private readonly cls: string,
    private readonly keys: string,
    private readonly onKey: () => void,
  ) {}

  start(): void {
    if (this.ctl || this.call.channel.hungUp) return;
    const ctl = new AbortController();
    this.ctl = ctl;
    this.running = (async () => {
      while (!ctl.signal.aborted && !this.call.channel.hungUp) {
        const r = await this.call.media.musicOnHold(this.cls, 0, { signal: ctl.signal, interruptDigits: this.keys });
        if (r.digit !== undefined) {
          this.key = r.digit;
          this.onKey();
          return;
        }
        if (!r.completed) return;
      }
    })();
  }

  async stop(): Promise<void> {
    this.ctl?.abort();
    this.ctl = null;
    await this.running;
    this.running = null;
  }
}

export async function runQueueCaller(svc: QueueService, call: CallState, q: RunningQueue, o: QueueCallOptions): Promise<AppOutcome> {
  const ch = call.channel;
  const def = q.def;
  const log = svc.log;
  const entry = new QueueEntry(call, intVar(call, 'QUEUE_PRIO') ?? 0, svc.now(), intVar(call, 'QUEUE_MIN_PENALTY'), intVar(call, 'QUEUE_MAX_PENALTY'));
  const status = (s: string) => call.vars.set('QUEUESTATUS', s);
  if (def.maxlen > 0 && q.entries.length >= def.maxlen) {
    status('FULL');
    return;
  }
  if (svc.dispatcher.empty(q, def.joinempty, entry)) {
    status('JOINEMPTY');
    return;
  }
  q.insert(entry);
  log.write(def.name, ch.id, 'NONE', 'ENTERQUEUE', o.url, ch.callerIdNum, entry.opos);
  call.log.info('queue.enter', { queue: def.name, channel: ch.name, position: entry.opos });
  const ringMode = o.options.includes('r');
  const exitKeys = def.context ? '0123456789*#' : '';
  const hold = new Hold(call, def.musicclass, exitKeys, () => entry.wake());
  if (ringMode) await ch.ring();
  else {
    if (!ch.answered) await ch.answer();
  }
  const deadline = o.maxWaitSec > 0 ? entry.startMs + o.maxWaitSec * 1000 : 0;
  const secs = () => Math.floor((svc.now() - entry.startMs) / 1000);
  const leave = (event: string, ...data: Array<string | number>) => {
    q.remove(entry);
    if (event) log.write(def.name, ch.id, 'NONE', event, ...data);
    svc.dispatch(q);
  };
  const wakeOnHangup = () => entry.wake();
  void ch.ended.then(wakeOnHangup);
  let nextAnnounce = def.announceFrequency > 0 ? svc.now() + def.announceFrequency * 1000 : 0;
  let nextPeriodic = def.periodicAnnounceFrequency > 0 && def.periodicAnnounce.length > 0 ? svc.now() + def.periodicAnnounceFrequency * 1000 : 0;
  let periodicIdx = 0;
  svc.dispatch(q);
  try {
    for (;;) {
      if (ch.hungUp) {
        q.stats.abandoned++;
        leave('ABANDON', q.position(entry), entry.opos, secs());
        return 'hangup';
      }
      if (hold.key !== null) {
        const key = hold.key;
        hold.key = null;
        if (def.context && call.hasExten(key, def.context)) {
          await hold.stop();
          leave('EXITWITHKEY', key, q.position(entry), entry.opos, secs());
          call.goto([def.context, key, '1']);
          return;
        }
        hold.start();
      }
      if (deadline > 0 && svc.now() >= deadline) {
        q.stats.timeouts++;
        leave('EXITWITHTIMEOUT', q.position(entry), entry.opos, secs());
        status('TIMEOUT');
        return;
      }
      if (entry.state !== 'ringing' && svc.dispatcher.empty(q, def.leavewhenempty, entry)) {
        leave('EXITEMPTY', q.position(entry), entry.opos, secs());
        status('LEAVEEMPTY');
        return;
      }
      if (entry.grant) {
        const members = entry.grant;
        entry.grant = null;
        await hold.stop();
        const r = await ring(svc, q, entry, members, ringMode ? 'r' : 'm');
        if (r === 'connected') {
          if (ch.hungUp) return 'hangup';
          if (o.options.includes('c')) {
            status('CONTINUE');
            return;
          }
          await ch.hangup('normal');
          return 'hangup';
        }
        if (ch.hungUp) continue;
        if (r === 'next') {
          entry.state = 'wanting';
          svc.dispatch(q);
        } else {
          entry.state = 'retry';
        }
      }
      if (entry.state === 'retry') {
        if (entry.retryUntilMs === 0) {
          if (o.options.includes('n')) {
            q.stats.timeouts++;
            leave('EXITWITHTIMEOUT', q.position(entry), entry.opos, secs());
            status('TIMEOUT');
            return;
          }
          entry.retryUntilMs = svc.now() + def.retrySec * 1000;
        }
        if (svc.now() >= entry.retryUntilMs) {
          entry.retryUntilMs = 0;
          entry.tried.clear();
          entry.state = 'wanting';
          svc.dispatch(q);
          continue;
        }
      }
      if (!ringMode) hold.start();
      const now = svc.now();
      if (nextAnnounce > 0 && now >= nextAnnounce && entry.state !== 'ringing') {
        await hold.stop();
        await announcePosition(q, entry);
        nextAnnounce = svc.now() + Math.max(def.announceFrequency, def.minAnnounceFrequency) * 1000;
        continue;
      }
      if (nextPeriodic > 0 && now >= nextPeriodic && entry.state !== 'ringing') {
        await hold.stop();
        await call.media.play([def.periodicAnnounce[periodicIdx++ % def.periodicAnnounce.length]!]);
        nextPeriodic = svc.now() + def.periodicAnnounceFrequency * 1000;
        continue;
      }
      if (entry.grant || ch.hungUp || hold.key !== null) continue;
      const due = [deadline, entry.state === 'retry' ? entry.retryUntilMs : 0, nextAnnounce, nextPeriodic, now + 2000].filter((t) => t > 0);
      await entry.sleep(Math.max(1, Math.min(...due) - now));
    }
  } finally {
    await hold.stop();
    if (entry.grant) {
      for (const m of entry.grant) m.agent.ringing--;
      entry.grant = null;
    }
    q.remove(entry);
    svc.dispatch(q);
  }
}

/** "you are caller number N" (and the estimated hold time), as say_position() does */
async function announcePosition(q: RunningQueue, e: QueueEntry): Promise<void> {
  const def = q.def;
  const pos = q.position(e);
  const media = e.call.media;
  if (def.announcePosition !== 'no') {
    if (pos === 1) await media.play(['queue-youarenext']);
    else if (def.announcePosition === 'yes' || (def.announcePosition === 'limit' && pos <= def.announcePositionLimit)) {
      await media.play(['queue-thereare']);
      await media.sayNumber(pos);
      await media.play(['queue-callswaiting']);
    } else if (def.announcePosition === 'more' && pos > def.announcePositionLimit) {
      await media.play(['queue-thereare']);
      await media.sayNumber(def.announcePositionLimit);
      await media.play(['queue-callswaiting']);
    }
  }
  if (def.announceHoldtime !== 'no' && q.stats.completed > 0) {
    const avgMin = Math.round(q.stats.holdTotalS / q.stats.completed / 60);
    if (avgMin >= 1) {
      await media.play(['queue-holdtime']);
      await media.sayNumber(avgMin);
      await media.play(['minutes']);
    }
  }
  await media.play(['queue-thankyou']);
}

type RingOutcome = 'connected' | 'next' | 'round';

/** ring the granted members for `timeout` s: the caller bridged to the first to answer, or why not */
async function ring(svc: QueueService, q: RunningQueue, e: QueueEntry, members: QueueMember[], ringOpt: string): Promise<RingOutcome> {
  const def = q.def;
  const ch = e.call.channel;
  const log = svc.log;
  const t0 = svc.now();
  for (const m of members) {
    if (def.strategy === 'linear') e.linpos = m.pos + 1;
    if (def.strategy === 'rrmemory' || def.strategy === 'rrordered') q.rrpos = m.pos + 1;
  }
  const byTarget = new Map<string, QueueMember>();
  const targets: DialTarget[] = members.map((m) => {
    const a = m.agent;
    byTarget.set(`${a.tech.toUpperCase()}/${a.resource}`, m);
    return { tech: a.tech, resource: a.resource };
  });
  let answered: QueueMember | null = null;
  let connectMs = 0;
  let holdS = 0;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const m of members) m.agent.ringing--;
  };
  e.call.log.info('queue.ring', { queue: def.name, channel: ch.name, members: members.map((m) => m.iface) });
  const connect = (t: DialTarget) => {
    const m = byTarget.get(`${t.tech.toUpperCase()}/${t.resource}`) ?? members[0]!;
    answered = m;
    connectMs = svc.now();
    holdS = Math.floor((connectMs - e.startMs) / 1000);
    release();
    m.agent.inCall++;
    q.remove(e);
    log.write(def.name, ch.id, m.name, 'CONNECT', holdS, `${Math.floor(connectMs / 1000)}.q${++connectSeq}`, Math.floor((connectMs - t0) / 1000));
    e.call.vars.set('QUEUEWAIT', String(holdS));
    e.call.vars.set('MEMBERINTERFACE', m.iface);
    e.call.vars.set('MEMBERNAME', m.name);
    const s = q.stats;
    s.completed++;
    s.holdTotalS += holdS;
    s.longestHoldS = Math.max(s.longestHoldS, holdS);
    if (def.servicelevel > 0 && holdS <= def.servicelevel) s.completedInSl++;
    svc.dispatch(q);
  };
  const r = await ch.dial(targets, { timeoutMs: def.timeoutSec * 1000, options: ringOpt, onAnswer: connect });
  if (r.status === 'ANSWER' && !answered) connect(r.answeredBy ?? targets[0]!);
  release();
  const m = answered as QueueMember | null;
  if (r.status === 'ANSWER' && m) {
    const end = svc.now();
    const talkS = Math.floor((end - connectMs) / 1000);
    log.write(def.name, ch.id, m.name, ch.hungUp ? 'COMPLETECALLER' : 'COMPLETEAGENT', holdS, talkS, e.opos);
    m.agent.inCall--;
    m.calls++;
    m.talkMs += end - connectMs;
    q.stats.talkTotalS += talkS;
    m.ownLastCallMs = end;
    m.agent.lastCallMs = end;
    m.agent.wrapupUntilMs = end + (m.wrapupSec ?? def.wrapupSec) * 1000;
    const shared = svc.deps.conf.general.sharedLastcall;
    for (const other of svc.queues.values()) {
      for (const om of other.members) if (om.agent === m.agent && (shared || om === m)) om.lastCallMs = end;
    }
    svc.dispatchAll();
    return 'connected';
  }
  const rt = svc.now() - t0;
  for (const mem of members) {
    if (r.status === 'CANCEL' || ch.hungUp) log.write(def.name, ch.id, mem.name, 'RINGCANCELED', rt);
    else {
      log.write(def.name, ch.id, mem.name, 'RINGNOANSWER', rt);
      mem.missed++;
    }
    e.tried.add(mem);
  }
  svc.dispatch(q);
  // busy or unavailable: the next member at once (ringall: every one was rung; the round is over)
  if (def.strategy !== 'ringall' && (r.status === 'BUSY' || r.status === 'CHANUNAVAIL' || r.status === 'CONGESTION')) return 'next';
  return 'round';
}
