// Stage 5 of the request pipeline: the digest challenge for the requests the
// core answers itself — OPTIONS addressed to a user, and out-of-dialog
// requests no route serves (NOTIFY, MESSAGE, REFER...) before their 405, so
// the answer never depends on the target (docs/architecture.md, Security
// rules). REGISTER, INVITE and SUBSCRIBE are challenged by their routes
// (registrar, B2BUA, event server) with the same authenticator.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { ServerTxHandle } from '../b2bua/types.js';

/** the challenge to send, or null when the request is authenticated */
export type Authenticate = (req: SipMessage, remote: Remote) => SipMessage | null;

export class AuthStage {
  /** absent: no request is challenged here */
  constructor(private readonly authenticate?: Authenticate) {}

  /** true when out-of-dialog requests are challenged before they are refused */
  get active(): boolean {
    return this.authenticate !== undefined;
  }

  /** true when the request was answered with a challenge (a 401 statelessly: a guess costs no memory) */
  challenged(tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean {
    const challenge = this.authenticate?.(req, remote);
    if (!challenge) return false;
    if (challenge.status === 401) tx.respondStateless(challenge);
    else tx.respond(challenge);
    return true;
  }
}
