// Which free members a waiting caller rings, by the queue's strategy, as
// app_queue.c calc_metric() and ring_one() decide: each member gets a metric
// (lower is better; a penalty adds 1,000,000 per point unless the queue has
// no more than penaltymemberslimit members); ringall rings every member of
// the best metric at once, the other strategies ring the single best one.
//
//   ringall      everyone (of the lowest penalty)
//   linear       in the order listed, each caller starting from the first
//   rrmemory     round robin, the queue remembering who was tried last
//   rrordered    as rrmemory (Asterisk keeps the member order on reload)
//   leastrecent  the member whose last call ended longest ago (never called: first)
//   fewestcalls  the member who completed fewest calls
//   random       any, uniformly
//   wrandom      random, weighted by penalty: metric in [0, (1+penalty)*1000)
import type { Strategy } from './queues-conf.js';

export interface Candidate {
  /** position in the queue's member list (the order of member => lines, then dynamic members) */
  readonly pos: number;
  readonly penalty: number;
  /** completed calls in this queue */
  readonly calls: number;
  /** when the member's last call ended (ms epoch; 0 = never) */
  readonly lastCallMs: number;
}

export interface PickContext {
  strategy: Strategy;
  /** all members of the queue, free or not (penaltymemberslimit compares with it) */
  memberCount: number;
  penaltymemberslimit: number;
  /** the caller's QUEUE_MIN_PENALTY / QUEUE_MAX_PENALTY (null: none) */
  minPenalty: number | null;
  maxPenalty: number | null;
  /** linear: the caller's next position; rrmemory/rrordered: the queue's */
  nextPos: number;
  nowMs: number;
  random(): number;
}

function metric(c: Candidate, x: PickContext, usePenalty: boolean): number {
  const pen = usePenalty ? c.penalty * 1_000_000 : 0;
  switch (x.strategy) {
    case 'ringall':
      return pen;
    case 'linear':
    case 'rrmemory':
    case 'rrordered':
      // members before the remembered position come after the rest (wrap round)
      return (c.pos < x.nextPos ? 1000 + c.pos : c.pos) + pen;
    case 'random':
      return Math.floor(x.random() * 1000) + pen;
    case 'wrandom':
      return Math.floor(x.random() * ((1 + c.penalty) * 1000));
    case 'fewestcalls':
      return c.calls + pen;
    case 'leastrecent':
      return (c.lastCallMs === 0 ? 0 : 1_000_000 - Math.min(999_999, (x.nowMs - c.lastCallMs) / 1000)) + pen;
  }
}

/** the candidates to ring now (empty: none qualifies) */
export function pickMembers<C extends Candidate>(cands: readonly C[], x: PickContext): C[] {
  const usePenalty = x.memberCount > x.penaltymemberslimit;
  let best = Number.POSITIVE_INFINITY;
  const scored: Array<[C, number]> = [];
  for (const c of cands) {
    if (usePenalty && ((x.maxPenalty !== null && c.penalty > x.maxPenalty) || (x.minPenalty !== null && c.penalty < x.minPenalty))) continue;
    const m = metric(c, x, usePenalty);
    scored.push([c, m]);
    if (m < best) best = m;
  }
  if (scored.length === 0) return [];
  if (x.strategy === 'ringall') return scored.filter(([, m]) => m === best).map(([c]) => c);
  // ties: the first listed
  let pick = scored[0]!;
  for (const s of scored) if (s[1] < pick[1] || (s[1] === pick[1] && s[0].pos < pick[0].pos)) pick = s;
  return [pick[0]];
}
