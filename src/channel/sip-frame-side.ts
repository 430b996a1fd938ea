// A SIP leg that another technology's channel bridges frame by frame (an
// IAX2 call to one of our phones, an IAX2 call out of a SIP trunk): the
// other side has no SIP dialog to carry a re-INVITE to, so the leg's
// re-INVITEs and UPDATEs (hold, resume, a new address) are answered here
// for this leg alone, as a channel answers its caller's (sip-leg.ts). Its
// holds (by an offer, or by the answer in the ACK when its re-INVITE had
// none) are reported to the bridge, and while the other side's party holds
// it, it hears music on hold (hold-link.ts). A SIP channel that bridges
// such a leg packet by packet (dial-bridge.ts) takes its re-INVITEs over.
import type { Logger } from '../observability/logger.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { ServerTxHandle } from '../sip/b2bua/types.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { buildResponse } from '../sip-message/response.js';
import type { MediaSession } from '../media/media-session.js';
import { musicWhileHeld, type HoldLink, type HoldMusicSource } from './hold-link.js';
import { answerHere, answerInAck } from './local-offer.js';
import type { AnsweredLeg } from './sip-dial.js';

export interface SipFrameSideDeps {
  ua: Pick<SipLegHost, 'userAgent' | 'retransmit2xx'>;
  log: Logger;
  moh: HoldMusicSource;
}

/** answers the leg's offers here from now on; returns its side of a bridge's hold */
export function sipFrameSide(d: SipFrameSideDeps, leg: AnsweredLeg, session: MediaSession): HoldLink {
  const link: HoldLink = { onHold: null, held: musicWhileHeld(session.leg, d.moh) };
  let ok2xx: { stop(): void } | undefined;
  let holding = false;
  // reported only when it changes; null (no offer, no answer) changes nothing
  const holdIs = (holds: boolean | null): void => {
    if (holds === null || holds === holding) return;
    holding = holds;
    link.onHold?.(holds, '');
  };
  leg.bridge = {
    inDialog(tx: ServerTxHandle, req: SipMessage): boolean {
      if (req.method !== 'INVITE' && req.method !== 'UPDATE') return false;
      const server = d.ua.userAgent;
      const answered = answerHere(session, req);
      if (!answered) {
        tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
        return true;
      }
      const { body, holds } = answered;
      const res = buildResponse(req, 200, 'OK', { toTag: leg.dialog.localTag, server, body, contentType: body ? 'application/sdp' : undefined });
      res.headers.push({ name: 'contact', value: leg.dialog.localContact });
      tx.respond(res);
      if (req.method === 'INVITE') {
        ok2xx?.stop();
        ok2xx = d.ua.retransmit2xx(res, leg.dialog.remote, () => undefined);
      }
      holdIs(holds);
      return true;
    },
    onAck(ack: SipMessage): void {
      ok2xx?.stop();
      ok2xx = undefined;
      let holds: boolean | null;
      try {
        // our 2xx carried the offer (a session refresh, a hold by re-INVITE without SDP): the ACK the answer
        holds = answerInAck(session, ack);
      } catch (err) {
        d.log.info('dial-bad-answer', { leg: leg.number, error: (err as Error).message });
        return;
      }
      holdIs(holds);
    },
  };
  void leg.ended.then(() => ok2xx?.stop());
  return link;
}
