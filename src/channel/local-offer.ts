// A re-INVITE or UPDATE in a dialog whose media Palisade terminates and no
// bridge carries on (a channel's caller, a phone or trunk leg bridged frame
// by frame): its offer is answered for our own endpoint, or, when it had
// none, the answer to ours comes in the ACK. Either way the phone's
// direction says whether it holds the call, by one rule (holdsBy). Shared
// by sip-leg.ts and sip-frame-side.ts, which add the dialog's 200 and 2xx
// retransmission around it.
import { negotiateOffer } from '../media/media-sdp.js';
import type { MediaSession } from '../media/media-session.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { holdsBy } from '../media/sdp/sdp-query.js';

/**
 * The body of our 200 and whether the offer holds the call (RFC 3264 §8.4;
 * null when the request had no offer: a re-INVITE's 2xx then carries ours
 * and the ACK the answer, RFC 3261 §14.2). Null when the offer's media
 * cannot be taken: the request gets 488.
 */
export function answerHere(session: MediaSession, req: SipMessage): { body: Buffer | undefined; holds: boolean | null } | null {
  // our offer says what we want, sendrecv (Palisade holds no one here: a held party hears music), not the
  // last direction agreed: after the phone held with sendonly that is recvonly, which would forbid the
  // phone to resume in its answer (RFC 3264 §6.1; RFC 6337 §5.3)
  if (req.body.length === 0) return { body: req.method === 'INVITE' ? session.offer('sendrecv') : undefined, holds: null };
  try {
    const codec = session.leg.codec;
    const offer = negotiateOffer(req.body, codec ? [codec] : undefined);
    return { body: session.answer(offer), holds: holdsBy(offer.media) };
  } catch {
    return null;
  }
}

/**
 * The answer in the ACK to a 2xx of ours that carried the offer (RFC 3261
 * §13.2.1; the 2xx to a re-INVITE without one, §14.2: some phones hold and
 * resume that way, RFC 6337 §5.3), applied to the session, and whether it
 * holds the call. The direction is the phone's own in an answer as in an
 * offer: sendonly or inactive from the phone holds us (RFC 3264 §6.1,
 * §8.4). Null when no answer was awaited or the ACK carries none: the hold
 * stays as it was. Throws MediaNegotiationError when the answer cannot be
 * taken.
 */
export function answerInAck(session: MediaSession, ack: SipMessage): boolean | null {
  if (!session.awaitingAnswer || ack.body.length === 0) return null;
  return holdsBy(session.takeAnswer(ack.body));
}
