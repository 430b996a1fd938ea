// Blind transfer on a dialplan channel: the party a Dial() bridged the
// channel with sends REFER (RFC 3515) to hand the caller on. Palisade
// terminates the media of both legs, so the caller's phone hears nothing
// of it: a new outgoing leg rings the Refer-To's extension with the
// caller's identity and, once it answers, takes the transferor's place in
// the bridge (SipChannel.replaceFar); the transferor gets the NOTIFYs
// (message/sipfrag, §2.4.5) and then BYE. The call gate judges the
// transfer as a call by the transferring extension. The segment that ends
// gets its CDR; the channel's own CDR is written when it ends, as always.
//
// Not here: REFER from the caller's own phone (its channel would have to
// live on without it; declined with 603), and Replaces (attended transfer)
// on channels (501): the B2BUA's direct calls do both (src/sip/b2bua/call-transfer.ts).
import { buildResponse } from '../sip/message/response.js';
import type { SipMessage } from '../sip/message/sip-message.js';
import { newToken } from '../sip/dialog/dialog.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { CallTicket, ServerTxHandle } from '../sip/b2bua/types.js';
import { readReferTo, referNotify } from '../sip/b2bua/refer.js';
import type { Logger } from '../observability/logger.js';
import type { Remote } from '../transport/types.js';
import type { MediaSession } from '../media/media-session.js';
import { OutboundDial, type AnsweredLeg } from './sip-dial.js';
import type { ChannelFeatures, Consultation, TransferService } from './channel-features.js';

/**
 * A channel whose technology can move its caller elsewhere (SIP: REFER to
 * the caller's phone). An optional capability, not part of Channel: the
 * Transfer() application checks for it and sets TRANSFERSTATUS=UNSUPPORTED
 * on channels without it.
 */
export interface TransferableChannel {
  transferTo(target: string): Promise<'SUCCESS' | 'FAILURE' | 'UNSUPPORTED'>;
}

export function isTransferable(ch: object): ch is TransferableChannel {
  return typeof (ch as Partial<TransferableChannel>).transferTo === 'function';
}

/** what a transfer needs of its channel (SipChannel) */
export interface TransferChannel {
  readonly name: string;
  readonly id: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly context: string;
  readonly hungUp: boolean;
  readonly ended: Promise<unknown>;
  readonly remote: { address: string };
  /** the caller's signalling address, as the gate takes it */
  remoteOf(): Remote;
  /** when the far leg now bridged joined */
  readonly farSince: Date | null;
  newFarSession(): MediaSession;
  replaceFar(leg: AnsweredLeg, session: MediaSession): void;
  /** hand the caller to a service (parking); `release` lets the transferor go (channel-features.ts) */
  handOver?(service: TransferService, number: string, release: () => void): Promise<boolean>;
  hangup(): Promise<void>;
}

/** how long a transfer's target rings before the transfer fails */
const TRANSFER_RING_MS = 30_000;

export class ChannelTransfers {
  private busy = false;

  constructor(
    private readonly ch: TransferChannel,
    private readonly ua: SipLegHost,
    private readonly log: Logger,
    private readonly features?: ChannelFeatures,
  ) {}

  /**
   * A REFER from the caller's own phone: the gate still judges the number
   * first (a refusal is the same 403 as anywhere); a transfer it would let
   * through is declined (603), as the caller's channel cannot live on
   * without its phone yet.
   */
  fromCaller(transferor: string, tx: ServerTxHandle, req: SipMessage): void {
    const server = this.ua.userAgent;
    const target = readReferTo(req);
    if (!target) return tx.respond(buildResponse(req, 400, 'Bad Refer-To', { server }));
    const ext = this.ua.extension(target.user);
    const d = this.ua.gateCheck?.({ caller: transferor, dialled: target.user, callee: ext?.number, remote: this.ch.remoteOf(), callId: req.callId });
    if (d && !d.ok) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, verdict: d.verdict });
      return tx.respond(buildResponse(req, 403, 'Forbidden', { server }));
    }
    d?.ticket.ended(0);
    this.log.info('transfer-declined', { channel: this.ch.name, by: transferor, to: target.user, why: 'REFER from the caller of a dialplan channel' });
    tx.respond(buildResponse(req, 603, 'Decline', { server }));
  }

  /** a REFER from the far party `leg` of the bridge */
  fromFar(leg: AnsweredLeg, tx: ServerTxHandle, req: SipMessage): void {
    const ua = this.ua;
    const server = ua.userAgent;
    const respond = (status: number, reason: string) => tx.respond(buildResponse(req, status, reason, { server }));
    if (this.busy) return respond(491, 'Request Pending');
    const target = readReferTo(req);
    if (!target) return respond(400, 'Bad Refer-To');
    if (target.replaces) return respond(501, 'Not Implemented');
    const ext = ua.extension(target.user);
    const transferor = leg.number;
    const d = ua.gateCheck?.({ caller: transferor, dialled: target.user, callee: ext?.number, remote: leg.dialog.remote, callId: req.callId });
    if (d && !d.ok) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, verdict: d.verdict });
      return respond(403, 'Forbidden');
    }
    const ticket = d?.ticket;
    // a number no extension takes but a service does (the parking lot's 700)
    const service = ext ? undefined : this.features?.transferService(target.user, this.ch.context);
    if (service && this.ch.handOver) return this.toService(service, target.user, leg, req, ticket, respond);
    const contacts = ext ? ua.contacts(ext.number) : [];
    if (!ext || contacts.length === 0) {
      ticket?.ended(0);
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, why: ext ? 'not registered' : 'not an extension' });
      return respond(ext ? 480 : 404, ext ? 'Temporarily Unavailable' : 'Not Found');
    }
    let session: MediaSession;
    try {
      session = this.ch.newFarSession();
    } catch {
      ticket?.ended(0);
      return respond(503, 'Service Unavailable');
    }
    // RFC 3515 §2.4.2 / §2.4.5: 202, then a NOTIFY at once and one per change
    respond(202, 'Accepted');
    const dialog = leg.dialog;
    const cseq = req.cseq.seq;
    const notify = (status: number, final: boolean) =>
      ua.sendRequest(referNotify(dialog, cseq, status, final, server), dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
    notify(100, false);
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: ext.number, kind: 'blind' });
    let rang = false;
    const dial = new OutboundDial(ua, {
      targets: contacts.map((binding) => ({ number: ext.number, binding })),
      offer: session.offer(),
      callerNumber: this.ch.callerIdNum,
      callerName: this.ch.callerIdName,
      timeoutMs: TRANSFER_RING_MS,
      onRinging: () => {
        if (rang) return;
        rang = true;
        notify(180, false);
      },
    });
    // the transferor hangs up before the target answers: the transfer goes on (RFC 5589 §6 lets it)
    void dial.result.then((outcome) => {
      this.busy = false;
      const answered = outcome.status === 'ANSWER' && outcome.leg !== undefined;
      if (!answered || this.ch.hungUp) {
        outcome.leg?.hangup();
        session.leg.close();
        ticket?.ended(0);
        notify(answered ? 487 : (FAILURE_STATUS[outcome.status] ?? 480), true);
        this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: ext.number, status: outcome.status });
        return;
      }
      const newLeg = outcome.leg!;
      try {
        session.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
      } catch {
        newLeg.hangup();
        session.leg.close();
        ticket?.ended(0);
        notify(488, true);
        return;
      }
      notify(200, true);
      this.segmentCdr(transferor, ext.number);
      this.ch.replaceFar(newLeg, session);
      this.follow(newLeg, ticket);
      this.log.info('call-transferred', { channel: this.ch.name, how: `blind transfer by ${transferor} to ${ext.number}`, from: this.ch.callerIdNum, to: ext.number });
    });
  }

  /**
   * A blind transfer to a service: 202 and NOTIFY 100 at once; the service
   * takes the caller (music on hold) and may speak to the transferor (the
   * parking slot); then NOTIFY 200 and BYE to the transferor. No new call
   * leaves Palisade: the gate's ticket ends at once.
   */
  private toService(
    service: TransferService,
    number: string,
    leg: AnsweredLeg,
    req: SipMessage,
    ticket: CallTicket | undefined,
    respond: (status: number, reason: string) => void,
  ): void {
    const ua = this.ua;
    const dialog = leg.dialog;
    const cseq = req.cseq.seq;
    const notify = (status: number, final: boolean) =>
      ua.sendRequest(referNotify(dialog, cseq, status, final, ua.userAgent), dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
    const transferor = leg.number;
    respond(202, 'Accepted');
    notify(100, false);
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: number, kind: 'blind', service: service.name });
    void this.ch.handOver!(service, number, () => {
      notify(200, true);
      this.segmentCdr(transferor, number);
    }).then((ok) => {
      this.busy = false;
      ticket?.ended(0);
      if (!ok) {
        notify(503, true);
        this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: number, service: service.name });
        return;
      }
      this.log.info('call-transferred', {
        channel: this.ch.name,
        how: `blind transfer by ${transferor} to ${number}`,
        from: this.ch.callerIdNum,
        to: number,
        service: service.name,
      });
    });
  }

  /**
   * A blind transfer the far party `leg` dialled as a feature code (`##`
   * and the number): the same call by the transferor for the gate as a
   * REFER, without the NOTIFYs. The far party waits (the caller hears
   * music) until the target answers and takes its place.
   */
  async byDigits(leg: AnsweredLeg, target: string): Promise<'SUCCESS' | 'FAILURE'> {
    if (this.busy) return 'FAILURE';
    const ua = this.ua;
    const ext = ua.extension(target);
    const transferor = leg.number;
    const d = ua.gateCheck?.({ caller: transferor, dialled: target, callee: ext?.number, remote: leg.dialog.remote, callId: leg.dialog.callId });
    if (d && !d.ok) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target, verdict: d.verdict, via: 'dtmf' });
      return 'FAILURE';
    }
    const ticket = d?.ticket;
    const service = ext ? undefined : this.features?.transferService(target, this.ch.context);
    if (service && this.ch.handOver) {
      this.busy = true;
      this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: target, kind: 'blind', via: 'dtmf', service: service.name });
      const ok = await this.ch.handOver(service, target, () => this.segmentCdr(transferor, target));
      this.busy = false;
      ticket?.ended(0);
      if (ok)
        this.log.info('call-transferred', {
          channel: this.ch.name,
          how: `blind transfer by ${transferor} to ${target}`,
          from: this.ch.callerIdNum,
          to: target,
          service: service.name,
          via: 'dtmf',
        });
      return ok ? 'SUCCESS' : 'FAILURE';
    }
    const contacts = ext ? ua.contacts(ext.number) : [];
    if (!ext || contacts.length === 0 || ext.number === transferor) {
      ticket?.ended(0);
      this.log.info('transfer-refused', {
        channel: this.ch.name,
        by: transferor,
        to: target,
        why: !ext ? 'not an extension' : contacts.length === 0 ? 'not registered' : 'the transferor itself',
        via: 'dtmf',
      });
      return 'FAILURE';
    }
    let session: MediaSession;
    try {
      session = this.ch.newFarSession();
    } catch {
      ticket?.ended(0);
      return 'FAILURE';
    }
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: ext.number, kind: 'blind', via: 'dtmf' });
    const dial = new OutboundDial(ua, {
      targets: contacts.map((binding) => ({ number: ext.number, binding })),
      offer: session.offer(),
      callerNumber: this.ch.callerIdNum,
      callerName: this.ch.callerIdName,
      timeoutMs: TRANSFER_RING_MS,
    });
    void this.ch.ended.then(() => dial.cancel());
    const outcome = await dial.result;
    this.busy = false;
    const answered = outcome.status === 'ANSWER' && outcome.leg !== undefined;
    if (answered && !this.ch.hungUp) {
      try {
        session.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
        this.segmentCdr(transferor, ext.number);
        this.ch.replaceFar(outcome.leg!, session);
        this.follow(outcome.leg!, ticket);
        this.log.info('call-transferred', {
          channel: this.ch.name,
          how: `blind transfer by ${transferor} to ${ext.number}`,
          from: this.ch.callerIdNum,
          to: ext.number,
          via: 'dtmf',
        });
        return 'SUCCESS';
      } catch {
        // an answer we cannot use: as a failure
      }
    }
    outcome.leg?.hangup();
    session.leg.close();
    ticket?.ended(0);
    this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: ext.number, status: outcome.status, via: 'dtmf' });
    return 'FAILURE';
  }

  /**
   * An attended transfer dialled by the far party `leg` (`*2` and the
   * number): it calls the target as itself (the gate judges that call) and
   * talks to it, its media leg `farSession` bridged to the target's; the
   * caller waits. complete() (or the far party hanging up) joins the caller
   * and the target; cancel() or the target hanging up ends the consultation.
   * `done` is told once, whatever the end.
   */
  async consult(leg: AnsweredLeg, farSession: MediaSession, target: string, done: () => void): Promise<Consultation | null> {
    if (this.busy) return null;
    const ua = this.ua;
    const ext = ua.extension(target);
    const transferor = leg.number;
    const d = ua.gateCheck?.({ caller: transferor, dialled: target, callee: ext?.number, remote: leg.dialog.remote, callId: leg.dialog.callId });
    if (d && !d.ok) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target, verdict: d.verdict, via: 'dtmf', kind: 'attended' });
      return null;
    }
    const ticket = d?.ticket;
    const contacts = ext ? ua.contacts(ext.number) : [];
    let session: MediaSession | null = null;
    try {
      if (ext && contacts.length > 0 && ext.number !== transferor) session = this.ch.newFarSession();
    } catch {
      session = null;
    }
    if (!ext || !session) {
      ticket?.ended(0);
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target, why: ext ? 'not registered' : 'not an extension', via: 'dtmf', kind: 'attended' });
      return null;
    }
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: ext.number, kind: 'attended', via: 'dtmf' });
    const dial = new OutboundDial(ua, {
      targets: contacts.map((binding) => ({ number: ext.number, binding })),
      offer: session.offer(),
      callerNumber: transferor,
      callerName: ua.extension(transferor)?.name || transferor,
      timeoutMs: TRANSFER_RING_MS,
    });
    void this.ch.ended.then(() => dial.cancel());
    const outcome = await dial.result;
    const cLeg = outcome.status === 'ANSWER' ? outcome.leg : undefined;
    if (cLeg) {
      try {
        session.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
      } catch {
        cLeg.hangup();
      }
    }
    if (!cLeg || this.ch.hungUp || !farSession.leg) {
      cLeg?.hangup();
      session.leg.close();
      ticket?.ended(0);
      this.busy = false;
      this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: ext.number, status: outcome.status, via: 'dtmf', kind: 'attended' });
      return null;
    }
    const s = session;
    s.leg.start();
    farSession.leg.bridge(s.leg);
    const t0 = Date.now();
    let open = true;
    const finish = () => {
      open = false;
      this.busy = false;
      done();
    };
    const c: Consultation = {
      target: ext.number,
      ended: cLeg.ended,
      complete: () => {
        if (!open) return;
        farSession.leg.unbridge();
        if (this.ch.hungUp) {
          cLeg.hangup();
          s.leg.close();
          ticket?.ended(Math.round((Date.now() - t0) / 1000));
          return finish();
        }
        this.segmentCdr(transferor, ext.number, 'attended');
        this.ch.replaceFar(cLeg, s);
        this.follow(cLeg, ticket);
        this.log.info('call-transferred', {
          channel: this.ch.name,
          how: `attended transfer by ${transferor} to ${ext.number}`,
          from: this.ch.callerIdNum,
          to: ext.number,
          via: 'dtmf',
        });
        finish();
      },
      cancel: () => {
        if (!open) return;
        farSession.leg.unbridge();
        cLeg.hangup();
        s.leg.close();
        ticket?.ended(Math.round((Date.now() - t0) / 1000));
        this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: ext.number, status: 'consultation ended', via: 'dtmf', kind: 'attended' });
        finish();
      },
    };
    // the transferor hangs up: the caller and the target talk (Asterisk's atxfer); the target hangs up: back to the caller
    void leg.ended.then(() => c.complete());
    void cLeg.ended.then(() => c.cancel());
    void this.ch.ended.then(() => c.cancel());
    return c;
  }

  /** the gate follows the transferred call like any other: answered now, ended with the new leg */
  private follow(leg: AnsweredLeg, ticket: CallTicket | undefined): void {
    if (!ticket) return;
    const t0 = Date.now();
    ticket.answered(() => void this.ch.hangup());
    void leg.ended.then(() => ticket.ended(Math.round((Date.now() - t0) / 1000)));
  }

  /** the segment with the transferor, ended by the transfer */
  private segmentCdr(transferor: string, to: string, kind: 'blind' | 'attended' = 'blind'): void {
    const ch = this.ch;
    const end = new Date();
    const start = ch.farSince ?? end;
    const secs = Math.round((end.getTime() - start.getTime()) / 1000);
    try {
      this.ua.writeCdr({
        accountcode: '',
        src: ch.callerIdNum,
        dst: transferor,
        dcontext: ch.context,
        clid: `"${ch.callerIdName}" <${ch.callerIdNum}>`,
        channel: ch.name,
        dstchannel: `SIP/${transferor}`,
        lastapp: 'Dial',
        lastdata: `SIP/${transferor}`,
        start,
        answer: start,
        end,
        duration: secs,
        billsec: secs,
        disposition: 'ANSWERED',
        amaflags: 'DOCUMENTATION',
        uniqueid: `${ch.id}.${newToken().slice(0, 6)}`,
        userfield: `${kind} transfer by ${transferor} to ${to}`,
        sourceIp: ch.remote.address,
        securityVerdict: 'authenticated',
      });
    } catch (err) {
      this.log.error('cdr-write-failed', { channel: ch.name, error: (err as Error).message });
    }
  }
}

/** the sipfrag status for a Dial() outcome that is no answer */
const FAILURE_STATUS: Record<string, number> = { BUSY: 486, NOANSWER: 480, CONGESTION: 503, CHANUNAVAIL: 480, CANCEL: 487 };
