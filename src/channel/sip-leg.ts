// The signalling of one incoming SIP call leg that Palisade answers itself
// (the UAS side of a SIP channel, sip-channel.ts): the dialog, the
// provisional and final responses to the INVITE, the 2xx retransmitted
// until the ACK, BYE both ways, CANCEL, INFO (DTMF), and re-INVITE/UPDATE
// answered for our own endpoint — or handed to a Dial() bridge. A REFER
// (call transfer) goes to whoever the channel names (`onRefer`); without
// one it is declined. Everything is sent through the B2BUA's SipLegHost,
// never its internals.
import { buildResponse } from '../sip-message/response.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { Dialog, newToken } from '../sip/dialog/dialog.js';
import type { Remote } from '../transport/types.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { DialogOwner, ServerTxHandle } from '../sip/b2bua/types.js';
import type { Logger } from '../observability/logger.js';
import type { MediaSession } from '../media/media-session.js';
import { parseDtmfInfo } from '../media/dtmf/sip-info-dtmf.js';
import { answerHere, answerInAck } from './local-offer.js';

/** a Dial() bridge the leg is in takes its re-INVITEs, UPDATEs and ACKs (dial-bridge.ts) */
export interface LegBridgeHook {
  /** true when the bridge took the request */
  inDialog(tx: ServerTxHandle, req: SipMessage): boolean;
  onAck(ack: SipMessage): void;
}

/** what the leg tells its channel */
export interface SipLegEvents {
  /** the caller ended the call (BYE, or CANCEL before the answer): the channel ends with `cause` */
  ended(cause: 'normal'): void;
  /** the call cannot go on (no ACK for our 2xx, an unusable answer): the channel hangs up */
  failed(): void;
  /** a DTMF digit in a SIP INFO (RFC 6086); `req` is the INFO, to relay when bridged */
  infoDigit(digit: string, req: SipMessage): void;
}

export class SipLeg implements DialogOwner {
  readonly dialog: Dialog;
  /** our SDP offer/answer state; set by the channel once its endpoint exists */
  session: MediaSession | null = null;
  bridge: LegBridgeHook | null = null;
  /** a REFER in this dialog (a transfer, src/channel/channel-transfer.ts); declined with 603 when unset */
  onRefer: ((tx: ServerTxHandle, req: SipMessage) => void) | null = null;
  /**
   * The caller held (true) or resumed (false) the call with an offer we
   * answered here, or with its answer in an ACK to our offer (not one a
   * Dial() bridge carried to another phone): a frame bridge tells the
   * other technology's leg (hold-link.ts).
   */
  onHoldChange: ((held: boolean) => void) | null = null;
  private holding = false;
  private answered = false;
  private closed = false;
  private ok2xx?: { stop(): void };
  private acked = false;

  constructor(
    private readonly host: SipLegHost,
    private readonly tx: ServerTxHandle,
    readonly invite: SipMessage,
    readonly remote: Remote,
    contactUser: string,
    private readonly events: SipLegEvents,
    private readonly log: Logger,
    private readonly name: string,
  ) {
    const contact = invite.contacts[0];
    this.dialog = new Dialog({
      callId: invite.callId,
      localTag: newToken(),
      remoteTag: invite.from.params.tag ?? '',
      localUri: stripTag(invite.get('to') ?? ''),
      remoteUri: stripTag(invite.get('from') ?? ''),
      remoteTarget: contact ? contact.uri.raw : invite.from.uri.raw,
      routeSet: invite.getAll('record-route'), // RFC 3261 §12.1.1
      localCseq: 0,
      remoteCseq: invite.cseq.seq,
      remote,
      localContact: host.contactFor(remote, contactUser),
    });
    host.ownInvite(invite.callId, this.dialog.remoteTag, this);
  }

  private buildA(status: number, reason: string, body?: Buffer, headers?: Array<[string, string]>): SipMessage {
    const res = buildResponse(this.invite, status, reason, {
      toTag: this.dialog.localTag,
      server: this.host.userAgent,
      body,
      contentType: body ? 'application/sdp' : undefined,
      headers,
    });
    if (status > 100 && status < 300) {
      res.headers.push({ name: 'contact', value: this.dialog.localContact });
      res.headers.push({ name: 'allow', value: this.host.allow });
      for (const rr of this.invite.getAll('record-route')) res.headers.push({ name: 'record-route', value: rr });
    }
    return res;
  }

  /** 180 Ringing, or 183 Session Progress with our SDP (early media) */
  provisional(status: 180 | 183, body?: Buffer): void {
    this.tx.respond(this.buildA(status, status === 180 ? 'Ringing' : 'Session Progress', body));
  }

  /** a final refusal of the INVITE (4xx-6xx) */
  refuse(status: number, reason: string, headers?: Array<[string, string]>): void {
    this.tx.respond(this.buildA(status, reason, undefined, headers));
  }

  /** 200 OK with our SDP; resent until the ACK (RFC 3261 §13.3.1.4), none within 64*T1 → the channel fails */
  answer(body: Buffer, headers?: Array<[string, string]>): void {
    const ok = this.buildA(200, 'OK', body, headers);
    this.tx.respond(ok);
    this.answered = true;
    this.host.ownDialog(this.dialog.callId, this.dialog.localTag, this);
    this.ok2xx = this.host.retransmit2xx(ok, this.remote, () => {
      if (!this.acked) this.events.failed();
    });
  }

  /**
   * Asks the phone to call `target` itself (RFC 3515 REFER in this dialog):
   * true when it accepted (2xx), false when it refused or did not answer.
   */
  refer(target: string): Promise<boolean> {
    const req = this.dialog.createRequest('REFER', { userAgent: this.host.userAgent });
    // at the address the phone reaches us on (our Contact's host and port), so its new call comes back to Palisade
    const hostport = /@([^;>]+)/.exec(this.dialog.localContact)?.[1] ?? this.host.domain;
    req.headers.push({ name: 'refer-to', value: `<sip:${target}@${hostport}>` });
    req.headers.push({ name: 'referred-by', value: this.dialog.localUri });
    return new Promise((resolve) => {
      this.host.sendRequest(req, this.remote, {
        onResponse: (res) => {
          if (res.status >= 200) resolve(res.status < 300);
        },
        onTimeout: () => resolve(false),
      });
    });
  }

  /** end an answered leg with BYE */
  bye(): void {
    this.host.sendInDialog(this.dialog, 'BYE');
  }

  /** the leg is over: no more retransmissions, no more requests routed here */
  close(): void {
    // once: the dialog may belong to another owner since (a transfer took the caller, SipChannel.detachCaller)
    if (this.closed) return;
    this.closed = true;
    this.ok2xx?.stop();
    this.host.releaseDialog(this.dialog.callId, this.dialog.localTag);
    this.host.releaseDialog(this.dialog.callId, this.dialog.remoteTag);
  }

  // DialogOwner: requests the B2BUA routes to this leg
  onRequest(tx: ServerTxHandle, req: SipMessage): void {
    const server = this.host.userAgent;
    // RFC 3261 §12.2.2: out-of-order CSeq → 500
    if (req.cseq.seq <= this.dialog.remoteCseq) {
      tx.respond(buildResponse(req, 500, 'Server Internal Error', { server, headers: [['retry-after', '1']] }));
      return;
    }
    this.dialog.remoteCseq = req.cseq.seq;
    switch (req.method) {
      case 'BYE':
        tx.respond(buildResponse(req, 200, 'OK', { server }));
        this.events.ended('normal');
        return;
      case 'INFO': {
        const digit = parseDtmfInfo(req.get('content-type'), req.body.toString('utf8'));
        if (digit) this.events.infoDigit(digit, req);
        // an INFO we cannot read: RFC 6086 §4.2.2 answers 415 for an unknown body type
        const ok = digit || req.body.length === 0;
        tx.respond(buildResponse(req, ok ? 200 : 415, ok ? 'OK' : 'Unsupported Media Type', { server }));
        return;
      }
      case 'INVITE':
      case 'UPDATE':
        if (req.contacts[0]) this.dialog.remoteTarget = req.contacts[0].uri.raw; // target refresh (RFC 3261 §12.2.2)
        // bridged by Dial(): offered to the other phone (dial-bridge.ts)
        if (this.bridge?.inDialog(tx, req)) return;
        this.reoffer(tx, req);
        return;
      case 'REFER':
        if (this.onRefer) return this.onRefer(tx, req);
        // RFC 3515 §2.4.2: a REFER the UA will not act on may be declined; never a 2xx for a call that does not move
        tx.respond(buildResponse(req, 603, 'Decline', { server }));
        return;
      default:
        tx.respond(buildResponse(req, 200, 'OK', { server }));
    }
  }

  /**
   * A re-INVITE or UPDATE while no bridge carries it: a new offer (hold, a
   * new address) for our own endpoint, answered here. Without an offer, a
   * re-INVITE's 2xx carries ours and the ACK the answer (RFC 3261 §14.2).
   */
  private reoffer(tx: ServerTxHandle, req: SipMessage): void {
    const server = this.host.userAgent;
    const session = this.session;
    if (!session) {
      tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
      return;
    }
    const answered = answerHere(session, req);
    if (!answered) {
      tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
      return;
    }
    const { body, holds } = answered;
    const res = buildResponse(req, 200, 'OK', { toTag: this.dialog.localTag, server, body, contentType: body ? 'application/sdp' : undefined });
    res.headers.push({ name: 'contact', value: this.dialog.localContact });
    tx.respond(res);
    if (req.method === 'INVITE') {
      this.ok2xx?.stop();
      this.acked = false;
      this.ok2xx = this.host.retransmit2xx(res, this.remote, () => undefined);
    }
    this.holdIs(holds);
  }

  /** reported only when it changes; null (no offer, no answer) changes nothing */
  private holdIs(holds: boolean | null): void {
    if (holds !== null && holds !== this.holding) {
      this.holding = holds;
      this.onHoldChange?.(holds);
    }
  }

  onAck(ack: SipMessage): void {
    this.acked = true;
    this.ok2xx?.stop();
    this.ok2xx = undefined;
    if (this.bridge) return this.bridge.onAck(ack);
    if (!this.session) return;
    let holds: boolean | null;
    try {
      // our 2xx carried the offer (late offer, refresh, a hold by re-INVITE without SDP): the ACK the answer
      holds = answerInAck(this.session, ack);
    } catch (err) {
      this.log.info('channel-bad-answer', { channel: this.name, error: (err as Error).message });
      this.events.failed();
      return;
    }
    this.holdIs(holds);
  }

  onCancel(): void {
    if (this.answered || this.closed) return;
    this.refuse(487, 'Request Terminated');
    this.events.ended('normal');
  }
}

function stripTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag=[^;]*/i, '');
}
