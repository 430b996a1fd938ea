// One call out of a SIP trunk: the channel layer's outgoing call
// (src/channel/sip-outbound-call.ts) to the trunk's targets, a challenge
// answered with the trunk's credentials, not the caller's.
import { SipOutboundCall, type OutboundCallHost, type PresentedId } from '../../channel/sip-outbound-call.js';
import type { Remote } from '../../transport/types.js';
import { digestCredentials, readChallenge } from './digest-client.js';
import type { TrunkConfig } from './trunk-config.js';

export type TrunkCallHost = OutboundCallHost;

export interface TrunkCallRequest {
  trunk: TrunkConfig;
  number: string;
  /** the targets, best first; for a dynamic trunk the contact it registered */
  targets: Remote[];
  /** Request-URI per target (a dynamic trunk's registered contact); default sip:number@host */
  requestUri?: (target: Remote) => string;
  caller: PresentedId;
  /** name of the leg, e.g. SIP/office-b-00000003 */
  legName: string;
  /** the attempt is over (failed, or the answered leg ended) */
  onDone(): void;
}

let legSeq = 0;

export class SipTrunkCall extends SipOutboundCall {
  constructor(host: TrunkCallHost, r: TrunkCallRequest) {
    const t = r.trunk;
    super(host, {
      ...r,
      peer: t,
      logAs: 'trunk',
      credentials: (res, invite) => {
        const c = t.username && t.secret !== null ? readChallenge(res) : null;
        if (!c || !t.username || t.secret === null) return null;
        return { header: c.header, value: digestCredentials(c, { ...invite, username: t.username, secret: t.secret, nc: 1 }) };
      },
    });
  }
}

/** a fresh leg name for a trunk: SIP/office-b-0000000a */
export function trunkLegName(trunk: string): string {
  return `SIP/${trunk}-${(++legSeq).toString(16).padStart(8, '0')}`;
}
