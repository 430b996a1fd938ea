// The routing decisions, without any call in them (tested on their own with
// a fake clock): which outbound route takes a dialled number and what is
// sent to its trunks (strip, prepend), which inbound route takes a call from
// a trunk and where it goes now (time conditions with holidays), and which
// caller ID a call out presents.
import { extensionMatches } from '../../dialplan/matcher.js';
import { homeOfTarget } from '../../dialplan/numbers-running.js';
import type { Dialplan } from '../../dialplan/dialplan-types.js';
import { timeMatches, wallClock } from '../../dialplan/time-spec.js';
import type { InboundRouteConfig, OutboundRouteConfig, RoutesConfig, TimeConditionConfig } from './route-config.js';
import type { TrunkConfig } from './trunk-config.js';

export interface OutboundMatch {
  route: OutboundRouteConfig;
  /** the number sent to the trunks: stripped, then prepended */
  number: string;
}

/** FreePBX's strip/prepend: remove `strip` digits from the front, then put `prepend` there */
export function rewriteNumber(dialled: string, strip: number, prepend: string): string {
  return prepend + dialled.slice(Math.min(strip, dialled.length));
}

export type Destination = { kind: 'extension'; number: string } | { kind: 'dialplan'; context: string; exten: string; priority: string } | { kind: 'voicemail'; mailbox: string };

/** `${EXTEN}` / a number / context,exten,priority / voicemail:NNN, with ${EXTEN} replaced by the DID */
export function parseDestination(to: string, did: string): Destination {
  const t = to.replace(/\$\{EXTEN\}/g, did);
  if (t.startsWith('voicemail:')) return { kind: 'voicemail', mailbox: t.slice('voicemail:'.length) };
  const parts = t.split(',');
  if (parts.length === 3) return { kind: 'dialplan', context: parts[0]!, exten: parts[1]!, priority: parts[2]! };
  return { kind: 'extension', number: t };
}

export class RouteTable {
  private readonly trunkContexts: Set<string>;
  private readonly conditions: Map<string, TimeConditionConfig>;

  constructor(
    readonly routes: RoutesConfig,
    trunks: readonly TrunkConfig[],
    private readonly now: () => number = Date.now,
  ) {
    this.trunkContexts = new Set(trunks.map((t) => t.context));
    this.conditions = new Map(routes.timeConditions.map((c) => [c.name, c]));
  }

  /** is `context` where some trunk's calls enter? */
  isTrunkContext(context: string): boolean {
    return this.trunkContexts.has(context);
  }

  /**
   * The first outbound route (in file order) whose pattern takes `dialled`
   * for a caller in `context`: a route with contexts lists them; one without
   * serves every context but a trunk's — a call that came in on a trunk
   * leaves by a route only if the route allows trunk calls.
   */
  outbound(context: string, dialled: string): OutboundMatch | null {
    const fromTrunk = this.isTrunkContext(context);
    for (const route of this.routes.outbound) {
      if (fromTrunk && !route.allowTrunkCalls) continue;
      if (route.contexts.length > 0 && !route.contexts.includes(context)) continue;
      if (!route.match.some((p) => extensionMatches(p, dialled))) continue;
      return { route, number: rewriteNumber(dialled, route.strip, route.prepend) };
    }
    return null;
  }

  /** the first inbound route for a call from a trunk: its DID and caller-ID patterns (and trunk, when it names one) */
  inbound(trunk: string | null, did: string, callerId: string): InboundRouteConfig | null {
    for (const r of this.routes.inbound) {
      if (r.trunk && trunk !== null && r.trunk !== trunk) continue;
      if (r.did && !extensionMatches(r.did, did)) continue;
      if (r.cid && !extensionMatches(r.cid, callerId)) continue;
      return r;
    }
    return null;
  }

  /** is the named time condition true now (inside its times, not on a holiday)? */
  timeConditionNow(name: string): boolean {
    const c = this.conditions.get(name);
    if (!c) return false;
    const ms = this.now();
    if (c.holidays.length > 0) {
      const w = wallClock(ms, c.times[0]?.tz ?? null);
      const day = `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.mday).padStart(2, '0')}`;
      if (c.holidays.includes(day)) return false;
    }
    return c.times.some((t) => timeMatches(t, ms));
  }

  /** where an inbound route sends the call now */
  destination(r: InboundRouteConfig, did: string): Destination {
    const to = r.timeCondition && !this.timeConditionNow(r.timeCondition) ? r.else : r.to;
    // outside the hours with no else: nowhere (the caller hears congestion)
    return parseDestination(to ?? '', did);
  }
}

/** the caller ID a call out of `trunk` on `route` presents: the trunk's setting, else the route's, else the caller's own */
export function presentedCallerId(
  trunk: TrunkConfig,
  route: OutboundRouteConfig | null,
  caller: { number: string; name: string },
): { number: string; name: string; hide: boolean; pai: boolean } {
  const number = trunk.callerIdNumber ?? route?.callerIdNumber ?? caller.number;
  const name = trunk.callerIdName ?? route?.callerIdName ?? caller.name;
  const hide = trunk.privacy === 'id' || route?.privacy === 'id';
  return { number, name, hide, pai: trunk.sendPai };
}

/** per route table: whether any inbound route sends calls into the dialplan (only then is there anything to steer) */
const intoDialplan = new WeakMap<RouteTable, boolean>();

/**
 * Several workers: the worker that holds what a call to `did` leads to
 * through its inbound route now (`to: "support,s,1"` whose dialplan runs
 * Queue(): worker 0), or -1. Asked of every new INVITE a worker other than
 * 0 reads, so a table without a dialplan destination answers at once.
 */
export function inboundHome(table: RouteTable, dp: Dialplan, homes: ReadonlyMap<string, number>, call: () => { did: string; callerId: string }): number {
  let any = intoDialplan.get(table);
  if (any === undefined) {
    any = table.routes.inbound.some((r) => [r.to, r.else].some((t) => t !== undefined && t !== null && parseDestination(t, '0').kind === 'dialplan'));
    intoDialplan.set(table, any);
  }
  if (!any) return -1;
  const { did, callerId } = call();
  const r = table.inbound(null, did, callerId);
  if (!r) return -1;
  const d = table.destination(r, did);
  return d.kind === 'dialplan' ? homeOfTarget(homes, dp, d.context, d.exten) : -1;
}
