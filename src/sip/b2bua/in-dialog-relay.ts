// An in-dialog request crossing a bridge of two dialogs: a re-INVITE (hold,
// resume, a new address), UPDATE, INFO... from one leg is rebuilt on the
// other leg's dialog, and the answer comes back rebuilt for the first. The
// B2BUA's direct calls (call.ts) and the dialplan's Dial() bridges
// (src/channel/dial-bridge.ts) both use it; they differ only in how a
// session description crosses (BridgeSdp): rewritten to point at the RTP
// relay, or offered afresh from Palisade's own media legs.
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Dialog } from '../dialog/dialog.js';
import type { ServerTxHandle, TxApi } from './types.js';

export type Leg = 'a' | 'b';

/** how a session description crosses the bridge */
export interface BridgeSdp {
  /** the SDP of a request from `from` (an offer), as the other leg must get it; throws when it is unusable */
  offer(from: Leg, body: Buffer): Buffer;
  /** the SDP of the response to that request (the answer), as `from` must get it; undefined drops it */
  answer(from: Leg, body: Buffer, status: number): Buffer | undefined;
  /** the offer `from` made was refused or got no answer: RFC 3261 §14.1, the session stays as it was */
  refused?(from: Leg): void;
  /**
   * The answer `from` put in its ACK, as the other leg must get it in ours:
   * a re-INVITE from `from` without an offer was relayed as it was, and the
   * other phone's 2xx carried the offer (RFC 3261 §14.2 late offer, a session
   * refresh). Without it such a 2xx is ACKed at once, with no answer.
   */
  ackAnswer?(from: Leg, body: Buffer): Buffer | undefined;
}

export interface InDialogRelayDeps {
  userAgent: string;
  tx: TxApi;
  sdp: BridgeSdp;
  /** the 2xx of a relayed INVITE is resent to `to` until its ACK: stop the handle then */
  retransmitting(to: Leg, r: { stop(): void }): void;
}

/** headers an in-dialog request carries across the bridge unchanged */
const PASS_HEADERS = ['event', 'subscription-state', 'content-disposition', 'allow-events', 'supported', 'require'];

export function isSdp(m: SipMessage): boolean {
  const ct = m.get('content-type');
  return ct?.toLowerCase().startsWith('application/sdp') === true;
}

export class InDialogRelay {
  /** an INVITE crossing the bridge, from either leg (RFC 3261 §14.2: one at a time) */
  private pendingInvite: Leg | null = null;
  /** legs sent a 2xx to an INVITE whose ACK has not come yet */
  private readonly unacked = new Set<Leg>();
  /** an INVITE for a leg in `unacked`, sent when its ACK comes */
  private deferred: { to: Leg; send: () => void; abandon: () => void } | null = null;
  /**
   * late offer: the far leg's 2xx carried the offer, so our ACK to it waits
   * for the answer in `from`'s ACK; once sent, kept to answer a retransmitted
   * 2xx (our ACK lost) with the same ACK
   */
  private lateAck: { from: Leg; to: Dialog; cseq: number; sent: SipMessage | null } | null = null;

  constructor(
    private readonly legs: Record<Leg, Dialog>,
    private readonly deps: InDialogRelayDeps,
  ) {}

  /**
   * `leg` was sent a 2xx to an INVITE and has not ACKed it: until acked(),
   * an INVITE for it waits. RFC 3261 §14.1: "A UAC MUST NOT initiate a new
   * INVITE transaction within a dialog while another INVITE transaction is in
   * progress in either direction" — and the phone whose 2xx (or ACK) was
   * lost still sees its INVITE in progress: a re-INVITE reaching it first
   * would be refused (491) or, worse, taken for part of the call setup.
   */
  awaitAck(leg: Leg): void {
    this.unacked.add(leg);
  }

  /** the ACK from `leg` came (`ack`: the request, whose body may answer a late offer): an INVITE held for it goes now */
  acked(leg: Leg, ack?: SipMessage): void {
    const late = this.lateAck;
    if (late && late.from === leg && late.sent === null) {
      let body: Buffer | undefined;
      if (ack?.body.length && isSdp(ack)) body = this.deps.sdp.ackAnswer?.(leg, ack.body);
      late.sent = late.to.createRequest('ACK', { cseq: late.cseq, body, contentType: ack?.get('content-type') });
      this.deps.tx.sendStateless(late.sent, late.to.remote);
    }
    this.unacked.delete(leg);
    const d = this.deferred;
    if (d && d.to === leg) {
      this.deferred = null;
      d.send();
    }
  }

  /** the bridge is over: an INVITE still held for an ACK is answered 487 */
  close(): void {
    // a far 2xx still waiting for its answer is ACKed without one: it stops resending it
    const late = this.lateAck;
    this.lateAck = null;
    if (late && late.sent === null) this.ack(late.to, late.cseq);
    const d = this.deferred;
    this.deferred = null;
    this.unacked.clear();
    d?.abandon();
  }

  /**
   * An offer of Palisade's own for `to`, as a re-INVITE in its dialog (a
   * Dial() bridge passing on a hold the other phone made by its answer in
   * an ACK), under the rules a relayed one follows: none while another
   * INVITE crosses the bridge — false, nothing sent and `offer` not asked
   * for: the caller tries again later — and none before `to` has ACKed its
   * last 2xx (held until then).
   * `done` gets the answer of the 2xx, which is ACKed here, or null and the
   * status when refused (491: the phone's own re-INVITE crossed ours), 0 when
   * it timed out, 487 when the bridge ended first.
   */
  reoffer(to: Leg, offer: () => Buffer, done: (answer: Buffer | null, status: number) => void): boolean {
    if (this.pendingInvite || this.deferred) return false;
    const body = offer();
    // the bridge's one INVITE at a time, on behalf of the other leg's phone
    this.pendingInvite = to === 'a' ? 'b' : 'a';
    const d = this.legs[to];
    const send = () => {
      const out = d.createRequest('INVITE', { body, contentType: 'application/sdp', userAgent: this.deps.userAgent });
      let answered = false;
      this.deps.tx.sendRequest(out, d.remote, {
        onResponse: (res) => {
          if (res.status < 200) return;
          const ok = res.status < 300;
          if (answered) {
            // RFC 3261 §13.2.2.4: a retransmitted 2xx means our ACK was lost
            if (ok) this.ack(d, out.cseq.seq);
            return;
          }
          answered = true;
          this.pendingInvite = null;
          if (ok) this.ack(d, out.cseq.seq);
          done(ok && res.body.length ? res.body : null, res.status);
        },
        onTimeout: () => {
          this.pendingInvite = null;
          done(null, 0);
        },
      });
    };
    if (this.unacked.has(to)) {
      this.deferred = {
        to,
        send,
        abandon: () => {
          this.pendingInvite = null;
          done(null, 487);
        },
      };
      return true;
    }
    send();
    return true;
  }

  /** CSeq and target refresh are the caller's business; this sends `req` on and its answer back */
  relay(from: Leg, tx: ServerTxHandle, req: SipMessage): void {
    const other = this.legs[from === 'a' ? 'b' : 'a'];
    const server = this.deps.userAgent;
    if (req.method === 'INVITE') {
      if (this.pendingInvite) {
        // RFC 3261 §14.2: a re-INVITE while another is pending → 491
        tx.respond(buildResponse(req, 491, 'Request Pending', { server }));
        return;
      }
      this.pendingInvite = from;
    }
    let body: Buffer | undefined = req.body.length ? req.body : undefined;
    const offer = body !== undefined && isSdp(req);
    if (offer) {
      try {
        body = this.deps.sdp.offer(from, body!);
      } catch {
        // RFC 3261 §21.4.26 / §14.2: an offer we cannot take → 488, the session unchanged
        if (req.method === 'INVITE') this.pendingInvite = null;
        tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
        return;
      }
    }
    const to: Leg = from === 'a' ? 'b' : 'a';
    const send = () => this.send(from, other, tx, req, body, offer);
    if (req.method === 'INVITE' && this.unacked.has(to)) {
      this.deferred = {
        to,
        send,
        abandon: () => {
          this.pendingInvite = null;
          if (offer) this.deps.sdp.refused?.(from);
          tx.respond(buildResponse(req, 487, 'Request Terminated', { server }));
        },
      };
      return;
    }
    send();
  }

  private send(from: Leg, other: Dialog, tx: ServerTxHandle, req: SipMessage, body: Buffer | undefined, offer: boolean): void {
    const server = this.deps.userAgent;
    const out = other.createRequest(req.method, { body, contentType: req.get('content-type'), userAgent: server });
    for (const name of PASS_HEADERS) {
      const v = req.get(name);
      if (v !== undefined) out.headers.push({ name, value: v });
    }
    let answered = false;
    this.deps.tx.sendRequest(out, other.remote, {
      onResponse: (res) => {
        if (answered && res.status >= 200 && res.status < 300 && req.method === 'INVITE') {
          // RFC 3261 §13.2.2.4: a retransmitted 2xx means our ACK was lost (or, late offer, not sent yet)
          const late = this.lateAck;
          if (late && late.to === other && late.cseq === out.cseq.seq) {
            if (late.sent) this.deps.tx.sendStateless(late.sent, other.remote);
          } else this.ack(other, out.cseq.seq);
          return;
        }
        if (res.status >= 200) answered = true;
        this.relayResponse(from, tx, req, out, res, offer);
      },
      onTimeout: () => {
        if (req.method === 'INVITE') this.pendingInvite = null;
        if (offer) this.deps.sdp.refused?.(from);
        tx.respond(buildResponse(req, 408, 'Request Timeout', { server }));
      },
    });
  }

  private relayResponse(from: Leg, tx: ServerTxHandle, req: SipMessage, out: SipMessage, res: SipMessage, offer: boolean): void {
    if (res.status === 100) return;
    const me = this.legs[from];
    const other = this.legs[from === 'a' ? 'b' : 'a'];
    const ok = res.status >= 200 && res.status < 300;
    let body: Buffer | undefined = res.body.length ? res.body : undefined;
    if (body && isSdp(res)) body = this.deps.sdp.answer(from, body, res.status);
    const fwd = buildResponse(req, res.status, res.reason, {
      toTag: me.localTag,
      server: this.deps.userAgent,
      body,
      contentType: body ? (res.get('content-type') ?? 'application/sdp') : undefined,
    });
    if (req.method === 'INVITE' || req.method === 'UPDATE') fwd.headers.push({ name: 'contact', value: me.localContact });
    if (res.status >= 200 && offer && !ok) this.deps.sdp.refused?.(from);
    if (req.method === 'INVITE' && res.status >= 200) {
      this.pendingInvite = null;
      if (ok) {
        // ACK the far side's 2xx ourselves; the near side's ACK stops our retransmissions.
        // When that 2xx made the offer (our INVITE had none), the near side's ACK brings the answer ours must carry.
        if (!offer && body && this.deps.sdp.ackAnswer) this.lateAck = { from, to: other, cseq: out.cseq.seq, sent: null };
        else this.ack(other, out.cseq.seq);
        tx.respond(fwd);
        this.unacked.add(from);
        this.deps.retransmitting(
          from,
          this.deps.tx.retransmit2xx(fwd, me.remote, () => undefined),
        );
        return;
      }
    }
    tx.respond(fwd);
  }

  private ack(d: Dialog, cseq: number): void {
    this.deps.tx.sendStateless(d.createRequest('ACK', { cseq }), d.remote);
  }
}
