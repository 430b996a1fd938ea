// One call out of a SIP trunk: the channel layer's outgoing call
// (src/channel/sip-outbound-call.ts) to the trunk's targets, a challenge
// answered with the trunk's credentials, not the caller's.
import { SipOutboundCall, type OutboundCallHost, type OutboundCallRequest } from '../../channel/sip-outbound-call.js';
import { digestCredentials, readChallenge } from './digest-client.js';
import type { TrunkConfig } from './trunk-config.js';

export type TrunkCallHost = OutboundCallHost;

/** a trunk call: the outgoing call's request, its peer and credentials the trunk's */
export type TrunkCallRequest = Omit<OutboundCallRequest, 'peer' | 'credentials' | 'logAs' | 'callId' | 'headers'> & { trunk: TrunkConfig };

let legSeq = 0;

export class SipTrunkCall extends SipOutboundCall {
  constructor(host: TrunkCallHost, r: TrunkCallRequest) {
    const t = r.trunk;
    super(host, {
      ...r,
      peer: t,
      logAs: 'trunk',
      credentials: (res, invite) => {
        if (!t.username || t.secret === null) return null;
        const c = readChallenge(res);
        return c && { header: c.header, value: digestCredentials(c, { ...invite, username: t.username, secret: t.secret, nc: 1 }) };
      },
    });
  }
}

/** a fresh leg name for a trunk: SIP/office-b-0000000a */
export function trunkLegName(trunk: string): string {
  return `SIP/${trunk}-${(++legSeq).toString(16).padStart(8, '0')}`;
}
