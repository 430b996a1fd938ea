// Two phones a transfer joined after the channel that held one of them
// ended: the caller of a dialplan channel transferred its far party (REFER
// from the caller's phone, channel-transfer.ts), so the far party and the
// transfer's target talk on without that channel. Both legs are Palisade's
// outgoing dialogs with their media in its engine; a DialBridge joins them
// packet by packet and carries re-INVITEs and UPDATEs (hold) across, as in
// a Dial() bridge. When either phone hangs up the other gets BYE, the
// gate's ticket ends and the segment gets its CDR (lastapp Transfer).
import { newToken } from '../sip/dialog/dialog.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { CallTicket } from '../sip/b2bua/types.js';
import type { Logger } from '../observability/logger.js';
import { DialBridge } from './dial-bridge.js';
import type { FarParty } from './channel-transfer.js';

export interface JoinedSegment {
  /** the id of the channel the transfer came from (the CDR's uniqueid starts with it) */
  id: string;
  /** the channel the transfer came from (the CDR's channel and context) */
  channel: string;
  context: string;
  /** the transferee (the CDR's src) and its caller ID name */
  name: string;
  /** what the CDR's userfield says: "attended transfer by 1002 to 1003" */
  how: string;
  /** the address of the transferor's phone, for the CDR */
  sourceIp: string;
}

/** joins `stay` (the transferee) and `comes` (the party it now talks to) until one hangs up */
export function joinLegs(ua: SipLegHost, log: Logger, stay: FarParty, comes: FarParty, seg: JoinedSegment, ticket?: CallTicket): void {
  const start = new Date();
  stay.session.leg.start();
  comes.session.leg.start();
  const bridge = new DialBridge(ua, { a: { dialog: stay.leg.dialog, session: stay.session }, b: { dialog: comes.leg.dialog, session: comes.session } }, log, seg.channel);
  stay.leg.bridge = { inDialog: (tx, req) => bridge.inDialog('a', tx, req), onAck: (ack) => bridge.onAck('a', ack) };
  comes.leg.bridge = { inDialog: (tx, req) => bridge.inDialog('b', tx, req), onAck: (ack) => bridge.onAck('b', ack) };
  // a further transfer in this segment is not served: 603 (sip-dial.ts)
  stay.leg.onRefer = null;
  comes.leg.onRefer = null;
  ticket?.answered(() => {
    stay.leg.hangup();
    comes.leg.hangup();
  });
  log.info('transfer-joined', { channel: seg.channel, a: stay.leg.number, b: comes.leg.number, how: seg.how });
  void Promise.race([stay.leg.ended, comes.leg.ended]).then(() => {
    bridge.close();
    stay.leg.bridge = null;
    comes.leg.bridge = null;
    stay.leg.hangup();
    comes.leg.hangup();
    stay.session.leg.close();
    comes.session.leg.close();
    const end = new Date();
    const secs = Math.round((end.getTime() - start.getTime()) / 1000);
    try {
      ticket?.ended(secs);
    } catch (err) {
      log.error('call-gate-ticket-failed', { channel: seg.channel, error: (err as Error).message });
    }
    try {
      ua.writeCdr({
        accountcode: '',
        src: stay.leg.number,
        dst: comes.leg.number,
        dcontext: seg.context,
        clid: `"${seg.name}" <${stay.leg.number}>`,
        channel: `SIP/${stay.leg.number}-${newToken().slice(0, 8)}`,
        dstchannel: comes.trunkLeg ?? `SIP/${comes.leg.number}`,
        lastapp: 'Transfer',
        lastdata: comes.trunkLeg ? `ROUTE/${comes.leg.number}` : `SIP/${comes.leg.number}`,
        start,
        answer: start,
        end,
        duration: secs,
        billsec: secs,
        disposition: 'ANSWERED',
        amaflags: 'DOCUMENTATION',
        uniqueid: `${seg.id}.${newToken().slice(0, 6)}`,
        userfield: seg.how,
        sourceIp: seg.sourceIp,
        securityVerdict: 'authenticated',
      });
    } catch (err) {
      log.error('cdr-write-failed', { channel: seg.channel, error: (err as Error).message });
    }
    log.info('transfer-joined-ended', { channel: seg.channel, a: stay.leg.number, b: comes.leg.number, secs });
  });
}
