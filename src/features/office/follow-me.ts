// Follow-me (FreePBX's, Asterisk's FollowMe()): calls to an extension ring
// the numbers of its list one after another, each for its ring time — its
// own phone first, then a mobile — and go to a destination when none
// answered. A step that is one of our extensions is rung directly (Dial(),
// so its do-not-disturb holds); any other number leaves through the
// outbound routes and trunks (Dial(ROUTE/<number>), src/features/trunks/
// route-technology.ts) as a call by the extension: the call gate judges it
// with the extension as the caller (its classes, limits, spend), in the
// extension's context, whoever called in — a provider's caller too.
// Configured under `follow_me:` (office-config.ts); reached by calling the
// extension (a call router of the office module, when the dialplan does not
// take the number itself) or with FollowMe(extension) in the dialplan.
import type { Channel, DialResult } from '../../channel/channel.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { Logger } from '../../observability/logger.js';
import type { FollowMeConfig, FollowMeStep } from './office-config.js';
import { type DestinationDeps, type RingOutcome, toDestination } from './ring-groups.js';
import { CONFIRM_TECH } from './follow-me-confirm.js';

export interface FollowMeDeps extends DestinationDeps {
  entry(extension: string): FollowMeConfig | undefined;
  isExtension(n: string): boolean;
  /** the extension's dialplan context (its outbound routes) */
  contextOf(extension: string): string | undefined;
  callGate(): CallGateApi | null;
  log(): Logger | null;
}

/** one outside step: the call gate as the extension, then out through the routes */
async function outside(f: FollowMeConfig, step: FollowMeStep, channel: Channel, deps: FollowMeDeps, log: Logger): Promise<DialResult> {
  const context = deps.contextOf(f.extension);
  const gate = deps.callGate();
  if (!gate || context === undefined) return { status: 'CHANUNAVAIL' };
  const d = gate.check({ caller: f.extension, dialled: step.number, remote: channel.peer, callId: channel.id });
  if (!d.ok) {
    log.info('followme-refused', { extension: f.extension, channel: channel.name, to: step.number, verdict: d.verdict, status: d.status });
    return { status: 'CHANUNAVAIL' };
  }
  let answeredAt = 0;
  try {
    // with confirm, the mobile must press 1 (follow-me-confirm.ts)
    return await channel.dial([{ tech: f.confirm ? CONFIRM_TECH : 'ROUTE', resource: step.number }], {
      timeoutMs: step.ringTime * 1000,
      options: '',
      onBehalfOf: { account: f.extension, context },
      onAnswer: () => {
        answeredAt = Date.now();
        d.ticket.answered((cause) => {
          log.info('followme-cut', { extension: f.extension, channel: channel.name, cause });
          void channel.hangup('normal');
        });
      },
    });
  } finally {
    d.ticket.ended(answeredAt ? Math.round((Date.now() - answeredAt) / 1000) : 0);
  }
}

/** rings the list in order; resolves once a step answered and the call ended, or every step failed */
export async function followMe(f: FollowMeConfig, channel: Channel, deps: FollowMeDeps, log: Logger): Promise<RingOutcome> {
  for (const step of f.steps) {
    if (channel.hungUp) return { status: 'CANCEL' };
    const internal = deps.isExtension(step.number);
    log.info('followme-ring', { extension: f.extension, channel: channel.name, to: step.number, ring_time: step.ringTime, via: internal ? 'extension' : 'route' });
    const r = internal
      ? await channel.dial([{ tech: 'SIP', resource: step.number }], { timeoutMs: step.ringTime * 1000, options: '' })
      : await outside(f, step, channel, deps, log);
    if (r.status === 'ANSWER') return { status: 'ANSWER', answeredBy: step.number };
    log.info('followme-step-failed', { extension: f.extension, channel: channel.name, to: step.number, status: r.status });
  }
  return { status: channel.hungUp ? 'CANCEL' : 'NOANSWER' };
}

/** FollowMe(extension): ring the extension's follow-me list (follow_me: in palisade.yaml); sets FOLLOWMESTATUS */
export function followMeApp(deps: FollowMeDeps): DialplanApp {
  return {
    name: 'FollowMe',
    synopsis: 'FollowMe(extension): ring the follow-me list of an extension (follow_me: in palisade.yaml); nobody answers: its destination; sets FOLLOWMESTATUS',
    async run(call, args) {
      const log = deps.log();
      const f = deps.entry((args[0] ?? '').trim());
      if (!f || !log) {
        call.log.warn('followme-unknown', { extension: (args[0] ?? '').slice(0, 32) });
        call.vars.set('FOLLOWMESTATUS', 'INVALIDARGS');
        return;
      }
      const r = await followMe(f, call.channel, deps, log);
      call.vars.set('FOLLOWMESTATUS', r.status);
      call.vars.set('DIALSTATUS', r.status);
      log.info('followme-done', { extension: f.extension, channel: call.channel.name, status: r.status, answered_by: r.answeredBy ?? null });
      if (r.status === 'ANSWER' || call.channel.hungUp) {
        if (!call.channel.hungUp) await call.channel.hangup('normal');
        return 'hangup';
      }
      return toDestination(call, f.destination, deps, log);
    },
  };
}
