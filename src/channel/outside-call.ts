// A transfer's target that is no extension and no transfer service: an
// outside number, called out through the transferor's outbound routes as
// if the transferor had dialled it. The route technology (ROUTE/<number>,
// src/features/trunks/route-technology.ts) picks the first route of the
// transferor's context whose pattern (and time condition) takes the
// number, rewrites it, tries its trunks in order (the next on CONGESTION or
// CHANUNAVAIL) and presents the caller ID the route and trunk say, starting
// from the transferor's own. The call gate has judged the transfer as a
// call by the transferor before this is asked (the caller of each path
// holds that ticket); each trunk attempt passes the gate again as the
// trunk's call, as every call out of a trunk does.
//
// Only a SIP leg can take a transferred party's place (its RTP is relayed
// packet by packet, its re-INVITEs carried across): an answer on a trunk
// of another technology is hung up and the transfer fails.
import type { Remote } from '../transport/types.js';
import type { DialTechnologies } from './dial-technology.js';
import type { DialStatus } from './channel.js';
import type { FarParty } from './channel-transfer.js';

/** who transfers: the outside call is theirs (context for the routes, identity for the caller ID) */
export interface OutsideCaller {
  number: string;
  name: string;
  context: string;
  remote: Remote;
}

export type OutsideOutcome = { status: 'ANSWER'; far: FarParty } | { status: Exclude<DialStatus, 'ANSWER'> };

/** an outside call being placed for a transfer */
export interface OutsideCall {
  readonly result: Promise<OutsideOutcome>;
  cancel(): void;
}

/** how long an outside target rings before the transfer fails (a route's own timeout may be shorter) */
const OUTSIDE_RING_MS = 60_000;

/**
 * The outside call to `number` for a transfer by `by`; null when no
 * outbound route of the transferor takes the number (or there are no
 * routes at all). `onRinging` is told of the first 180/183.
 */
export function dialOutside(
  technologies: DialTechnologies | undefined,
  number: string,
  by: OutsideCaller,
  channel: { name: string; id: string },
  onRinging: () => void,
): OutsideCall | null {
  if (!technologies?.has('ROUTE')) return null;
  const attempt = technologies.dial(
    { tech: 'ROUTE', resource: number },
    {
      channelName: channel.name,
      channelId: channel.id,
      callerIdNum: by.number,
      callerIdName: by.name,
      context: by.context,
      peer: { transport: by.remote.transport, address: by.remote.address, port: by.remote.port, account: by.number },
      timeoutMs: OUTSIDE_RING_MS,
      vars: new Map(),
    },
  );
  if (!attempt) return null;
  let rang = false;
  attempt.onRinging = () => {
    if (rang) return;
    rang = true;
    onRinging();
  };
  const timer = setTimeout(() => attempt.cancel(), OUTSIDE_RING_MS);
  const result = attempt.result.then((o): OutsideOutcome => {
    clearTimeout(timer);
    if (o.status !== 'ANSWER') return { status: o.status };
    const sip = o.leg.sip;
    if (!sip) {
      o.leg.hangup('normal');
      return { status: 'CHANUNAVAIL' };
    }
    return { status: 'ANSWER', far: { leg: sip.leg, session: sip.session, trunkLeg: o.leg.name } };
  });
  return { result, cancel: () => attempt.cancel() };
}
