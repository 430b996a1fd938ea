// Ring groups (FreePBX's): a number that rings its member extensions —
// `ringall`, every member at once for the group's ring time, or `hunt`, one
// after another, each for its own ring time — and sends the call on to a
// destination when nobody answered: an extension, a voicemail box or a
// dialplan context,exten,priority. Configured under `ring_groups:`
// (office-config.ts); reached by dialling the group's number (a call router
// of the office module) or from the dialplan with RingGroup(number).
// Members are rung with Dial(), so their do-not-disturb and forwarding hold.
import type { Channel, DialResult, DialStatus } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { CallState, DialplanApp } from '../../dialplan/app-types.js';
import type { Logger } from '../../observability/logger.js';
import { type Destination, destinationText, type RingGroupConfig } from './office-config.js';

export interface RingOutcome {
  status: DialStatus;
  /** the member that answered */
  answeredBy?: string;
}

/** rings the group's members by its strategy; resolves once someone answered and the call ended, or nobody answered */
export async function ringGroup(g: RingGroupConfig, channel: Channel, log: Logger): Promise<RingOutcome> {
  const sip = (n: string) => ({ tech: 'SIP', resource: n });
  if (g.strategy === 'ringall') {
    log.info('ringgroup-ring', { group: g.number, channel: channel.name, members: g.members.map((m) => m.extension).join('&'), ring_time: g.ringTime });
    const r = await channel.dial(
      g.members.map((m) => sip(m.extension)),
      { timeoutMs: g.ringTime * 1000, options: '' },
    );
    return { status: r.status, answeredBy: r.answeredBy?.resource };
  }
  let last: DialResult = { status: 'NOANSWER' };
  // hunt: BUSY or CONGESTION only if every member said so; otherwise NOANSWER
  const seen = new Set<DialStatus>();
  for (const m of g.members) {
    if (channel.hungUp) return { status: 'CANCEL' };
    const secs = m.ringTime || g.ringTime;
    log.info('ringgroup-ring', { group: g.number, channel: channel.name, members: m.extension, ring_time: secs });
    last = await channel.dial([sip(m.extension)], { timeoutMs: secs * 1000, options: '' });
    if (last.status === 'ANSWER') return { status: 'ANSWER', answeredBy: last.answeredBy?.resource ?? m.extension };
    log.info('ringgroup-member-failed', { group: g.number, channel: channel.name, member: m.extension, status: last.status });
    seen.add(last.status);
  }
  if (channel.hungUp) return { status: 'CANCEL' };
  return { status: seen.size === 1 ? last.status : 'NOANSWER' };
}

/**
 * Sends the call to a no-answer destination from inside the dialplan:
 * Dial() to an extension, VoiceMail() to a box, a jump to a context. The
 * returned outcome is the application's ('hangup' or go on at the jump).
 */
/** the context of the office module's own small dialplan (calls that dial a group or a follow-me extension directly) */
export const OFFICE_CONTEXT = 'palisade-office';

/** what a destination needs of the server */
export interface DestinationDeps {
  ringTimeSecs(): number;
  /** the configured dialplan, run from a start point (a call in the office's own context jumps there); null without one */
  runDialplan(channel: Channel, media: ChannelMedia, start: { context: string; exten: string; priority: string }): Promise<void> | null;
}

export async function toDestination(call: CallState, d: Destination, deps: DestinationDeps, log: Logger): Promise<'hangup' | undefined> {
  const ringTimeSecs = deps.ringTimeSecs();
  log.info('office-destination', { channel: call.channel.name, to: destinationText(d) });
  switch (d.kind) {
    case 'hangup':
      if (!call.channel.hungUp) await call.channel.hangup('noanswer');
      return 'hangup';
    case 'extension': {
      const r = call.runApp('Dial', `SIP/${d.number},${ringTimeSecs}`);
      if (r) await r;
      if (!call.channel.hungUp) await call.channel.hangup(call.vars.get('DIALSTATUS') === 'BUSY' ? 'busy' : 'noanswer');
      return 'hangup';
    }
    case 'voicemail': {
      const r = call.runApp('VoiceMail', `${d.mailbox},u`);
      if (!r) log.warn('office-destination-failed', { channel: call.channel.name, to: destinationText(d), why: 'the voicemail module is not running' });
      else await r;
      if (!call.channel.hungUp) await call.channel.hangup('normal');
      return 'hangup';
    }
    case 'dialplan': {
      if (call.context === OFFICE_CONTEXT) {
        // dialled directly: the office's own small dialplan knows no other context
        const run = deps.runDialplan(call.channel, call.media, d);
        if (run) await run;
        else log.warn('office-destination-failed', { channel: call.channel.name, to: destinationText(d), why: 'no dialplan is configured' });
        if (!call.channel.hungUp) await call.channel.hangup(run ? 'normal' : 'congestion');
        return 'hangup';
      }
      const why = call.goto([d.context, d.exten, d.priority]);
      if (why === null) return undefined;
      log.warn('office-destination-failed', { channel: call.channel.name, to: destinationText(d), why });
      if (!call.channel.hungUp) await call.channel.hangup('congestion');
      return 'hangup';
    }
  }
}

/** RingGroup(number): ring a configured group; sets RINGGROUPSTATUS (ANSWER, NOANSWER, BUSY, CANCEL...) and RINGGROUPANSWEREDBY */
export function ringGroupApp(deps: DestinationDeps & { group(number: string): RingGroupConfig | undefined; log(): Logger | null }): DialplanApp {
  return {
    name: 'RingGroup',
    synopsis: 'RingGroup(number): ring a ring group (ring_groups: in palisade.yaml); nobody answers: its destination; sets RINGGROUPSTATUS',
    async run(call, args) {
      const log = deps.log();
      const g = deps.group((args[0] ?? '').trim());
      if (!g || !log) {
        call.log.warn('ringgroup-unknown', { group: (args[0] ?? '').slice(0, 32) });
        call.vars.set('RINGGROUPSTATUS', 'INVALIDARGS');
        return;
      }
      const r = await ringGroup(g, call.channel, log);
      call.vars.set('RINGGROUPSTATUS', r.status);
      call.vars.set('DIALSTATUS', r.status);
      if (r.answeredBy) call.vars.set('RINGGROUPANSWEREDBY', r.answeredBy);
      log.info('ringgroup-done', { group: g.number, channel: call.channel.name, status: r.status, answered_by: r.answeredBy ?? null });
      if (r.status === 'ANSWER' || call.channel.hungUp) {
        if (!call.channel.hungUp) await call.channel.hangup('normal');
        return 'hangup';
      }
      return toDestination(call, g.destination, deps, log);
    },
  };
}
