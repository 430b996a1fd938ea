// Dial(ROUTE/<number>): a call out through the outbound routes, as if the
// caller had dialled <number> — the first route of the caller's context
// whose pattern matches, its number rewriting, its trunks in order (the
// next on CONGESTION or CHANUNAVAIL) — as one Dial() target among others.
// Follow-me (src/features/office/follow-me.ts) rings a mobile this way on
// behalf of an extension (DialOptions.onBehalfOf gives its context); a
// dialplan may write it too. A route with a PIN is never taken (nobody is
// there to type it): the target is unavailable.
import type { DialAttempt, DialContext, DialOutcome, DialTechnology } from '../../channel/dial-technology.js';
import type { DialTarget } from '../../channel/channel.js';
import type { Logger } from '../../observability/logger.js';
import type { RouteTable } from './route-table.js';
import { ROUTE_VAR } from './trunk-technology.js';

export interface RouteTechnologyDeps {
  table(): RouteTable;
  /** the Dial() technologies: PJSIP/<number>@<trunk> is the trunks' own (trunk-technology.ts), one trunk attempt */
  trunks: Pick<DialTechnology, 'dial'>;
  log: Logger;
}

export function routeTechnology(d: RouteTechnologyDeps): DialTechnology {
  return {
    names: ['ROUTE'],
    dial(target: DialTarget, ctx: DialContext): DialAttempt | null {
      const m = d.table().outbound(ctx.context, target.resource);
      if (!m) {
        d.log.info('route-none', { channel: ctx.channelName, context: ctx.context, to: target.resource });
        return null;
      }
      if (m.route.pin !== null) {
        d.log.info('route-pin-required', { channel: ctx.channelName, route: m.route.name });
        return null;
      }
      return new RouteAttempt(d, m.route.name, m.route.trunks, m.number, m.route.timeout, ctx);
    },
  };
}

class RouteAttempt implements DialAttempt {
  readonly result: Promise<DialOutcome>;
  onRinging: (() => void) | null = null;
  private current: DialAttempt | null = null;
  private cancelled = false;

  constructor(d: RouteTechnologyDeps, route: string, trunks: readonly string[], number: string, timeout: number, ctx: DialContext) {
    const vars = new Map(ctx.vars);
    vars.set(ROUTE_VAR, route);
    const c: DialContext = { ...ctx, vars };
    this.result = (async (): Promise<DialOutcome> => {
      let last: DialOutcome = { status: 'CHANUNAVAIL' };
      for (const trunk of trunks) {
        if (this.cancelled) return { status: 'CANCEL' };
        const a = d.trunks.dial({ tech: 'PJSIP', resource: `${number}@${trunk}` }, c);
        if (!a) continue;
        this.current = a;
        a.onRinging = () => this.onRinging?.();
        const timer = timeout > 0 ? setTimeout(() => a.cancel(), timeout * 1000) : undefined;
        last = await a.result;
        clearTimeout(timer);
        this.current = null;
        d.log.info('route-attempt', { route, trunk, channel: ctx.channelName, status: last.status });
        if (last.status !== 'CONGESTION' && last.status !== 'CHANUNAVAIL') break;
      }
      if (this.cancelled && last.status === 'ANSWER') {
        last.leg.hangup('normal');
        return { status: 'CANCEL' };
      }
      return last;
    })();
  }

  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
  }
}
