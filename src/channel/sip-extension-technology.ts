// Our SIP extensions as a Dial() technology, for channels of other
// technologies: an IAX2 call that an inbound route (or the dialplan) sends
// to `SIP/2001` rings 2001's phones here. A SIP channel rings its own
// extensions natively (SipChannel.dial) and never asks the registry for
// them; this technology answers only targets naming one of our extensions
// (null otherwise, so trunks and other technologies keep theirs). The
// answered phone's leg is an OutboundLeg whose endpoint is an RTP MediaLeg
// with Palisade's own SDP, bridged frame by frame like a trunk's leg. The
// other technology has no SIP dialog to carry a re-INVITE to, so the phone's
// re-INVITEs and UPDATEs (hold, resume, a new address) are answered here for
// this leg alone, as a channel answers its caller's (sip-leg.ts).
import type { DialAttempt, DialContext, DialOutcome, DialTechnology, OutboundLeg } from './dial-technology.js';
import type { DialTarget, HangupCause } from './channel.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { SocketPair } from '../media/rtp/rtp-endpoint.js';
import type { Logger } from '../observability/logger.js';
import { MediaLeg } from '../media/media-leg.js';
import { MediaSession } from '../media/media-session.js';
import { negotiateOffer } from '../media/media-sdp.js';
import { buildResponse } from '../sip-message/response.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import type { ServerTxHandle } from '../sip/b2bua/types.js';
import { OutboundDial, type AnsweredLeg, type DialBranchTarget } from './sip-dial.js';
import { holdsBy, musicWhileHeld, type HoldLink, type HoldMusicSource } from './hold-link.js';

export interface SipExtensionTechnologyDeps {
  ua: SipLegHost;
  allocatePair(): SocketPair;
  mediaAddress: string;
  log: Logger;
  /** the music a phone hears while the other technology's party holds it */
  moh: HoldMusicSource;
}

let seq = 0;

export function sipExtensionTechnology(d: SipExtensionTechnologyDeps): DialTechnology {
  return {
    names: ['SIP', 'PJSIP'],
    dial(target: DialTarget, ctx: DialContext): DialAttempt | null {
      const ext = d.ua.extension(target.resource);
      if (!ext) return null;
      const failed = (status: Exclude<DialOutcome['status'], 'ANSWER'>): DialAttempt => ({ result: Promise.resolve({ status } as DialOutcome), onRinging: null, cancel() {} });
      // do-not-disturb answers busy, as on a SIP channel's Dial()
      if (d.ua.diversionOf?.(ext.number)?.dnd) return failed('BUSY');
      const branches: DialBranchTarget[] = d.ua.contacts(ext.number).map((binding) => ({ number: ext.number, binding }));
      if (branches.length === 0) return failed('CHANUNAVAIL');
      let session: MediaSession;
      try {
        session = new MediaSession(new MediaLeg(d.allocatePair(), d.mediaAddress, 0), d.mediaAddress);
      } catch (err) {
        d.log.warn('dial-no-media', { channel: ctx.channelName, error: (err as Error).message });
        return failed('CONGESTION');
      }
      const attempt: DialAttempt & { onRinging: (() => void) | null } = {
        onRinging: null,
        cancel: () => dial.cancel(),
        result: Promise.resolve({ status: 'CHANUNAVAIL' }),
      };
      const dial = new OutboundDial(d.ua, {
        targets: branches,
        offer: session.offer(),
        callerNumber: ctx.callerIdNum,
        callerName: ctx.callerIdName,
        timeoutMs: 0,
        onRinging: () => attempt.onRinging?.(),
      });
      (attempt as { result: Promise<DialOutcome> }).result = dial.result.then((r): DialOutcome => {
        if (r.status !== 'ANSWER' || !r.leg) {
          session.leg.close();
          return { status: r.status === 'ANSWER' ? 'CHANUNAVAIL' : r.status };
        }
        const answered = r.leg;
        try {
          session.takeAnswer(r.answerSdp ?? Buffer.alloc(0));
        } catch (err) {
          d.log.info('dial-bad-answer', { channel: ctx.channelName, error: (err as Error).message });
          answered.hangup();
          session.leg.close();
          return { status: 'CHANUNAVAIL' };
        }
        const media = session.leg;
        media.start();
        // hold across the frame bridge: the phone's hold re-INVITEs tell the calling side, and
        // while the calling side's party holds, the phone hears music on hold (hold-link.ts)
        const holdLink: HoldLink = { onHold: null, held: musicWhileHeld(media, d.moh) };
        answerLocally(d, answered, session, (held) => holdLink.onHold?.(held, ''));
        const leg: OutboundLeg = {
          name: `SIP/${ext.number}-${(++seq).toString(16).padStart(8, '0')}`,
          number: ext.number,
          endpoint: media,
          ended: answered.ended.then((): HangupCause => {
            media.close();
            return 'normal';
          }),
          hangup: () => answered.hangup(),
          sip: { leg: answered, session },
          holdLink,
        };
        return { status: 'ANSWER', leg };
      });
      return attempt;
    },
  };
}

/** the phone's offers in the answered dialog, answered for this leg (no other SIP dialog to offer them to) */
function answerLocally(d: SipExtensionTechnologyDeps, leg: AnsweredLeg, session: MediaSession, holdChanged: (held: boolean) => void): void {
  let ok2xx: { stop(): void } | undefined;
  let holding = false;
  leg.bridge = {
    inDialog(tx: ServerTxHandle, req: SipMessage): boolean {
      if (req.method !== 'INVITE' && req.method !== 'UPDATE') return false;
      const server = d.ua.userAgent;
      let body: Buffer | undefined;
      let holds: boolean | null = null;
      if (req.body.length) {
        try {
          const codec = session.leg.codec;
          const offer = negotiateOffer(req.body, codec ? [codec] : undefined);
          body = session.answer(offer);
          holds = holdsBy(offer.media.direction);
        } catch {
          tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
          return true;
        }
      } else if (req.method === 'INVITE') body = session.offer(session.direction);
      const res = buildResponse(req, 200, 'OK', { toTag: leg.dialog.localTag, server, body, contentType: body ? 'application/sdp' : undefined });
      res.headers.push({ name: 'contact', value: leg.dialog.localContact });
      tx.respond(res);
      if (req.method === 'INVITE') {
        ok2xx?.stop();
        ok2xx = d.ua.retransmit2xx(res, leg.dialog.remote, () => undefined);
      }
      if (holds !== null && holds !== holding) {
        holding = holds;
        holdChanged(holds);
      }
      return true;
    },
    onAck(ack: SipMessage): void {
      ok2xx?.stop();
      ok2xx = undefined;
      if (!session.awaitingAnswer || ack.body.length === 0) return;
      try {
        // our 2xx carried the offer (a session refresh): the ACK the answer (RFC 3261 §13.2.1)
        session.takeAnswer(ack.body);
      } catch (err) {
        d.log.info('dial-bad-answer', { leg: leg.number, error: (err as Error).message });
      }
    },
  };
  void leg.ended.then(() => ok2xx?.stop());
}
