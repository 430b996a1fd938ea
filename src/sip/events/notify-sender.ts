// How the event server sends a NOTIFY and reads its fate: one non-INVITE
// client transaction per NOTIFY, its ending reduced to a status, and the
// RFC rule that says which endings finish the subscription.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { TransactionManager } from '../transaction/transaction-manager.js';
import type { Remote } from '../../transport/types.js';

/** how a NOTIFY's client transaction ended */
export interface NotifyOutcome {
  /**
   * the final status; RFC 3261 §8.1.3.1: a timeout (Timer F) counts as 408
   * and a fatal transport error as 503
   */
  status: number;
  /** the response carried Retry-After */
  retryAfter?: boolean;
}

/** sends a request in a client transaction; resolves once it has a final outcome */
export type NotifySender = (req: SipMessage, remote: Remote) => Promise<NotifyOutcome>;

/** the production sender: a client transaction of the transaction manager */
export function notifyThrough(tm: Pick<TransactionManager, 'sendRequest'>): NotifySender {
  return (req, remote) =>
    new Promise<NotifyOutcome>((resolve) => {
      tm.sendRequest(req, remote, {
        onResponse: (res) => {
          if (res.status >= 200) resolve({ status: res.status, retryAfter: res.has('retry-after') });
        },
        onTimeout: () => resolve({ status: 408 }),
        onTransportError: () => resolve({ status: 503 }),
      });
    });
}

/**
 * Does this outcome end the subscription? RFC 6665 §4.2.2: a 481 does, and
 * a NOTIFY that times out (Timer F) does too. For the other failures RFC
 * 6665 keeps RFC 3265 §3.2.2's rule: "A NOTIFY request is considered failed
 * if the response times out, or a non-200 class response code is received
 * which has no 'Retry-After' header", and a failed NOTIFY removes the
 * subscription. A transport error (503 without Retry-After) is one.
 */
export function notifyFailed(o: NotifyOutcome): boolean {
  if (o.status >= 200 && o.status < 300) return false;
  if (o.status === 481 || o.status === 408) return true;
  return !o.retryAfter;
}
