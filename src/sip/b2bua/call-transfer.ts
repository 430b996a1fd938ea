// Call transfer in the B2BUA's direct calls: a REFER (RFC 3515) from
// either phone is served by Palisade itself, never passed to the other
// phone. The phone that sent it (the transferor) leaves; the other (the
// transferee) stays on its dialog and its RTP relay ports, and the party
// it is transferred to takes the transferor's place in the call:
//
// - blind: Refer-To names a number. Palisade rings its phones with the
//   transferee's session description (through the relay, so the transferee
//   needs no re-INVITE) and, when one answers, points the relay at it;
//   an outside number goes out through the transferor's outbound routes
//   (the channel layer's DirectServices.outside): the transferee's media
//   moves to Palisade and is joined with the trunk's leg;
// - attended: Refer-To carries Replaces (RFC 3891) naming the transferor's
//   other call. Palisade re-INVITEs the party of that call towards this
//   call's relay, ends the other call and joins the two that remain.
//
// Progress goes back to the transferor in NOTIFYs with message/sipfrag
// bodies (RFC 3515 §2.4.4-2.4.5); on success the transferor's dialog is
// ended with BYE. A transfer is a call by the transferring extension: the
// call gate (fraud rules, limits, reputation) decides on it as on any call
// of that extension. Each segment of a call gets its own CDR.
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Dialog } from '../dialog/dialog.js';
import { InviteFork } from './fork.js';
import { isSdp } from './in-dialog-relay.js';
import { readReferTo, referNotify, type ReplacesId } from './refer.js';
import type { CallTicket, ExtensionInfo, ServerTxHandle } from './types.js';
import type { DirectOutside } from './leg-host.js';
import type { Call } from './call.js';

export type Side = 'a' | 'b';
const OTHER: Record<Side, Side> = { a: 'b', b: 'a' };

/** a transfer under way in one call */
interface Pending {
  cancel(): void;
}

export class CallTransfers {
  private pending: Pending | null = null;

  constructor(private readonly call: Call) {}

  /** the call ended: a transfer still ringing is given up */
  cancel(): void {
    this.pending?.cancel();
    this.pending = null;
  }

  /** a REFER from `from`'s phone, in its dialog */
  onRefer(from: Side, tx: ServerTxHandle, req: SipMessage): void {
    const call = this.call;
    const ua = call.ua;
    const server = ua.cfg.userAgent;
    const respond = (status: number, reason: string, headers?: [string, string][]) => tx.respond(buildResponse(req, status, reason, { server, headers }));
    if (call.state !== 'answered') return respond(481, 'Call/Transaction Does Not Exist');
    // RFC 3515 §2.4.6 lets several REFERs share a dialog; Palisade runs one transfer at a time
    if (this.pending) return respond(491, 'Request Pending');
    const target = readReferTo(req);
    // RFC 3515 §2.4.1: a REFER without exactly one usable Refer-To → 400
    if (!target) return respond(400, 'Bad Refer-To');
    const transferor = call.partyOf(from);
    const dialog = call.dialogOf(from)!;
    let joined: { call: Call; side: Side } | undefined;
    let party: ExtensionInfo | undefined;
    if (target.replaces) {
      joined = this.findReplaced(target.replaces, transferor);
      party = joined ? joined.call.partyOf(OTHER[joined.side]) : undefined;
    } else party = ua.extension(target.user);
    const dialled = party?.number ?? target.user;
    // A blind transfer is a new call by the transferor: the gate judges it as
    // one (fraud rules, limits, reputation). An attended one makes no new
    // call: it joins two the gate let through already, and the joined call's
    // ticket goes on with the party it brings (taken over in attended()).
    let ticket: CallTicket | undefined;
    if (ua.deps.gate && !target.replaces) {
      const d = ua.deps.gate.check({ caller: transferor.number, dialled, callee: party?.number, remote: dialog.remote, callId: req.callId });
      if (!d.ok) {
        ua.log.info('transfer-refused', { call: call.id, by: transferor.number, to: dialled, verdict: d.verdict });
        return respond(403, 'Forbidden');
      }
      ticket = d.ticket;
    }
    const refuse = (status: number, reason: string, why: string) => {
      ticket?.ended(0);
      ua.log.info('transfer-refused', { call: call.id, by: transferor.number, to: dialled, why });
      respond(status, reason);
    };
    if (target.replaces && !joined) return refuse(481, 'Call/Transaction Does Not Exist', 'replaces names no call of the transferor');
    // a number no extension takes but a service does (the parking lot's 700)
    const services = ua.directServices;
    if (!party && !target.replaces && services?.takes(target.user, transferor.context)) return this.toService(from, target.user, req, ticket, respond);
    // an outside number: out through the transferor's outbound routes (the channel layer's, with the trunks)
    if (!party && !target.replaces && services?.outside && this.toOutside(from, target.user, req, ticket, respond)) return;
    if (!party) return refuse(404, 'Not Found', 'no route');
    const offer = call.offerFor(from);
    // direct media: the transferee would need a new offer of its own (not done; the call stays as it is)
    if (!offer) return refuse(488, 'Not Acceptable Here', 'direct media');
    const bindings = joined ? [] : ua.contacts(party.number);
    if (!joined && bindings.length === 0) return refuse(480, 'Temporarily Unavailable', 'target not registered');
    // RFC 3515 §2.4.2: 202 Accepted, then NOTIFYs in the REFER's dialog
    respond(202, 'Accepted', [['contact', dialog.localContact]]);
    const cseq = req.cseq.seq;
    const notify = (status: number, final: boolean) =>
      ua.sendRequest(referNotify(dialog, cseq, status, final, server), dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
    // §2.4.5: the first NOTIFY follows at once
    notify(100, false);
    const how = `${joined ? 'attended' : 'blind'} transfer by ${transferor.number} to ${party.number}`;
    ua.log.info('transfer-started', { call: call.id, by: transferor.number, to: party.number, kind: joined ? 'attended' : 'blind' });
    const done = (status: number) => {
      this.pending = null;
      notify(status, true);
      if (status >= 300) {
        ticket?.ended(0);
        ua.log.info('transfer-failed', { call: call.id, by: transferor.number, to: party!.number, status });
      }
    };
    if (joined) this.attended(from, offer, joined, party, how, done);
    else this.blind(from, offer, party, bindings, how, ticket, done, notify);
  }

  /**
   * A blind transfer to a service (parking): 202 and NOTIFY 100 at once;
   * both parties' media move to Palisade and the transferee is the
   * service's, the transferor hears what it says (the slot), then NOTIFY
   * 200 and BYE. No new call leaves Palisade: the gate's ticket ends.
   */
  private toService(
    from: Side,
    number: string,
    req: SipMessage,
    ticket: CallTicket | undefined,
    respond: (status: number, reason: string, headers?: [string, string][]) => void,
  ): void {
    const call = this.call;
    const ua = call.ua;
    const dialog = call.dialogOf(from)!;
    const other = OTHER[from];
    const transferor = call.partyOf(from);
    respond(202, 'Accepted', [['contact', dialog.localContact]]);
    const cseq = req.cseq.seq;
    const notify = (status: number, final: boolean) =>
      ua.sendRequest(referNotify(dialog, cseq, status, final, ua.cfg.userAgent), dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
    notify(100, false);
    const how = `blind transfer by ${transferor.number} to ${number}`;
    ua.log.info('transfer-started', { call: call.id, by: transferor.number, to: number, kind: 'blind', service: true });
    this.pending = { cancel: () => undefined };
    void ua
      .directServices!.hand(
        {
          number,
          transferee: { dialog: call.dialogOf(other)!, party: call.partyOf(other), name: call.nameOf(other) },
          transferor: { dialog, party: transferor },
          release: (why) => call.releaseBoth(why),
        },
        () => notify(200, true),
      )
      .then((ok) => {
        this.pending = null;
        ticket?.ended(0);
        if (ok) return ua.log.info('call-transferred', { call: call.id, how, from: call.partyOf(other).number, to: number });
        notify(503, true);
        ua.log.info('transfer-failed', { call: call.id, by: transferor.number, to: number, status: 503 });
      });
  }

  /**
   * A blind transfer to an outside number: the channel layer calls it out
   * through the transferor's outbound routes (the gate's ticket goes with
   * it); 202 and NOTIFY 100 once it is placed, 180 when it rings. When it
   * answers, the transferee is re-INVITEd towards Palisade's media and
   * joined with the trunk's leg, the call ends (its CDR says how), the
   * transferor hears NOTIFY 200 and gets BYE. False when no route takes
   * the number (nothing was sent, the ticket is still the caller's).
   */
  private toOutside(
    from: Side,
    number: string,
    req: SipMessage,
    ticket: CallTicket | undefined,
    respond: (status: number, reason: string, headers?: [string, string][]) => void,
  ): boolean {
    const call = this.call;
    const ua = call.ua;
    const dialog = call.dialogOf(from)!;
    const other = OTHER[from];
    const transferor = call.partyOf(from);
    const cseq = req.cseq.seq;
    const notify = (status: number, final: boolean) =>
      ua.sendRequest(referNotify(dialog, cseq, status, final, ua.cfg.userAgent), dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
    const h: DirectOutside = {
      number,
      id: call.id,
      transferee: { dialog: call.dialogOf(other)!, party: call.partyOf(other), name: call.nameOf(other) },
      transferor: { dialog, party: transferor },
      get live() {
        return call.state === 'answered';
      },
      // the call ends here; its own ticket ends with what it lasted
      release: (how) => {
        const billsec = call.answerAt ? Math.round((Date.now() - call.answerAt.getTime()) / 1000) : 0;
        call.releaseBoth(how)?.ended(billsec);
        return undefined;
      },
    };
    let rang = false;
    const placed = ua.directServices!.outside!(
      h,
      ticket,
      () => {
        if (rang) return;
        rang = true;
        notify(180, false);
      },
      () => notify(200, true),
    );
    if (!placed) return false;
    respond(202, 'Accepted', [['contact', dialog.localContact]]);
    notify(100, false);
    ua.log.info('transfer-started', { call: call.id, by: transferor.number, to: number, kind: 'blind', outside: true });
    this.pending = { cancel: () => placed.cancel() };
    void placed.done.then((status) => {
      this.pending = null;
      if (status === 200) return;
      notify(status, true);
      ua.log.info('transfer-failed', { call: call.id, by: transferor.number, to: number, status, outside: true });
    });
    return true;
  }

  /** the transferor's other call that a Replaces names: a dialog of ours facing the transferor, in an answered call */
  private findReplaced(r: ReplacesId, transferor: ExtensionInfo): { call: Call; side: Side } | undefined {
    const found = this.call.ua.findDialog(r.callId, r.toTag, r.fromTag);
    if (!found || found.call === this.call || found.call.state !== 'answered') return undefined;
    // an extension hands over its own calls only
    if (found.call.partyOf(found.side).number !== transferor.number) return undefined;
    return found;
  }

  private blind(
    from: Side,
    offer: Buffer,
    party: ExtensionInfo,
    bindings: ReturnType<Call['ua']['contacts']>,
    how: string,
    ticket: CallTicket | undefined,
    done: (status: number) => void,
    notify: (status: number, final: boolean) => void,
  ): void {
    const call = this.call;
    const ua = call.ua;
    const transferee = call.partyOf(OTHER[from]);
    let ringing = false;
    const fork: InviteFork = new InviteFork(
      ua,
      { callerNumber: transferee.number, callerName: call.nameOf(OTHER[from]), calleeNumber: party.number, maxForwards: 70, offer },
      {
        onProvisional: (_b, res) => {
          if (ringing || (res.status !== 180 && res.status !== 183)) return;
          ringing = true;
          notify(180, false);
        },
        onAnswered: (b, res) => {
          clearTimeout(timer);
          fork.ack(b);
          if (call.state !== 'answered') {
            // the transferee hung up meanwhile
            ua.sendInDialog(b.dialog, 'BYE');
            return done(487);
          }
          if (res.body.length && isSdp(res)) call.takeAnswer(from, res.body);
          done(200);
          call.replaceSide(from, b.dialog, party, how, ticket);
        },
        onFailed: (status) => {
          clearTimeout(timer);
          done(status);
        },
      },
    );
    for (const b of bindings) fork.ring(b);
    const timer = setTimeout(() => {
      fork.cancel();
      done(408);
    }, ua.cfg.ringTimeoutMs);
    this.pending = {
      cancel: () => {
        clearTimeout(timer);
        fork.cancel();
      },
    };
  }

  /**
   * RFC 3891 §3 done by the B2BUA on the transferee's behalf: the party of
   * the replaced call is re-INVITEd towards this call's relay (a target
   * refresh with a new offer, RFC 3261 §14.1); on its 2xx the replaced call
   * ends (BYE to the transferor only) and the party joins this call.
   */
  private attended(from: Side, offer: Buffer, joined: { call: Call; side: Side }, party: ExtensionInfo, how: string, done: (status: number) => void): void {
    const call = this.call;
    const ua = call.ua;
    const server = ua.cfg.userAgent;
    const partySide = OTHER[joined.side];
    const target: Dialog = joined.call.dialogOf(partySide)!;
    const reinvite = target.createRequest('INVITE', { body: offer, contentType: 'application/sdp', userAgent: server });
    reinvite.headers.push({ name: 'allow', value: ua.allow });
    let answered = false;
    let cancelled = false;
    ua.sendRequest(reinvite, target.remote, {
      onResponse: (res) => {
        if (res.status < 200) return;
        const ok = res.status < 300;
        if (ok) ua.sendStateless(target.createRequest('ACK', { cseq: reinvite.cseq.seq }), target.remote);
        if (answered) return; // a retransmitted 2xx: ACKed again above
        answered = true;
        if (cancelled || call.state !== 'answered' || joined.call.state !== 'answered') return done(487);
        if (!ok) return done(res.status);
        const contact = res.contacts[0];
        if (contact) target.remoteTarget = contact.uri.raw; // RFC 3261 §12.2.1.2 target refresh
        if (res.body.length && isSdp(res)) call.takeAnswer(from, res.body);
        // the replaced call ends: BYE to the transferor's dialog only; its party, and its gate ticket, move here
        const carried = joined.call.takeTicket();
        joined.call.handOver(partySide, `replaced: ${how}`);
        done(200);
        call.replaceSide(from, target, party, how, carried, true);
      },
      onTimeout: () => {
        if (!answered) done(408);
      },
    });
    this.pending = { cancel: () => (cancelled = true) };
  }
}
