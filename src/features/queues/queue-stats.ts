// Statistics per day, read back from the queue_log table, so they agree
// with what a queue_log reporting tool computes from the file: offered,
// answered, abandoned and timed-out calls, service level, average and
// longest wait, and per agent the calls, talk time and rings not answered.
import type { Kysely } from 'kysely';
import type { QueueLogRow } from './queue-log.js';

export interface AgentDayStats {
  agent: string;
  calls: number;
  talkSeconds: number;
  ringNoAnswer: number;
}

export interface QueueDayStats {
  queue: string;
  day: string;
  offered: number;
  answered: number;
  abandoned: number;
  timeouts: number;
  exitEmpty: number;
  exitKey: number;
  serviceLevelSeconds: number;
  /** answered within the service level, of the answered */
  serviceLevelPercent: number;
  avgHoldSeconds: number;
  longestHoldSeconds: number;
  avgAbandonWaitSeconds: number;
  talkSeconds: number;
  avgTalkSeconds: number;
  agents: AgentDayStats[];
}

/** aggregates one day's rows (any order) per queue */
export function aggregateDay(rows: readonly QueueLogRow[], day: string, serviceLevel: (queue: string) => number): QueueDayStats[] {
  const byQueue = new Map<string, QueueDayStats & { holdSum: number; abandonWaitSum: number; agentMap: Map<string, AgentDayStats> }>();
  const get = (q: string) => {
    let s = byQueue.get(q);
    if (!s) {
      s = {
        queue: q,
        day,
        offered: 0,
        answered: 0,
        abandoned: 0,
        timeouts: 0,
        exitEmpty: 0,
        exitKey: 0,
        serviceLevelSeconds: serviceLevel(q),
        serviceLevelPercent: 0,
        avgHoldSeconds: 0,
        longestHoldSeconds: 0,
        avgAbandonWaitSeconds: 0,
        talkSeconds: 0,
        avgTalkSeconds: 0,
        agents: [],
        holdSum: 0,
        abandonWaitSum: 0,
        agentMap: new Map(),
      };
      byQueue.set(q, s);
    }
    return s;
  };
  const agent = (s: ReturnType<typeof get>, a: string) => {
    let x = s.agentMap.get(a);
    if (!x) {
      x = { agent: a, calls: 0, talkSeconds: 0, ringNoAnswer: 0 };
      s.agentMap.set(a, x);
    }
    return x;
  };
  let inSl = new Map<string, number>();
  for (const r of rows) {
    if (r.queuename === 'NONE') continue;
    const s = get(r.queuename);
    const n1 = Number(r.data1) || 0;
    const n2 = Number(r.data2) || 0;
    const n3 = Number(r.data3) || 0;
    switch (r.event) {
      case 'ENTERQUEUE':
        s.offered++;
        break;
      case 'CONNECT':
        s.answered++;
        s.holdSum += n1;
        s.longestHoldSeconds = Math.max(s.longestHoldSeconds, n1);
        if (s.serviceLevelSeconds > 0 && n1 <= s.serviceLevelSeconds) inSl.set(r.queuename, (inSl.get(r.queuename) ?? 0) + 1);
        agent(s, r.agent).calls++;
        break;
      case 'COMPLETECALLER':
      case 'COMPLETEAGENT':
        s.talkSeconds += n2;
        agent(s, r.agent).talkSeconds += n2;
        break;
      case 'ABANDON':
        s.abandoned++;
        s.abandonWaitSum += n3;
        break;
      case 'EXITWITHTIMEOUT':
        s.timeouts++;
        break;
      case 'EXITEMPTY':
        s.exitEmpty++;
        break;
      case 'EXITWITHKEY':
        s.exitKey++;
        break;
      case 'RINGNOANSWER':
        agent(s, r.agent).ringNoAnswer++;
        break;
    }
  }
  const out: QueueDayStats[] = [];
  for (const s of byQueue.values()) {
    const { holdSum, abandonWaitSum, agentMap, ...rest } = s;
    rest.avgHoldSeconds = s.answered ? Math.round(holdSum / s.answered) : 0;
    rest.avgAbandonWaitSeconds = s.abandoned ? Math.round(abandonWaitSum / s.abandoned) : 0;
    rest.avgTalkSeconds = s.answered ? Math.round(s.talkSeconds / s.answered) : 0;
    rest.serviceLevelPercent = s.answered ? Math.round((1000 * (inSl.get(s.queue) ?? 0)) / s.answered) / 10 : 0;
    rest.agents = [...agentMap.values()].sort((a, b) => a.agent.localeCompare(b.agent));
    out.push(rest);
  }
  inSl = new Map();
  return out.sort((a, b) => a.queue.localeCompare(b.queue));
}

// biome-ignore lint/suspicious/noExplicitAny: the module's own tables
export async function dayStats(db: Kysely<any>, day: string, serviceLevel: (queue: string) => number, queue?: string): Promise<QueueDayStats[]> {
  let qb = db.selectFrom('queue_log').selectAll().where('day', '=', day);
  if (queue) qb = qb.where('queuename', '=', queue);
  const rows = (await qb.orderBy('seq').execute()) as QueueLogRow[];
  return aggregateDay(
    rows.map((r) => ({ ...r, seq: Number(r.seq), epoch: Number(r.epoch) })),
    day,
    serviceLevel,
  );
}
