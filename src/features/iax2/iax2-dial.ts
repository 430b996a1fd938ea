// The IAX2 Dial() technology: `IAX2/<trunk>/<exten>` places a call through
// an IAX2 trunk (authenticating with the trunk's username and secret),
// `IAX2/<peer>` rings an extension registered over IAX2. A call leaving by
// a trunk passes the call gate first (toll fraud, limits, reputation), and
// a trunk's max_channels caps its calls in progress.
import type { DialContext, DialOutcome, DialTechnology, OutboundLeg, TrunkLinkStatus } from '../../channel/dial-technology.js';
import type { DialTarget, HangupCause } from '../../channel/channel.js';
import type { CallGateApi } from '../../core/call-gate.js';
import { Cause, Format } from '../../iax2/iax2-constants.js';
import { Iax2Call } from '../../iax2/iax2-call.js';
import type { Iax2Engine } from '../../iax2/iax2-engine.js';
import type { PeerAddress } from '../../iax2/iax2-session.js';
import { OUR_CAPABILITY } from '../../iax2/iax2-server.js';
import type { Logger } from '../../observability/logger.js';
import { causeOf, HANGUP_CAUSE } from './iax2-channel.js';
import { Iax2Media } from './iax2-media.js';
import { iax2HoldLink, type Iax2HoldConfig } from './iax2-hold.js';
import type { HoldMusicSource } from '../../channel/hold-link.js';

export interface DialTrunk {
  name: string;
  username?: string;
  secret?: string;
  maxChannels: number;
  /** where calls go now (null: a dynamic trunk that has not registered) */
  address(): PeerAddress | null;
  active: number;
}

export interface Iax2DialDeps {
  engine: Iax2Engine;
  trunk(name: string): DialTrunk | undefined;
  /** the address an IAX2 peer (an extension) registered from */
  peer(name: string): PeerAddress | null;
  /** an extension with an IAX2 account (registered or not) */
  isPeer(name: string): boolean;
  gate: CallGateApi;
  log: Logger;
  /** is `context` where some trunk's calls enter (a call from there is a trunk's, not an extension's)? */
  isTrunkContext?(context: string): boolean;
  /** does the outbound route of this name allow trunk-to-trunk calls (`allow_trunk_calls`)? */
  routeAllowsTrunkCalls?(route: string): boolean;
  /** an IAX2 trunk's registration state for `palisade show trunks` */
  trunkStatus?(name: string): TrunkLinkStatus | undefined;
  /** hold across the caller's bridge: what the peer gets when the caller holds (iax2-hold.ts) */
  hold?: { cfg: Iax2HoldConfig; moh: HoldMusicSource };
}

function statusFor(code: number): Exclude<DialOutcome['status'], 'ANSWER'> {
  const c = causeOf(code);
  if (c === 'busy') return 'BUSY';
  if (c === 'congestion') return 'CONGESTION';
  if (c === 'noanswer') return 'NOANSWER';
  return 'CHANUNAVAIL';
}

let seq = 0;

/** the channel variable an outbound route sets before it dials (src/features/trunks/trunk-technology.ts ROUTE_VAR) */
const ROUTE_VAR = 'OUTBOUND_ROUTE';

export function iax2DialTechnology(d: Iax2DialDeps): DialTechnology {
  return {
    names: ['IAX2'],
    trunkStatus: (name) => d.trunkStatus?.(name),
    dial(target: DialTarget, ctx: DialContext) {
      const slash = target.resource.indexOf('/');
      const trunk = slash > 0 ? d.trunk(target.resource.slice(0, slash)) : undefined;
      if (slash > 0 && !trunk) return null;
      const exten = slash > 0 ? target.resource.slice(slash + 1) : target.resource;
      const remote = trunk ? trunk.address() : d.peer(exten);
      if (!remote) {
        d.log.info('iax2-dial-unavailable', { target: `${target.tech}/${target.resource}`, why: trunk ? 'trunk not registered' : 'peer not registered' });
        // an unknown trunk was refused above; a known one, or a known peer, is unavailable
        return trunk || d.isPeer(exten) ? { result: Promise.resolve({ status: 'CHANUNAVAIL' as const }), cancel() {} } : null;
      }
      // no trunk-to-trunk calls unless the outbound route that dials says so (as for SIP trunks)
      if (trunk && ctx.peer.account === undefined && d.isTrunkContext?.(ctx.context)) {
        const route = ctx.vars.get(ROUTE_VAR);
        if (!route || !d.routeAllowsTrunkCalls?.(route)) {
          d.log.warn('trunk-to-trunk-refused', { trunk: trunk.name, channel: ctx.channelName, to: exten, route: route ?? null });
          return { result: Promise.resolve({ status: 'CHANUNAVAIL' as const }), cancel() {} };
        }
      }
      if (trunk && trunk.maxChannels > 0 && trunk.active >= trunk.maxChannels) {
        d.log.info('iax2-trunk-full', { trunk: trunk.name, active: trunk.active });
        return { result: Promise.resolve({ status: 'CONGESTION' as const }), cancel() {} };
      }
      let ticket: { answered(cut: (c: string) => void): void; ended(billsec: number): void } | null = null;
      if (trunk) {
        // the trunk as the principal; the calling extension was checked (and counted) when its own call began
        const decision = d.gate.check({ caller: '', trunk: trunk.name, dialled: exten, remote: ctx.peer, callId: ctx.channelId });
        if (!decision.ok) {
          d.log.info('iax2-dial-refused', { trunk: trunk.name, exten, verdict: decision.verdict, reason: decision.reason });
          return { result: Promise.resolve({ status: 'CONGESTION' as const }), cancel() {} };
        }
        ticket = decision.ticket;
        trunk.active++;
      }
      return placeCall(d, remote, exten, ctx, trunk, ticket);
    },
  };
}

function placeCall(
  d: Iax2DialDeps,
  remote: PeerAddress,
  exten: string,
  ctx: DialContext,
  trunk: DialTrunk | undefined,
  ticket: { answered(cut: (c: string) => void): void; ended(billsec: number): void } | null,
) {
  const call = Iax2Call.place(d.engine, remote, {
    called: exten,
    callingNumber: ctx.callerIdNum,
    callingName: ctx.callerIdName,
    username: trunk?.username ?? trunk?.name,
    secret: trunk?.secret,
    capability: OUR_CAPABILITY,
    format: Format.ULAW,
  });
  const name = `IAX2/${trunk?.name ?? exten}-${(++seq).toString(16).padStart(8, '0')}`;
  const media = new Iax2Media(call);
  const holdLink = d.hold ? iax2HoldLink(call, media, d.hold.moh, d.hold.cfg, d.log, name) : undefined;
  let answeredAt = 0;
  let settle!: (o: DialOutcome) => void;
  const result = new Promise<DialOutcome>((r) => (settle = r));
  let endedResolve!: (c: HangupCause) => void;
  const ended = new Promise<HangupCause>((r) => (endedResolve = r));
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const once = (o: DialOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    settle(o);
  };
  const leg: OutboundLeg = {
    name,
    number: exten,
    endpoint: media,
    ended,
    hangup: (cause: HangupCause = 'normal') => call.hangup(...HANGUP_CAUSE[cause]),
    ...(holdLink ? { holdLink } : {}),
  };
  const attempt = {
    result,
    onRinging: null as (() => void) | null,
    cancel: () => {
      if (!settled) {
        call.hangup(Cause.NORMAL_CLEARING, 'Cancelled');
        once({ status: 'CANCEL' });
      } else if (answeredAt === 0) call.hangup();
    },
  };
  call.events.ringing = () => attempt.onRinging?.();
  call.events.answered = () => {
    answeredAt = Date.now();
    media.start();
    ticket?.answered(() => call.hangup(Cause.NORMAL_CLEARING, 'Call limit reached'));
    d.log.info('iax2-dial-answered', { leg: name, exten, codec: media.codec });
    once({ status: 'ANSWER', leg });
  };
  const prevEnded = call.events.ended;
  call.events.ended = (code, text, by) => {
    prevEnded?.(code, text, by);
    if (trunk) trunk.active--;
    ticket?.ended(answeredAt ? Math.round((Date.now() - answeredAt) / 1000) : 0);
    d.log.info('iax2-dial-ended', { leg: name, cause: code, text, by, frames: { ...media.stats } });
    once({ status: by === 'timeout' ? 'CHANUNAVAIL' : statusFor(code) });
    endedResolve(by === 'timeout' ? 'failure' : causeOf(code));
    media.close();
  };
  if (ctx.timeoutMs > 0) {
    timer = setTimeout(() => {
      if (settled) return;
      call.hangup(Cause.NO_ANSWER, 'No answer');
      once({ status: 'NOANSWER' });
    }, ctx.timeoutMs);
    timer.unref();
  }
  return attempt;
}
