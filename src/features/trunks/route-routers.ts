// The outbound and inbound routes as call routers (src/channel/call-routers.ts):
// numbers the dialplan does not take itself.
//
// Outbound: a caller's number matches a route → the route's PIN (if any) →
// the number rewritten (strip, prepend) → each trunk in order, the next on
// CONGESTION or CHANUNAVAIL (5xx, 408, no answer from the host, trunk full,
// refused by the call gate), never after BUSY or NOANSWER.
// Inbound: a call from a trunk (its context) whose DID and caller ID match a
// route → the destination now (time condition): an extension, a dialplan
// context,exten,priority, or a voicemail box.
import type { CallRouter } from '../../channel/call-routers.js';
import type { Channel, DialResult } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { PinOutcome } from '../../core/pin-outcome.js';
import type { Logger } from '../../observability/logger.js';
import type { RouteTable } from './route-table.js';
import { ROUTE_VAR } from './trunk-technology.js';

export interface RouterDeps {
  table(): RouteTable;
  log: Logger;
  /** is `n` one of our extensions (or a number the dialplan serves)? An outbound route never takes one */
  isInternal(n: string): boolean;
  /** a trunk's type: an IAX2 trunk is dialled as IAX2/trunk/number, a SIP one as PJSIP/number@trunk */
  trunkType(name: string): 'sip' | 'iax2' | undefined;
  /** the trunk a channel came in on (null for our own callers) */
  trunkOf(channel: Channel): string | null;
  /** run the dialplan from a start point (an inbound route's context,exten,priority) */
  runDialplan(channel: Channel, media: ChannelMedia, start: { context: string; exten: string; priority: string }): Promise<void>;
  /** leave a message in a mailbox (VoiceMail) */
  voicemail(channel: Channel, media: ChannelMedia, mailbox: string): Promise<void>;
  pinOutcome(o: PinOutcome): void;
  /** ring timeout for an inbound call to an extension, ms */
  ringTimeoutMs: number;
}

const PIN_TRIES = 3;

export function outboundRouter(d: RouterDeps): CallRouter {
  return {
    name: 'outbound-routes',
    has: (context, exten) => !d.isInternal(exten) && d.table().outbound(context, exten) !== null,
    async run(channel, media) {
      const m = d.table().outbound(channel.context, channel.dialed);
      if (!m) return channel.hangup('unallocated');
      const { route, number } = m;
      if (route.pin !== null && !(await askPin(d, channel, media, route.pin, route.name))) return channel.hangup('rejected');
      channel.vars.set(ROUTE_VAR, route.name);
      let last: DialResult = { status: 'CHANUNAVAIL' };
      for (const trunk of route.trunks) {
        if (channel.hungUp) return;
        const target = d.trunkType(trunk) === 'iax2' ? { tech: 'IAX2', resource: `${trunk}/${number}` } : { tech: 'PJSIP', resource: `${number}@${trunk}` };
        last = await channel.dial([target], { timeoutMs: route.timeout * 1000, options: '' });
        channel.vars.set('DIALSTATUS', last.status);
        d.log.info('route-attempt', { route: route.name, trunk, channel: channel.name, status: last.status });
        if (last.status !== 'CONGESTION' && last.status !== 'CHANUNAVAIL') break;
      }
      if (channel.hungUp) return;
      await channel.hangup(last.status === 'BUSY' ? 'busy' : last.status === 'NOANSWER' ? 'noanswer' : last.status === 'ANSWER' ? 'normal' : 'congestion');
    },
  };
}

/** FreePBX's route password: up to three tries; each outcome goes to the defences like any PIN */
async function askPin(d: RouterDeps, channel: Channel, media: ChannelMedia, pin: string, route: string): Promise<boolean> {
  if (!channel.answered) await channel.answer();
  for (let i = 1; i <= PIN_TRIES; i++) {
    const first = await media.play(['agent-pass'], { interruptDigits: '0123456789#' });
    const got = await media.readDigits({ maxDigits: pin.length, timeoutMs: 5000, terminators: '#', initial: first.digit ?? '' });
    const ok = got === pin;
    d.pinOutcome({ ok, service: 'OutboundRoute', account: route, call: channel, detail: `attempt ${i} of ${PIN_TRIES}` });
    if (ok) return true;
    if (channel.hungUp) return false;
    await media.play([i < PIN_TRIES ? 'auth-incorrect' : 'goodbye']);
  }
  return false;
}

export function inboundRouter(d: RouterDeps): CallRouter {
  return {
    name: 'inbound-routes',
    has: (context, exten, callerId) => d.table().isTrunkContext(context) && d.table().inbound(null, exten, callerId) !== null,
    async run(channel, media) {
      const trunk = d.trunkOf(channel) ?? '';
      const t = d.table();
      const r = t.inbound(trunk, channel.dialed, channel.callerIdNum);
      if (!r) return channel.hangup('unallocated');
      const dest = t.destination(r, channel.dialed);
      d.log.info('inbound-route', {
        channel: channel.name,
        trunk,
        did: channel.dialed,
        to: dest.kind === 'extension' ? dest.number : dest.kind === 'voicemail' ? `voicemail:${dest.mailbox}` : `${dest.context},${dest.exten},${dest.priority}`,
      });
      switch (dest.kind) {
        case 'dialplan':
          return d.runDialplan(channel, media, dest);
        case 'voicemail':
          return d.voicemail(channel, media, dest.mailbox);
        case 'extension': {
          if (!dest.number || !d.isInternal(dest.number)) return channel.hangup(dest.number ? 'unallocated' : 'congestion');
          const res = await channel.dial([{ tech: 'SIP', resource: dest.number }], { timeoutMs: d.ringTimeoutMs, options: '' });
          channel.vars.set('DIALSTATUS', res.status);
          if (!channel.hungUp) await channel.hangup(res.status === 'BUSY' ? 'busy' : res.status === 'ANSWER' ? 'normal' : 'noanswer');
        }
      }
    },
  };
}
