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
// A Refer-To (or `##`/`*2` number) that is no extension and no transfer
// service is an outside number: it goes out through the transferor's
// outbound routes as if the transferor had dialled it (outside-call.ts),
// and the trunk's leg takes the transferor's place (404 when no route
// takes the number; the gate's 403 came before).
//
// A REFER from the caller's own phone hands the far party on: once the
// target answers (blind) or at once (attended), the far party leaves the
// channel alive and talks to the target in a bridge of its own
// (joined-legs.ts); the channel, and with it the caller's dialog, ends.
//
// Attended transfer (Refer-To with ?Replaces=, RFC 3891) from either leg:
// the Replaces names the transferor's other call, a dialplan channel or a
// direct B2BUA call; the party of that call who is not the transferor
// (P) is joined with the party of this one (E), and the transferor's two
// dialogs end (BYE on the replaced call, NOTIFY 200, BYE on this one).
// P's media is Palisade's already when P is the far party of a channel
// (its leg moves over as it is); a direct call's P is re-INVITEd towards a
// new media leg of ours first. When E and P are both the callers of their
// channels (the transferor was called twice), both callers leave their
// channels with their dialogs and media and are joined in a bridge of
// their own; both channels end with BYE to the transferor only.
import { buildResponse } from '../sip-message/response.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { newToken } from '../sip/dialog/dialog.js';
import type { ReplacedParty, SipLegHost } from '../sip/b2bua/leg-host.js';
import type { CallTicket, ServerTxHandle } from '../sip/b2bua/types.js';
import { readReferTo, referNotify, type ReplacesId } from '../sip/b2bua/refer.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import { isSdp } from '../sip/b2bua/in-dialog-relay.js';
import type { Logger } from '../observability/logger.js';
import type { Remote } from '../transport/types.js';
import type { MediaSession } from '../media/media-session.js';
import { AnsweredLeg, OutboundDial, type DialBranchTarget } from './sip-dial.js';
import { joinLegs } from './joined-legs.js';
import type { ChannelFeatures, Consultation, TransferService } from './channel-features.js';
import type { DialTechnologies } from './dial-technology.js';
import { dialOutside, type OutsideCall } from './outside-call.js';

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
  /** `trunkLeg`: the new far party is a trunk's call, by its leg's name (an outside number) */
  replaceFar(leg: AnsweredLeg, session: MediaSession, trunkLeg?: string): void;
  /** hand the caller to a service (parking); `release` lets the transferor go (channel-features.ts) */
  handOver?(service: TransferService, number: string, release: () => void): Promise<boolean>;
  hangup(): Promise<void>;
  /** the dialog with the caller's phone */
  readonly callerDialog: Dialog;
  /** the far party leaves the bridge alive (a transfer takes it elsewhere); null when none is bridged */
  detachFar(): FarParty | null;
  /** the caller leaves the channel alive (an attended transfer joins it with another channel's caller); null when it cannot */
  detachCaller(): FarParty | null;
  /** the number of the far party bridged now ('' when none) */
  readonly farNumber: string;
  /** the live channel, and which of its dialogs, a Replaces names */
  replaced(r: ReplacesId): ChannelDialogMatch | undefined;
}

/** a far party with its media leg, as a transfer moves it between bridges */
export interface FarParty {
  leg: AnsweredLeg;
  session: MediaSession;
  /** a trunk's call (an outside number), by its leg's name (SIP/provider-0000000a): no extension, so it transfers nothing */
  trunkLeg?: string;
}

/** a channel's dialog named by a Replaces: the caller's (the INVITE the channel answered) or the far party's */
export interface ChannelDialogMatch {
  channel: TransferChannel;
  role: 'caller' | 'far';
}

/** the party an attended transfer brings (P), taken from the call the Replaces names */
interface Brought {
  far: FarParty;
  /** the replaced call ends towards the transferor; the gate's ticket of a direct call comes along */
  release(): CallTicket | undefined;
}

type Located = { kind: 'channel'; m: ChannelDialogMatch } | { kind: 'direct'; rp: ReplacedParty };

/** how long a transfer's target rings before the transfer fails */
const TRANSFER_RING_MS = 30_000;

/** a blind transfer's target rung at its registered contacts with `offer`; the transferor hears of the first ring (NOTIFY 180) */
function ringTarget(
  ua: SipLegHost,
  number: string,
  contacts: DialBranchTarget['binding'][],
  offer: Buffer,
  callerNumber: string,
  callerName: string,
  notify: (status: number, final: boolean) => void,
): OutboundDial {
  let rang = false;
  return new OutboundDial(ua, {
    targets: contacts.map((binding) => ({ number, binding })),
    offer,
    callerNumber,
    callerName,
    timeoutMs: TRANSFER_RING_MS,
    onRinging: () => {
      if (rang) return;
      rang = true;
      notify(180, false);
    },
  });
}

export class ChannelTransfers {
  private busy = false;

  constructor(
    private readonly ch: TransferChannel,
    private readonly ua: SipLegHost,
    private readonly log: Logger,
    private readonly features?: ChannelFeatures,
    private readonly technologies?: DialTechnologies,
  ) {}

  /**
   * The outside call for a blind transfer by `transferor` to `number`
   * (outside-call.ts): through the transferor's outbound routes, with its
   * identity; null when no route takes the number (or the transferor is no
   * extension).
   */
  private outsideCall(transferor: string, number: string, remote: Remote, onRinging: () => void): OutsideCall | null {
    const ext = this.ua.extension(transferor);
    if (!ext || !/^\+?[0-9*#]{1,32}$/.test(number)) return null;
    const by = { number: ext.number, name: ext.name || ext.number, context: ext.context, remote };
    const out = dialOutside(this.technologies, number, by, { name: this.ch.name, id: this.ch.id }, onRinging);
    if (out) void this.ch.ended.then(() => out.cancel());
    return out;
  }

  /**
   * The far party's blind transfer to an outside number answered (REFER or
   * `##`): the trunk's leg takes its place in the bridge. `settled` hears
   * the sipfrag status first (200 before the transferor's BYE). FAILURE when
   * the call failed or the caller left meanwhile (the leg is hung up).
   */
  private async outsideToFar(
    out: OutsideCall,
    transferor: string,
    number: string,
    ticket: CallTicket | undefined,
    via: object,
    settled: (status: number) => void,
  ): Promise<'SUCCESS' | 'FAILURE'> {
    this.busy = true;
    const o = await out.result;
    this.busy = false;
    if (o.status !== 'ANSWER' || this.ch.hungUp || !this.ch.farNumber) {
      if (o.status === 'ANSWER') {
        o.far.leg.hangup();
        o.far.session.leg.close();
      }
      ticket?.ended(0);
      this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: number, status: o.status, outside: true, ...via });
      settled(o.status === 'ANSWER' ? 487 : (FAILURE_STATUS[o.status] ?? 480));
      return 'FAILURE';
    }
    settled(200);
    this.segmentCdr(transferor, number);
    this.ch.replaceFar(o.far.leg, o.far.session, o.far.trunkLeg);
    this.follow(o.far.leg, ticket);
    this.log.info('call-transferred', {
      channel: this.ch.name,
      how: `blind transfer by ${transferor} to ${number}`,
      from: this.ch.callerIdNum,
      to: number,
      trunk_leg: o.far.trunkLeg,
      ...via,
    });
    return 'SUCCESS';
  }

  /**
   * A REFER from the caller's own phone: the far party is handed on —
   * blind, to the Refer-To's extension (a new call by the transferor for
   * the gate), or attended, to the party of the call its Replaces names.
   * The channel ends once the far party is joined elsewhere.
   */
  fromCaller(transferor: string, tx: ServerTxHandle, req: SipMessage): void {
    const ua = this.ua;
    const server = ua.userAgent;
    const respond = (status: number, reason: string) => tx.respond(buildResponse(req, status, reason, { server }));
    if (this.busy) return respond(491, 'Request Pending');
    const target = readReferTo(req);
    if (!target) return respond(400, 'Bad Refer-To');
    const dialog = this.ch.callerDialog;
    if (target.replaces) return this.attended('caller', transferor, dialog, target.replaces, req, respond);
    const ext = ua.extension(target.user);
    const d = ua.gateCheck?.({ caller: transferor, dialled: target.user, callee: ext?.number, remote: this.ch.remoteOf(), callId: req.callId });
    if (d && !d.ok) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, verdict: d.verdict });
      return respond(403, 'Forbidden');
    }
    const ticket = d?.ticket;
    const transferee = this.ch.farNumber;
    const notifyNow = this.notifier(dialog, req);
    // an outside number, through the transferor's outbound routes: the far party talks to it without this channel
    const out = transferee && !ext ? this.outsideCall(transferor, target.user, this.ch.remoteOf(), () => notifyNow(180, false)) : null;
    if (out) return this.callerToOutside(out, transferor, target.user, ticket, respond, notifyNow);
    const contacts = ext ? ua.contacts(ext.number) : [];
    const why = !transferee ? 'nothing bridged' : !ext ? 'no route' : contacts.length === 0 ? 'not registered' : '';
    if (why) {
      ticket?.ended(0);
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, why });
      return respond(!transferee ? 481 : ext ? 480 : 404, !transferee ? 'Call/Transaction Does Not Exist' : ext ? 'Temporarily Unavailable' : 'Not Found');
    }
    let session: MediaSession;
    try {
      session = this.ch.newFarSession();
    } catch {
      ticket?.ended(0);
      return respond(503, 'Service Unavailable');
    }
    respond(202, 'Accepted');
    const notify = this.notifier(dialog, req);
    notify(100, false);
    this.busy = true;
    const to = ext!.number;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to, kind: 'blind', from: 'caller' });
    const dial = ringTarget(ua, to, contacts, session.offer(), transferee, ua.extension(transferee)?.name || transferee, notify);
    void dial.result.then((outcome) => {
      this.busy = false;
      let stay: FarParty | null = null;
      if (outcome.status === 'ANSWER' && outcome.leg) {
        try {
          session.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
          stay = this.ch.detachFar();
        } catch {
          stay = null;
        }
      }
      if (!stay) {
        outcome.leg?.hangup();
        session.leg.close();
        ticket?.ended(0);
        notify(outcome.status === 'ANSWER' ? 487 : (FAILURE_STATUS[outcome.status] ?? 480), true);
        this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to, status: outcome.status, from: 'caller' });
        return;
      }
      notify(200, true);
      this.joined(stay, { leg: outcome.leg!, session }, `blind transfer by ${transferor} to ${to}`, ticket);
    });
  }

  /** the caller's blind transfer of the far party to an outside number: once it answers, the far party and it talk on, the channel ends */
  private callerToOutside(
    out: OutsideCall,
    transferor: string,
    number: string,
    ticket: CallTicket | undefined,
    respond: (status: number, reason: string) => void,
    notify: (status: number, final: boolean) => void,
  ): void {
    respond(202, 'Accepted');
    notify(100, false);
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: number, kind: 'blind', from: 'caller', outside: true });
    void out.result.then((o) => {
      this.busy = false;
      const stay = o.status === 'ANSWER' && !this.ch.hungUp ? this.ch.detachFar() : null;
      if (o.status !== 'ANSWER' || !stay) {
        if (o.status === 'ANSWER') {
          o.far.leg.hangup();
          o.far.session.leg.close();
        }
        ticket?.ended(0);
        notify(o.status === 'ANSWER' ? 487 : (FAILURE_STATUS[o.status] ?? 480), true);
        this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to: number, status: o.status, from: 'caller', outside: true });
        return;
      }
      notify(200, true);
      this.joined(stay, o.far, `blind transfer by ${transferor} to ${number}`, ticket);
    });
  }

  /** a NOTIFY of the REFER's implicit subscription, in `dialog` */
  private notifier(dialog: Dialog, req: SipMessage): (status: number, final: boolean) => void {
    const cseq = req.cseq.seq;
    return (status, final) =>
      this.ua.sendRequest(referNotify(dialog, cseq, status, final, this.ua.userAgent), dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
  }

  /** the far party `stay` now talks to `comes` without this channel, which ends (the caller's phone gets BYE) */
  private joined(stay: FarParty, comes: FarParty, how: string, ticket: CallTicket | undefined): void {
    const ch = this.ch;
    joinLegs(this.ua, this.log, stay, comes, { id: ch.id, channel: ch.name, context: ch.context, name: ch.callerIdName, how, sourceIp: ch.remote.address }, ticket);
    this.log.info('call-transferred', { channel: ch.name, how, from: stay.leg.number, to: comes.leg.number });
    void ch.hangup();
  }

  /**
   * An attended transfer (Refer-To with Replaces, RFC 3891) from `side` of
   * this channel. E, the party of this channel that stays, is joined with P,
   * the party of the call the Replaces names; both calls end towards the
   * transferor. No new call leaves Palisade: the gate is not asked again
   * (a direct call's ticket comes along with its party).
   */
  private attended(side: 'caller' | 'far', transferor: string, dialog: Dialog, r: ReplacesId, req: SipMessage, respond: (status: number, reason: string) => void): void {
    const found = this.locate(r, transferor);
    if (!found) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, why: 'replaces names no call of the transferor', kind: 'attended' });
      return respond(481, 'Call/Transaction Does Not Exist');
    }
    if (side === 'caller' && !this.ch.farNumber) return respond(481, 'Call/Transaction Does Not Exist');
    respond(202, 'Accepted');
    const notify = this.notifier(dialog, req);
    notify(100, false);
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, kind: 'attended', from: side, replaces: found.kind });
    const fail = (status: number, why: string) => {
      this.busy = false;
      notify(status, true);
      this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, kind: 'attended', status, why });
    };
    // E and P are the callers of their channels: both leave their channels and are joined in a bridge of their own
    if (found.kind === 'channel' && side === 'far' && found.m.role === 'far') return this.joinCallers(found.m.channel, transferor, notify);
    // P's channel keeps its caller and takes E as its far party: E comes from this channel's far leg
    if (found.kind === 'channel' && found.m.role === 'far') {
      const other = found.m.channel;
      const stay = this.ch.detachFar();
      if (!stay || other.hungUp) {
        stay?.leg.hangup();
        stay?.session.leg.close();
        return fail(487, 'a party left');
      }
      const how = `attended transfer by ${transferor} to ${other.callerIdNum}`;
      stay.session.leg.unbridge();
      other.replaceFar(stay.leg, stay.session);
      notify(200, true);
      this.busy = false;
      this.log.info('call-transferred', { channel: this.ch.name, how, from: stay.leg.number, to: other.callerIdNum, into: other.name });
      void this.ch.hangup();
      return;
    }
    void this.bring(found, transferor).then((brought) => {
      if (!brought) return fail(488, 'the replaced party could not be moved');
      if (this.ch.hungUp || (side === 'caller' && !this.ch.farNumber)) {
        brought.far.leg.hangup();
        brought.far.session.leg.close();
        brought.release()?.ended(0);
        return fail(487, 'a party left');
      }
      const p = brought.far;
      const how = `attended transfer by ${transferor} to ${p.leg.number}`;
      const ticket = brought.release();
      notify(200, true);
      this.busy = false;
      if (side === 'far') {
        this.segmentCdr(transferor, p.leg.number, 'attended');
        this.ch.replaceFar(p.leg, p.session);
        this.follow(p.leg, ticket);
        this.log.info('call-transferred', { channel: this.ch.name, how, from: this.ch.callerIdNum, to: p.leg.number });
        return;
      }
      const stay = this.ch.detachFar()!;
      this.joined(stay, p, how, ticket);
    });
  }

  /**
   * The transferor is the far party of both channels: E (this channel's
   * caller) and P (the other's) talk to Palisade's media legs already, so
   * no re-INVITE is needed — both callers leave their channels with their
   * dialogs and media (detachCaller) and are joined (joined-legs.ts); both
   * channels end, which sends BYE to the transferor's two dialogs only.
   */
  private joinCallers(other: TransferChannel, transferor: string, notify: (status: number, final: boolean) => void): void {
    this.busy = false;
    const e = other.hungUp ? null : this.ch.detachCaller();
    const p = e ? other.detachCaller() : null;
    if (!e || !p) {
      // E may have left its channel already: it ends with it
      if (e) {
        e.leg.hangup();
        e.session.leg.close();
      }
      notify(487, true);
      this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, kind: 'attended', status: 487, why: 'a party left' });
      void this.ch.hangup();
      return;
    }
    const how = `attended transfer by ${transferor} to ${other.callerIdNum}`;
    notify(200, true);
    joinLegs(this.ua, this.log, e, p, { id: this.ch.id, channel: this.ch.name, context: this.ch.context, name: this.ch.callerIdName, how, sourceIp: this.ch.remote.address });
    this.log.info('call-transferred', { channel: this.ch.name, how, from: this.ch.callerIdNum, to: other.callerIdNum, joined: other.name });
    void other.hangup();
    void this.ch.hangup();
  }

  /** the call a Replaces names, when its dialog faces `transferor` */
  private locate(r: ReplacesId, transferor: string): Located | undefined {
    const m = this.ch.replaced(r);
    if (m) {
      if (m.channel === this.ch) return undefined;
      const party = m.role === 'caller' ? m.channel.callerIdNum : m.channel.farNumber;
      if (party !== transferor) return undefined;
      // the other party must be there: the far party when the transferor is the caller
      if (m.role === 'caller' && !m.channel.farNumber) return undefined;
      return { kind: 'channel', m };
    }
    const rp = this.ua.replacedParty?.(r, transferor);
    return rp?.live ? { kind: 'direct', rp } : undefined;
  }

  /** P, out of its call: a channel's far party as it is; a direct call's party re-INVITEd towards a media leg of ours */
  private async bring(found: Located, transferor: string): Promise<Brought | null> {
    if (found.kind === 'channel') {
      const other = found.m.channel;
      const far = other.detachFar();
      if (!far) return null;
      far.session.leg.unbridge();
      return {
        far,
        release: () => {
          void other.hangup();
          return undefined;
        },
      };
    }
    const rp = found.rp;
    let session: MediaSession;
    try {
      session = this.ch.newFarSession();
    } catch {
      return null;
    }
    const answer = await reinvite(this.ua, rp.dialog, session.offer());
    if (!answer || !rp.live) {
      session.leg.close();
      return null;
    }
    try {
      session.takeAnswer(answer);
    } catch {
      session.leg.close();
      return null;
    }
    const leg = new AnsweredLeg(this.ua, rp.dialog, rp.party.number);
    session.leg.start();
    return { far: { leg, session }, release: () => rp.release(`attended transfer by ${transferor} to ${rp.party.number}`) };
  }

  /** a REFER from the far party `leg` of the bridge */
  fromFar(leg: AnsweredLeg, tx: ServerTxHandle, req: SipMessage): void {
    const ua = this.ua;
    const server = ua.userAgent;
    const respond = (status: number, reason: string) => tx.respond(buildResponse(req, status, reason, { server }));
    if (this.busy) return respond(491, 'Request Pending');
    const target = readReferTo(req);
    if (!target) return respond(400, 'Bad Refer-To');
    const transferor = leg.number;
    if (target.replaces) return this.attended('far', transferor, leg.dialog, target.replaces, req, respond);
    const ext = ua.extension(target.user);
    const d = ua.gateCheck?.({ caller: transferor, dialled: target.user, callee: ext?.number, remote: leg.dialog.remote, callId: req.callId });
    if (d && !d.ok) {
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, verdict: d.verdict });
      return respond(403, 'Forbidden');
    }
    const ticket = d?.ticket;
    // a number no extension takes but a service does (the parking lot's 700)
    const service = ext ? undefined : this.features?.transferService(target.user, this.ch.context);
    if (service && this.ch.handOver) return this.toService(service, target.user, leg, req, ticket, respond);
    const notifyNow = this.notifier(leg.dialog, req);
    // a number no extension takes: an outside number, through the transferor's outbound routes
    const out = ext ? null : this.outsideCall(transferor, target.user, leg.dialog.remote, () => notifyNow(180, false));
    if (out) {
      respond(202, 'Accepted');
      notifyNow(100, false);
      this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: target.user, kind: 'blind', outside: true });
      void this.outsideToFar(out, transferor, target.user, ticket, {}, (status) => notifyNow(status, true));
      return;
    }
    const contacts = ext ? ua.contacts(ext.number) : [];
    if (!ext || contacts.length === 0) {
      ticket?.ended(0);
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target.user, why: ext ? 'not registered' : 'no route' });
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
    const notify = this.notifier(leg.dialog, req);
    notify(100, false);
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: ext.number, kind: 'blind' });
    const dial = ringTarget(ua, ext.number, contacts, session.offer(), this.ch.callerIdNum, this.ch.callerIdName, notify);
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
    const notify = this.notifier(leg.dialog, req);
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
    // an outside number, through the transferor's outbound routes; the caller hears music meanwhile
    const out = ext ? null : this.outsideCall(transferor, target, leg.dialog.remote, () => undefined);
    if (out) {
      this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to: target, kind: 'blind', via: 'dtmf', outside: true });
      return this.outsideToFar(out, transferor, target, ticket, { via: 'dtmf' }, () => undefined);
    }
    const contacts = ext ? ua.contacts(ext.number) : [];
    if (!ext || contacts.length === 0 || ext.number === transferor) {
      ticket?.ended(0);
      this.log.info('transfer-refused', {
        channel: this.ch.name,
        by: transferor,
        to: target,
        why: !ext ? 'no route' : contacts.length === 0 ? 'not registered' : 'the transferor itself',
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
    // an outside number: the transferor's call out through its outbound routes
    const out = ext ? null : this.outsideCall(transferor, target, leg.dialog.remote, () => undefined);
    const contacts = ext ? ua.contacts(ext.number) : [];
    let session: MediaSession | null = null;
    try {
      if (ext && contacts.length > 0 && ext.number !== transferor) session = this.ch.newFarSession();
    } catch {
      session = null;
    }
    if (!out && (!ext || !session)) {
      ticket?.ended(0);
      this.log.info('transfer-refused', { channel: this.ch.name, by: transferor, to: target, why: ext ? 'not registered' : 'no route', via: 'dtmf', kind: 'attended' });
      return null;
    }
    const to = ext?.number ?? target;
    this.busy = true;
    this.log.info('transfer-started', { channel: this.ch.name, by: transferor, to, kind: 'attended', via: 'dtmf', ...(out ? { outside: true } : {}) });
    let got: FarParty | null = null;
    let status: string;
    if (out) {
      const o = await out.result;
      status = o.status;
      if (o.status === 'ANSWER') got = o.far;
    } else {
      const dial = new OutboundDial(ua, {
        targets: contacts.map((binding) => ({ number: ext!.number, binding })),
        offer: session!.offer(),
        callerNumber: transferor,
        callerName: ua.extension(transferor)?.name || transferor,
        timeoutMs: TRANSFER_RING_MS,
      });
      void this.ch.ended.then(() => dial.cancel());
      const outcome = await dial.result;
      status = outcome.status;
      const cLeg = outcome.status === 'ANSWER' ? outcome.leg : undefined;
      if (cLeg) {
        try {
          session!.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
          got = { leg: cLeg, session: session! };
        } catch {
          cLeg.hangup();
        }
      }
      if (!got) session!.leg.close();
    }
    if (!got || this.ch.hungUp || !farSession.leg) {
      got?.leg.hangup();
      got?.session.leg.close();
      ticket?.ended(0);
      this.busy = false;
      this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to, status, via: 'dtmf', kind: 'attended' });
      return null;
    }
    const { leg: cLeg, session: s, trunkLeg } = got;
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
      target: to,
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
        this.segmentCdr(transferor, to, 'attended');
        this.ch.replaceFar(cLeg, s, trunkLeg);
        this.follow(cLeg, ticket);
        this.log.info('call-transferred', {
          channel: this.ch.name,
          how: `attended transfer by ${transferor} to ${to}`,
          from: this.ch.callerIdNum,
          to,
          via: 'dtmf',
          ...(trunkLeg ? { trunk_leg: trunkLeg } : {}),
        });
        finish();
      },
      cancel: () => {
        if (!open) return;
        farSession.leg.unbridge();
        cLeg.hangup();
        s.leg.close();
        ticket?.ended(Math.round((Date.now() - t0) / 1000));
        this.log.info('transfer-failed', { channel: this.ch.name, by: transferor, to, status: 'consultation ended', via: 'dtmf', kind: 'attended' });
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

/**
 * A target refresh with a new offer in `dialog` (RFC 3261 §14.1): the
 * answer's session description once a 2xx came (ACKed), null on a failure.
 */
export function reinvite(ua: SipLegHost, dialog: Dialog, offer: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const req = dialog.createRequest('INVITE', { body: offer, contentType: 'application/sdp', userAgent: ua.userAgent });
    req.headers.push({ name: 'allow', value: ua.allow });
    let done = false;
    ua.sendRequest(req, dialog.remote, {
      onResponse: (res) => {
        if (res.status < 200) return;
        if (res.status < 300) ua.sendStateless(dialog.createRequest('ACK', { cseq: req.cseq.seq }), dialog.remote);
        if (done) return;
        done = true;
        const contact = res.contacts[0];
        if (res.status < 300 && contact) dialog.remoteTarget = contact.uri.raw;
        resolve(res.status < 300 && res.body.length && isSdp(res) ? res.body : null);
      },
      onTimeout: () => {
        if (!done) resolve(null);
        done = true;
      },
    });
  });
}

/** the sipfrag status for a Dial() outcome that is no answer */
export const FAILURE_STATUS: Record<string, number> = { BUSY: 486, NOANSWER: 480, CONGESTION: 503, CHANUNAVAIL: 480, CANCEL: 487 };
