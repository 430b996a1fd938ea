// Dial() to SIP trunks, registered in the DialTechnologies registry under
// the names the dialplan writes:
//
//   Dial(PJSIP/${EXTEN}@office-b)     number@trunk    (Asterisk's PJSIP form)
//   Dial(SIP/office-b/${EXTEN})       trunk/number    (Asterisk's chan_sip form)
//
// A target that names no SIP trunk is not ours (null): the SIP channel rings
// its own extensions, another technology may know it. Every call out of a
// trunk passes the call gate with the trunk as principal (its classes,
// limits, spend) and the trunk's max_channels; a call that came in on a
// trunk leaves by another only when an outbound route allows trunk calls.
import type { DialAttempt, DialContext, DialOutcome, DialTechnology } from '../../channel/dial-technology.js';
import type { DialTarget } from '../../channel/channel.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import type { OutboundRouteConfig } from './route-config.js';
import { presentedCallerId } from './route-table.js';
import { SipTrunkCall, trunkLegName, type TrunkCallHost } from './sip-trunk-call.js';
import type { TrunkConfig } from './trunk-config.js';

/** the channel variable an outbound route sets before it dials: the route's name */
export const ROUTE_VAR = 'OUTBOUND_ROUTE';

export interface TrunkTechnologyDeps extends TrunkCallHost {
  trunk(name: string): TrunkConfig | undefined;
  route(name: string): OutboundRouteConfig | undefined;
  isTrunkContext(context: string): boolean;
  /** where to send calls for the trunk, best first ([] when unknown: a dynamic trunk not registered) */
  targets(trunk: TrunkConfig): Promise<{ targets: Remote[]; requestUri?: (t: Remote) => string }>;
  callGate: CallGateApi;
  claimChannel(trunk: string): boolean;
  releaseChannel(trunk: string): void;
  log: Logger;
}

/** `number@trunk` (PJSIP) or `trunk/number` (SIP); null when the resource has neither shape */
export function parseTrunkTarget(t: DialTarget): { trunk: string; number: string } | null {
  const tech = t.tech.toUpperCase();
  const r = t.resource;
  if (tech === 'PJSIP') {
    const at = r.lastIndexOf('@');
    if (at > 0) return { number: r.slice(0, at), trunk: r.slice(at + 1) };
    const slash = r.indexOf('/');
    if (slash > 0) return { trunk: r.slice(0, slash), number: r.slice(slash + 1) };
    return null;
  }
  if (tech === 'SIP') {
    const slash = r.indexOf('/');
    if (slash > 0) return { trunk: r.slice(0, slash), number: r.slice(slash + 1) };
    const at = r.lastIndexOf('@');
    if (at > 0) return { number: r.slice(0, at), trunk: r.slice(at + 1) };
  }
  return null;
}

/** an attempt that has already failed (refused before anything was sent) */
function failed(status: Exclude<DialOutcome['status'], 'ANSWER'>): DialAttempt {
  return { result: Promise.resolve({ status } as DialOutcome), onRinging: null, cancel() {} };
}

export function sipTrunkTechnology(d: TrunkTechnologyDeps): DialTechnology {
  return {
    names: ['PJSIP', 'SIP'],
    dial(target: DialTarget, ctx: DialContext): DialAttempt | null {
      const parsed = parseTrunkTarget(target);
      if (!parsed) return null;
      const trunk = d.trunk(parsed.trunk);
      if (trunk?.type !== 'sip') return null;
      const number = parsed.number;
      if (!/^\+?[0-9*#]{1,32}$/.test(number)) {
        d.log.info('trunk-dial-refused', { trunk: trunk.name, channel: ctx.channelName, why: 'not-a-number' });
        return failed('INVALIDARGS');
      }
      const routeName = ctx.vars.get(ROUTE_VAR);
      const route = routeName ? d.route(routeName) : undefined;
      // no trunk-to-trunk calls unless a route says so
      if (ctx.peer.account === undefined && d.isTrunkContext(ctx.context) && !route?.allowTrunkCalls) {
        d.log.warn('trunk-to-trunk-refused', { trunk: trunk.name, channel: ctx.channelName, to: number, route: routeName ?? null });
        return failed('CHANUNAVAIL');
      }
      // the trunk as a principal of the call gate; the extension was checked when its call began
      const gate = d.callGate.check({ caller: '', trunk: trunk.name, dialled: number, remote: ctx.peer, callId: ctx.channelId });
      if (!gate.ok) {
        d.log.info('trunk-call-refused', { trunk: trunk.name, channel: ctx.channelName, to: number, verdict: gate.verdict });
        return failed('CHANUNAVAIL');
      }
      if (!d.claimChannel(trunk.name)) {
        gate.ticket.ended(0);
        d.log.info('trunk-full', { trunk: trunk.name, channel: ctx.channelName, max_channels: trunk.maxChannels });
        return failed('CONGESTION');
      }
      return new PendingTrunkCall(d, trunk, number, route ?? null, ctx, gate.ticket);
    },
  };
}

/** resolves the targets first, then places the call; one DialAttempt throughout */
class PendingTrunkCall implements DialAttempt {
  readonly result: Promise<DialOutcome>;
  onRinging: (() => void) | null = null;
  private call: SipTrunkCall | null = null;
  private cancelled = false;

  constructor(
    d: TrunkTechnologyDeps,
    trunk: TrunkConfig,
    number: string,
    route: OutboundRouteConfig | null,
    ctx: DialContext,
    ticket: { answered(cut: (cause: string) => void): void; ended(billsec: number, declined?: boolean): void },
  ) {
    let answeredAt = 0;
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      d.releaseChannel(trunk.name);
      ticket.ended(answeredAt ? Math.round((Date.now() - answeredAt) / 1000) : 0);
    };
    this.result = (async (): Promise<DialOutcome> => {
      let where: Awaited<ReturnType<TrunkTechnologyDeps['targets']>>;
      try {
        where = await d.targets(trunk);
      } catch {
        where = { targets: [] };
      }
      if (this.cancelled) {
        done();
        return { status: 'CANCEL' };
      }
      if (where.targets.length === 0) {
        d.log.info('trunk-unreachable', { trunk: trunk.name, host: trunk.host });
        done();
        return { status: 'CHANUNAVAIL' };
      }
      const call = new SipTrunkCall(d, {
        trunk,
        number,
        targets: where.targets,
        requestUri: where.requestUri,
        caller: presentedCallerId(trunk, route, { number: ctx.callerIdNum, name: ctx.callerIdName }),
        legName: trunkLegName(trunk.name),
        onDone: done,
      });
      this.call = call;
      call.onRinging = () => this.onRinging?.();
      const r = await call.result;
      if (r.status === 'ANSWER') {
        answeredAt = Date.now();
        ticket.answered(() => r.leg.hangup('normal'));
      }
      return r;
    })();
  }

  cancel(): void {
    this.cancelled = true;
    this.call?.cancel();
  }
}
