// One bridged call: the caller's leg A (Palisade is its UAS) and one or more
// forks towards the callee's contacts (Palisade is their UAC, fork.ts). The
// first fork to answer becomes leg B; the others are cancelled (RFC 3261
// §16.7-style forking done by a B2BUA). Everything crossing between legs is
// rebuilt, never proxied: new Call-ID, tags, Via and SDP on the far side.
import { systemPrefix } from '../../core/system-name.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { buildResponse } from '../../sip-message/response.js';
import { Dialog, newToken } from '../dialog/dialog.js';
import type { Remote } from '../../transport/types.js';
import { InviteFork, type ForkBranch } from './fork.js';
import { InDialogRelay, isSdp } from './in-dialog-relay.js';
import type { BindingInfo, CallTicket, CdrRecord, ExtensionInfo, RelayHandle, ServerTxHandle } from './types.js';
import type { B2bua } from './b2bua.js';
import type { CallQuality } from '../../media/quality/call-quality.js';
import { cdrQuality } from '../../storage/cdr-quality.js';
import { CallTransfers, type Side } from './call-transfer.js';
import type { CallPhase, EarlyDialog } from '../../core/call-events.js';
import type { TakenCaller } from './leg-host.js';

export type CallState = 'routing' | 'ringing' | 'answered' | 'ended';

let channelSeq = 0;

export class Call {
  state: CallState = 'routing';
  readonly id = newToken();
  /** the start of the call, or of its latest segment after a transfer (each segment gets its CDR) */
  start = new Date();
  answerAt: Date | null = null;
  endAt: Date | null = null;
  uniqueid: string;
  /** Asterisk-style channel sequence number, shared by both legs' channel names */
  private readonly seq: number;
  aChannel: string;
  bChannel = '';
  disposition: CdrRecord['disposition'] = 'NO ANSWER';
  hangupCause = '';
  /** the call gate's verdict (CDR security_verdict) and its follow-up handle */
  verdict = 'authenticated';
  ticket?: CallTicket;

  /** leg A dialog (Palisade as UAS toward the caller; after a transfer, the party that took the caller's place) */
  a: Dialog;
  /** leg B dialog once a fork answered */
  b?: Dialog;
  /** the INVITE to the callee's contacts, once ringing */
  private forks?: InviteFork;
  private aInviteTx: ServerTxHandle;
  private aInvite: SipMessage;
  private a2xx?: { stop(): void };
  private ringTimer?: NodeJS.Timeout;
  private durationTimer?: NodeJS.Timeout;
  private relay?: RelayHandle;
  /** the relay's media figures, taken when the call ends (CDR rtp_* columns) */
  private mediaQuality: CallQuality | null = null;
  /** offer-less INVITE (late offer): B's 2xx carries the offer, A's ACK the answer */
  private lateOffer: boolean;
  /** late offer: the winning fork's 2xx, ACKed once the caller's ACK brings the answer */
  private heldBAck?: ForkBranch;
  /** in-dialog requests between the legs, once both exist */
  private inDialog?: InDialogRelay;
  /** the last session description each side sent, as it came: a transfer offers it afresh to the new party */
  private readonly lastSdp: Partial<Record<Side, Buffer>> = {};
  /** REFERs (RFC 3515) in this call: blind and attended transfers (call-transfer.ts) */
  readonly transfers: CallTransfers;
  /** the calling party's display name in the CDR (the INVITE's, or the party's after a transfer) */
  callerName: string;
  /** CDR lastapp/lastdata of the current segment; a transferred segment says Transfer */
  lastApp = 'Dial';
  lastData = '';

  constructor(
    readonly ua: B2bua,
    inviteTx: ServerTxHandle,
    invite: SipMessage,
    readonly aRemote: Remote,
    public caller: ExtensionInfo,
    public callee: ExtensionInfo,
    public dialled: string,
  ) {
    this.aInviteTx = inviteTx;
    this.aInvite = invite;
    const now = Date.now();
    this.seq = ++channelSeq;
    this.uniqueid = `${systemPrefix()}${Math.floor(now / 1000)}.${this.seq}`;
    this.aChannel = `SIP/${caller.number}-${this.seq.toString(16).padStart(8, '0')}`;
    const contact = invite.contacts[0];
    const routeSet = invite.getAll('record-route');
    this.a = new Dialog({
      callId: invite.callId,
      localTag: newToken(),
      remoteTag: invite.from.params.tag ?? '',
      localUri: stripTag(invite.get('to') ?? ''),
      remoteUri: stripTag(invite.get('from') ?? ''),
      remoteTarget: contact ? contact.uri.raw : invite.from.uri.raw,
      routeSet, // RFC 3261 §12.1.1: UAS route set = Record-Route in request order
      localCseq: 0,
      remoteCseq: invite.cseq.seq,
      remote: aRemote,
      localContact: ua.contactFor(aRemote, callee.number, invite.ruri.scheme === 'sips'),
    });
    this.lateOffer = invite.body.length === 0;
    this.callerName = invite.from.displayName ?? caller.name;
    this.lastData = `SIP/${callee.number},${Math.round(ua.cfg.ringTimeoutMs / 1000)}`;
    this.transfers = new CallTransfers(this);
  }

  private get useRelay(): boolean {
    return !(this.caller.directMedia && this.callee.directMedia);
  }

  /** start ringing every contact of the callee */
  begin(bindings: BindingInfo[]): void {
    const ua = this.ua;
    let bOffer: Buffer = this.aInvite.body;
    if (this.useRelay) {
      try {
        this.relay = ua.deps.media.createRelay(this.id);
      } catch (err) {
        ua.log.warn('relay-unavailable', { call: this.id, error: (err as Error).message });
        this.respondA(503, 'Service Unavailable', { headers: [['retry-after', '5']] });
        this.finish('CONGESTION', 'relay ports exhausted');
        return;
      }
      this.relay.onInactive(() => this.onMediaTimeout());
      if (!this.lateOffer) {
        try {
          bOffer = this.relay.offerAnswer('a', this.aInvite.body);
          this.lastSdp.a = this.aInvite.body;
        } catch (err) {
          // RFC 3261 §21.4.26: an offer we cannot use → 488
          ua.log.info('bad-sdp', { call: this.id, error: (err as Error).message });
          this.respondA(488, 'Not Acceptable Here');
          this.finish('FAILED', 'unusable SDP offer');
          return;
        }
      }
    }
    this.state = 'ringing';
    this.emitPhase('start');
    this.bOffer = bOffer;
    this.ring(bindings);
    const fwd = this.forward?.noAnswer;
    const first = fwd ? Math.min(ua.cfg.ringTimeoutMs, this.forward!.noAnswerSecs * 1000) : ua.cfg.ringTimeoutMs;
    this.ringTimer = setTimeout(() => (fwd && this.divert(fwd, 'no answer') ? undefined : this.onRingTimeout()), first);
  }

  /** the offer the callee's contacts are rung with */
  private bOffer: Buffer = Buffer.alloc(0);
  /** forwarding on busy / no answer (call diversion), used once */
  private forward?: { busy?: ExtensionInfo; noAnswer?: ExtensionInfo; noAnswerSecs: number };

  /** call forwarding on busy and on no answer for this call (src/core/call-diversion.ts) */
  forwardTo(f: { busy?: ExtensionInfo; noAnswer?: ExtensionInfo; noAnswerSecs: number }): void {
    if (f.busy || f.noAnswer) this.forward = f;
  }

  /** the callee is busy or does not answer: ring the forward target instead (one hop); false when it has no phone */
  private divert(to: ExtensionInfo, why: string): boolean {
    const bindings = this.ua.contacts(to.number);
    this.forward = undefined;
    if (bindings.length === 0 || this.state !== 'ringing') return false;
    clearTimeout(this.ringTimer);
    this.forks?.cancel();
    this.ua.log.info('call-forwarded', { call: this.id, from: this.caller.number, to: this.callee.number, target: to.number, why });
    this.callee = to;
    this.earlySeen = 0;
    this.emitPhase('ringing');
    this.ring(bindings);
    this.ringTimer = setTimeout(() => this.onRingTimeout(), this.ua.cfg.ringTimeoutMs);
    return true;
  }

  private ring(bindings: BindingInfo[]): void {
    const ua = this.ua;
    const mf = this.aInvite.getInt('max-forwards');
    const forks = new InviteFork(
      ua,
      {
        callerNumber: this.caller.number,
        callerName: this.aInvite.from.displayName ?? this.caller.name,
        calleeNumber: this.callee.number,
        maxForwards: mf === undefined ? 70 : Math.max(mf - 1, 0),
        offer: this.bOffer,
      },
      {
        onProvisional: (_b, res) => this.onForkProvisional(res),
        onAnswered: (b, res) => this.onForkAnswered(b, res),
        onFailed: (status) => this.onForksFailed(status),
      },
    );
    this.forks = forks;
    for (const binding of bindings) {
      const b = forks.ring(binding);
      ua.trackFork(this, b.callId, b.fromTag);
    }
  }

  // ---------------------------------------------------------------- forks

  private onForkProvisional(res: SipMessage): void {
    if (this.state !== 'ringing') return;
    // Early media (183 with SDP) is relayed like an answer.
    let body: Buffer | undefined;
    if (res.body.length && isSdp(res)) body = this.mediaFromB(res.body);
    const progress = res.status === 183 || body !== undefined;
    // the first ringing, and each phone that rings in an early dialog of its own (busy lamps show it, a pickup names it)
    const early = this.forks?.earlyDialogs().length ?? 0;
    if (!this.ringingSeen || early !== this.earlySeen) {
      this.ringingSeen = true;
      this.earlySeen = early;
      this.emitPhase('ringing');
    }
    this.respondA(progress ? 183 : 180, progress ? 'Session Progress' : 'Ringing', { body });
  }

  private onForkAnswered(fork: ForkBranch, res: SipMessage): void {
    const ua = this.ua;
    const d = fork.dialog;
    if (this.state !== 'ringing') {
      // the caller went away meanwhile: ACK and hang this one up
      this.forks!.ack(fork);
      this.sendBye(d);
      return;
    }
    clearTimeout(this.ringTimer);
    this.b = d;
    this.bChannel = `SIP/${this.callee.number}-${this.seq.toString(16).padStart(8, '0')}`;
    ua.trackDialog(this, d, 'b');
    let aBody: Buffer | undefined;
    if (res.body.length && isSdp(res)) aBody = this.mediaFromB(res.body);
    if (this.lateOffer) this.heldBAck = fork;
    else this.forks!.ack(fork);
    this.state = 'answered';
    this.relay?.answered?.();
    this.answerAt = new Date();
    this.disposition = 'ANSWERED';
    this.emitPhase('answered');
    const ok = this.buildA(200, 'OK', { body: aBody });
    this.aInviteTx.respond(ok);
    this.a2xx = ua.deps.tx.retransmit2xx(ok, this.aRemote, () => {
      // RFC 3261 §13.3.1.4: no ACK within 64*T1 → the UAS ends the session with BYE
      this.hangup('a-no-ack', 'b');
      this.sendBye(this.a);
    });
    ua.trackDialog(this, this.a, 'a');
    this.bridgeDialogs();
    // a re-INVITE from the callee waits for the caller's ACK (in-dialog-relay.ts awaitAck)
    this.inDialog!.awaitAck('a');
    if (ua.cfg.maxDurationMs > 0) this.durationTimer = setTimeout(() => this.hangup('max-duration'), ua.cfg.maxDurationMs);
    ua.log.info('call-answered', { call: this.id, from: this.caller.number, to: this.callee.number });
    ua.callAnswered(this);
  }

  /** in-dialog requests cross between the two dialogs the call has now */
  private bridgeDialogs(): void {
    const ua = this.ua;
    // after a transfer: a re-INVITE the old bridge held for an ACK is answered 487
    this.inDialog?.close();
    this.inDialog = new InDialogRelay(
      { a: this.a, b: this.b! },
      {
        userAgent: ua.cfg.userAgent,
        tx: ua.deps.tx,
        // the relay keeps what it learnt from an offer even when the far side refuses it
        sdp: {
          offer: (from, body) => this.viaRelay(from, body),
          answer: (from, body) => this.viaRelay(from === 'a' ? 'b' : 'a', body),
          // a re-INVITE without an offer: the answer in `from`'s ACK goes to the other phone in ours
          ackAnswer: (from, body) => this.viaRelay(from, body),
        },
        retransmitting: (to, r) => {
          if (to === 'a') this.a2xx = r;
          else ua.trackReinviteRetransmit(this, r);
        },
      },
    );
  }

  // ------------------------------------------------ transfer (call-transfer.ts)

  dialogOf(side: Side): Dialog | undefined {
    return side === 'a' ? this.a : this.b;
  }

  /** the extension on `side`: the caller on a, the callee on b (after a transfer, whoever took their place) */
  partyOf(side: Side): ExtensionInfo {
    return side === 'a' ? this.caller : this.callee;
  }

  nameOf(side: Side): string {
    return side === 'a' ? this.callerName : this.callee.name;
  }

  /**
   * An offer for a new party taking `side`'s place: the other side's last
   * session description, through the relay; null with direct media.
   */
  offerFor(side: Side): Buffer | null {
    const other: Side = side === 'a' ? 'b' : 'a';
    const sdp = this.lastSdp[other];
    if (!this.relay || !sdp) return null;
    try {
      return this.relay.offerAnswer(other, sdp);
    } catch {
      return null;
    }
  }

  /** the new party's answer: the relay sends `side`'s media to it from now on */
  takeAnswer(side: Side, sdp: Buffer): void {
    this.viaRelay(side, sdp);
  }

  /**
   * `party` on `dialog` takes `side`'s place: the segment before gets its
   * CDR (its userfield says how it ended), the party that leaves gets BYE,
   * and the new segment runs from the party that stayed to the newcomer.
   */
  replaceSide(side: Side, dialog: Dialog, party: ExtensionInfo, how: string, ticket?: CallTicket, carried = false): void {
    const ua = this.ua;
    const old = this.dialogOf(side)!;
    const stay: Side = side === 'a' ? 'b' : 'a';
    const stayed = this.partyOf(stay);
    const stayedName = this.nameOf(stay);
    const stayedChannel = stay === 'a' ? this.aChannel : this.bChannel;
    const now = new Date();
    this.endAt = now;
    this.hangupCause = how;
    const rec = this.cdr();
    this.endAt = null;
    try {
      this.ticket?.ended(rec.billsec ?? 0);
      ua.writeCdr(rec);
    } catch (err) {
      ua.log.error('cdr-write-failed', { call: this.id, error: (err as Error).message });
    }
    // the new segment: from the party that stayed to the newcomer
    this.caller = stayed;
    this.callerName = stayedName;
    this.aChannel = stayedChannel;
    this.callee = party;
    this.dialled = party.number;
    this.bChannel = `SIP/${party.number}-${(++channelSeq).toString(16).padStart(8, '0')}`;
    this.start = now;
    this.answerAt = now;
    this.uniqueid = `${systemPrefix()}${Math.floor(now.getTime() / 1000)}.${channelSeq}`;
    this.lastApp = 'Transfer';
    this.lastData = `SIP/${party.number}`;
    this.hangupCause = '';
    this.ticket = ticket;
    ua.untrackDialog(old);
    if (side === 'a') this.a = dialog;
    else this.b = dialog;
    ua.trackDialog(this, dialog, side);
    this.bridgeDialogs();
    ua.leaving(old);
    // a ticket carried over from a joined call was told of its answer already
    if (!carried) ua.callAnswered(this);
    // the transferor is out of the call, the newcomer in: busy lamps and device states follow
    this.emitPhase('answered');
    ua.log.info('call-transferred', { call: this.id, how, from: stayed.number, to: party.number });
  }

  /**
   * Pickup: another extension answers the caller instead. The callee's
   * phones are cancelled, this call ends (its CDR says who took it) and
   * the caller's INVITE, still unanswered, is handed over with the gate's
   * ticket; null when the call rings no more.
   */
  takeCaller(by: string): TakenCaller | null {
    if (this.state !== 'ringing') return null;
    clearTimeout(this.ringTimer);
    this.forks?.cancel();
    const ticket = this.takeTicket();
    this.finish('NO ANSWER', `picked up by ${by}`);
    return { tx: this.aInviteTx, req: this.aInvite, remote: this.aRemote, caller: this.caller, dialled: this.dialled, ticket };
  }

  /** both dialogs are taken elsewhere (a transfer service): the call ends without BYE; the gate's ticket goes along */
  releaseBoth(how: string): CallTicket | undefined {
    const ticket = this.takeTicket();
    this.finish('ANSWERED', how);
    return ticket;
  }

  /** the gate's hold on this call, taken away (it goes on with a party that moves to another call) */
  takeTicket(): CallTicket | undefined {
    const t = this.ticket;
    this.ticket = undefined;
    return t;
  }

  /** `keep`'s party moves to another call (an attended transfer): the call ends with BYE to the other side only */
  handOver(keep: Side, cause: string): void {
    const other: Side = keep === 'a' ? 'b' : 'a';
    const leaving = this.dialogOf(other);
    this.hangup(cause, other);
    if (leaving) this.ua.leaving(leaving, false);
  }

  /** a 6xx, or every fork failed: the best final response goes to the caller */
  private onForksFailed(status: number): void {
    if (this.state !== 'ringing') return;
    if ((status === 486 || status === 600) && this.forward?.busy && this.divert(this.forward.busy, 'busy')) return;
    this.failA(status);
  }

  private failA(status: number): void {
    clearTimeout(this.ringTimer);
    const reason = REASONS[status] ?? 'Call Failed';
    this.respondA(status === 408 ? 480 : status, status === 408 ? 'Temporarily Unavailable' : reason);
    const disp: CdrRecord['disposition'] =
      status === 486 || status === 600 ? 'BUSY' : status === 480 || status === 408 || status === 487 || status === 603 ? 'NO ANSWER' : status === 503 ? 'CONGESTION' : 'FAILED';
    this.finish(disp, `callee ${status}`);
  }

  private onRingTimeout(): void {
    if (this.state !== 'ringing') return;
    this.forks?.cancel();
    this.respondA(480, 'Temporarily Unavailable');
    this.finish('NO ANSWER', 'ring timeout');
  }

  // ---------------------------------------------------------------- leg A

  /** the caller sent CANCEL for its INVITE (RFC 3261 §9.2) */
  onCancel(): void {
    if (this.state !== 'ringing' && this.state !== 'routing') return;
    clearTimeout(this.ringTimer);
    this.forks?.cancel();
    this.respondA(487, 'Request Terminated');
    this.finish('NO ANSWER', 'caller cancelled');
  }

  /** ACK for our 2xx on leg A (or for a re-INVITE's 2xx) */
  onAckFromA(ack: SipMessage): void {
    if (this.a2xx) {
      this.a2xx.stop();
      this.a2xx = undefined;
    }
    this.inDialog?.acked('a', ack);
    if (this.heldBAck) {
      // late offer: A's ACK carries the answer to B's offer
      const won = this.heldBAck;
      this.heldBAck = undefined;
      this.forks!.ack(won, ack.body.length ? this.mediaFromA(ack.body) : undefined);
    }
  }

  /** ACK from the callee for a relayed re-INVITE's 2xx (its body: the answer to a late offer) */
  onAckFromB(ack: SipMessage): void {
    this.inDialog?.acked('b', ack);
  }

  /** an in-dialog request from either leg */
  onInDialogRequest(from: 'a' | 'b', tx: ServerTxHandle, req: SipMessage): void {
    const me = from === 'a' ? this.a : this.b;
    const other = from === 'a' ? this.b : this.a;
    if (!me || !other) {
      tx.respond(buildResponse(req, 481, 'Call/Transaction Does Not Exist', { server: this.ua.cfg.userAgent }));
      return;
    }
    // RFC 3261 §12.2.2: a lower CSeq than the last one is out of order → 500
    const seq = req.cseq.seq;
    if (seq <= me.remoteCseq && req.method !== 'ACK') {
      tx.respond(buildResponse(req, 500, 'Server Internal Error', { server: this.ua.cfg.userAgent, headers: [['retry-after', '1']] }));
      return;
    }
    me.remoteCseq = seq;
    const contact = req.method === 'INVITE' || req.method === 'UPDATE' ? req.contacts[0] : undefined;
    if (contact) me.remoteTarget = contact.uri.raw; // target refresh (RFC 3261 §12.2.2)

    if (req.method === 'BYE') {
      tx.respond(buildResponse(req, 200, 'OK', { server: this.ua.cfg.userAgent }));
      // after a transfer the sides no longer say who called: the cause names the party
      const who = this.lastApp === 'Transfer' ? `${this.partyOf(from).number} hung up` : from === 'a' ? 'caller hung up' : 'callee hung up';
      this.hangup(who, from === 'a' ? 'b' : 'a');
      return;
    }
    // REFER is served here, never passed to the other phone: Palisade makes the new call (call-transfer.ts)
    if (req.method === 'REFER') return this.transfers.onRefer(from, tx, req);
    // Anything else in the dialog (re-INVITE, UPDATE, INFO, MESSAGE, NOTIFY...) crosses the bridge.
    this.inDialog?.relay(from, tx, req);
  }

  // ---------------------------------------------------------------- media

  /** SDP from the caller, as the callee must see it (unchanged with direct media or bad SDP) */
  private mediaFromA(body: Buffer): Buffer {
    return this.viaRelay('a', body);
  }

  private mediaFromB(body: Buffer): Buffer {
    return this.viaRelay('b', body);
  }

  private viaRelay(from: 'a' | 'b', body: Buffer): Buffer {
    if (!this.relay) return body;
    this.lastSdp[from] = body;
    try {
      return this.relay.offerAnswer(from, body);
    } catch (err) {
      this.ua.log.info('bad-sdp', { call: this.id, leg: from, error: (err as Error).message });
      return body;
    }
  }

  /** the relay saw no media for too long */
  onMediaTimeout(): void {
    if (this.state === 'answered') {
      this.sendBye(this.a);
      if (this.b) this.sendBye(this.b);
      this.hangup('rtp timeout');
    }
  }

  // ---------------------------------------------------------------- helpers

  private buildA(status: number, reason: string, opts: { body?: Buffer; headers?: [string, string][] } = {}): SipMessage {
    const res = buildResponse(this.aInvite, status, reason, {
      toTag: this.a.localTag,
      server: this.ua.cfg.userAgent,
      body: opts.body,
      contentType: opts.body ? 'application/sdp' : undefined,
      headers: opts.headers,
    });
    if (status > 100 && status < 300) {
      res.headers.push({ name: 'contact', value: this.a.localContact });
      res.headers.push({ name: 'allow', value: this.ua.allow });
      // RFC 3261 §12.1.1: the UAS copies Record-Route into 2xx / 1xx that create a dialog
      for (const rr of this.aInvite.getAll('record-route')) res.headers.push({ name: 'record-route', value: rr });
    }
    return res;
  }

  private respondA(status: number, reason: string, opts: { body?: Buffer; headers?: [string, string][] } = {}): void {
    this.aInviteTx.respond(this.buildA(status, reason, opts));
  }

  private sendBye(d: Dialog): void {
    const bye = d.createRequest('BYE', { userAgent: this.ua.cfg.userAgent });
    this.ua.deps.tx.sendRequest(bye, d.remote, { onResponse: () => undefined, onTimeout: () => undefined });
  }

  /** end an established call; `byeTo` names the leg that still needs a BYE */
  hangup(cause: string, byeTo?: 'a' | 'b'): void {
    if (this.state === 'ended') return;
    if (byeTo === 'a') this.sendBye(this.a);
    else if (byeTo === 'b' && this.b) this.sendBye(this.b);
    else if (byeTo === undefined && this.state === 'answered') {
      this.sendBye(this.a);
      if (this.b) this.sendBye(this.b);
    }
    this.finish(this.answerAt ? 'ANSWERED' : 'NO ANSWER', cause);
  }

  /** release everything and write the CDR, exactly once */
  finish(disposition: CdrRecord['disposition'], cause: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.disposition = disposition;
    this.hangupCause = cause;
    this.endAt = new Date();
    clearTimeout(this.ringTimer);
    clearTimeout(this.durationTimer);
    this.a2xx?.stop();
    this.inDialog?.close();
    this.mediaQuality = this.relay?.quality?.() ?? null;
    this.relay?.close();
    this.relay = undefined;
    this.transfers.cancel();
    // the forks' transactions outlive the call (Accepted, 32 s): they let go of it
    this.forks?.detach();
    if (this.started) this.emitPhase('end', cause);
    this.ua.callEnded(this);
  }

  private started = false;
  private ringingSeen = false;
  private earlySeen = 0;

  /** the callee's phones ringing now in early dialogs (none once answered or over) */
  earlyDialogs(): EarlyDialog[] {
    if (this.state !== 'ringing' || !this.forks) return [];
    const extension = this.callee.number;
    return this.forks.earlyDialogs().map((e) => ({ extension, callId: e.branch.callId, phoneTag: e.phoneTag, pickupTag: e.pickupTag }));
  }

  /** report a phase to the call events (src/core/call-events.ts) */
  private emitPhase(phase: CallPhase, cause?: string): void {
    const ev = this.ua.deps.callEvents;
    if (!ev) return;
    this.started = true;
    ev.emitCall({
      phase,
      callId: this.id,
      uniqueid: this.uniqueid,
      sipCallId: this.aInvite.callId,
      from: this.caller.number,
      to: this.dialled,
      fromExtension: this.caller.number,
      toExtension: this.callee.number,
      early: this.earlyDialogs(),
      channel: this.aChannel,
      via: 'b2bua',
      at: Date.now(),
      cause,
    });
  }

  cdr(): CdrRecord {
    const end = this.endAt ?? new Date();
    const billsec = this.answerAt ? Math.round((end.getTime() - this.answerAt.getTime()) / 1000) : 0;
    const callerName = this.callerName;
    return {
      accountcode: '',
      src: this.caller.number,
      dst: this.dialled,
      dcontext: this.caller.context,
      clid: `"${callerName}" <${this.caller.number}>`,
      channel: this.aChannel,
      dstchannel: this.bChannel,
      lastapp: this.lastApp,
      lastdata: this.lastData,
      start: this.start,
      answer: this.answerAt,
      end,
      duration: Math.round((end.getTime() - this.start.getTime()) / 1000),
      billsec,
      disposition: this.disposition,
      amaflags: 'DOCUMENTATION',
      uniqueid: this.uniqueid,
      userfield: this.hangupCause,
      sourceIp: this.aRemote.address,
      securityVerdict: this.verdict,
      quality: cdrQuality(this.mediaQuality),
    };
  }

  summary(): Record<string, unknown> {
    return {
      id: this.id,
      from: this.caller.number,
      to: this.dialled,
      state: this.state,
      start: this.start.toISOString(),
      answer: this.answerAt?.toISOString() ?? null,
      source: `${this.aRemote.transport}:${this.aRemote.address}:${this.aRemote.port}`,
      media: this.relay ? this.relay.describe() : this.state === 'ended' ? '' : 'direct',
    };
  }
}

const REASONS: Record<number, string> = {
  404: 'Not Found',
  480: 'Temporarily Unavailable',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

function stripTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag=[^;]*/i, '');
}
