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
// this leg alone, and its holds cross as the other technology signals them
// (sip-frame-side.ts).
import type { DialAttempt, DialContext, DialOutcome, DialTechnology, OutboundLeg } from './dial-technology.js';
import type { DialTarget, HangupCause } from './channel.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { SocketPair } from '../media/rtp/rtp-endpoint.js';
import type { Logger } from '../observability/logger.js';
import { MediaLeg } from '../media/media-leg.js';
import { MediaSession } from '../media/media-session.js';
import { OutboundDial, type DialBranchTarget } from './sip-dial.js';
import type { HoldMusicSource } from './hold-link.js';
import { sipFrameSide } from './sip-frame-side.js';

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
        // the phone's re-INVITEs are answered for this leg; its holds tell the calling side, and
        // while the calling side's party holds, the phone hears music on hold (sip-frame-side.ts)
        const holdLink = sipFrameSide(d, answered, session);
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
