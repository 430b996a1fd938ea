// A Dial() bridge: the caller's channel and the callee's answered leg, both
// with their media in Palisade's engine (src/media/media-leg.ts), joined
// packet by packet. A re-INVITE or UPDATE from either phone (hold, resume, a
// new address or port) crosses as in the B2BUA's direct calls
// (src/sip/b2bua/in-dialog-relay.ts): it is offered to the other phone with
// Palisade's own description of that leg, the answer goes back to the first
// phone, and each media leg follows what its phone agreed. A phone that
// holds (sendonly or inactive) is sent nothing, and the held phone is told,
// so it stops sending too (RFC 3264 §8.4).
// A re-INVITE without an offer (a session refresh, or a hold by late offer)
// is answered by its own leg: our 2xx offers what the other phone last
// asked for (sendrecv, or its own hold), and when the answer in the ACK
// holds or resumes the call, Palisade offers the other phone that change in
// a re-INVITE of its own, as if the first phone had offered it.
import type { SipMessage } from '../sip-message/sip-message.js';
import { buildResponse } from '../sip-message/response.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { ServerTxHandle } from '../sip/b2bua/types.js';
import { InDialogRelay, isSdp, type BridgeSdp, type Leg } from '../sip/b2bua/in-dialog-relay.js';
import { negotiateOffer } from '../media/media-sdp.js';
import type { MediaSession, ReadOffer } from '../media/media-session.js';
import type { SdpDirection } from '../media/sdp/sdp-types.js';
import { holdsBy } from '../media/sdp/sdp-query.js';
import type { Logger } from '../observability/logger.js';

/** one side of the bridge: its dialog and the offer/answer state of its media leg */
export interface BridgeSide {
  dialog: Dialog;
  session: MediaSession;
}

const OTHER: Record<Leg, Leg> = { a: 'b', b: 'a' };

/** a hold passed on that could not go yet (another INVITE crossing, or a 491): tried again after this long (RFC 3261 §14.1's 2.1–4 s) */
const RETRY_MS = () => 2100 + Math.floor(Math.random() * 1900);

export class DialBridge implements BridgeSdp {
  private readonly relay: InDialogRelay;
  /** an offer crossing the bridge: whose it is and what we read in it */
  private pending: { from: Leg; offer: ReadOffer } | null = null;
  private readonly retransmits: Partial<Record<Leg, { stop(): void }>> = {};
  private closed = false;
  /** whether each phone holds the other, as its last offer or answer of its own said */
  private readonly holding: Record<Leg, boolean> = { a: false, b: false };
  /**
   * the direction each phone is offered on the other's behalf: what the other
   * asked for last (RFC 6337 §5.3: an offer says what its sender wants, not
   * what was agreed — after a phone held with sendonly, the recvonly agreed
   * would forbid it to resume in its answer, RFC 3264 §6.1)
   */
  private readonly wants: Record<Leg, SdpDirection> = { a: 'sendrecv', b: 'sendrecv' };
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly ua: SipLegHost,
    private readonly sides: Record<Leg, BridgeSide>,
    private readonly log: Logger,
    private readonly channel: string,
  ) {
    this.relay = new InDialogRelay({ a: sides.a.dialog, b: sides.b.dialog }, { userAgent: ua.userAgent, tx: ua, sdp: this, retransmitting: (to, r) => this.retransmitting(to, r) });
    sides.a.session.leg.bridge(sides.b.session.leg);
  }

  /**
   * An in-dialog request from `from`'s phone, after its dialog's CSeq check
   * and target refresh: true when it was an INVITE or UPDATE, now handled.
   */
  inDialog(from: Leg, tx: ServerTxHandle, req: SipMessage): boolean {
    if (req.method !== 'INVITE' && req.method !== 'UPDATE') return false;
    if (req.body.length && isSdp(req)) this.relay.relay(from, tx, req);
    else this.refresh(from, tx, req);
    return true;
  }

  /** the ACK for a 2xx we sent in `from`'s dialog */
  onAck(from: Leg, ack: SipMessage): void {
    this.retransmits[from]?.stop();
    delete this.retransmits[from];
    this.relay.acked(from);
    const session = this.sides[from].session;
    if (!session.awaitingAnswer || ack.body.length === 0) return;
    let holds: boolean;
    let direction: SdpDirection;
    try {
      // RFC 3261 §13.2.1: our 2xx carried the offer, the ACK the answer
      const m = session.takeAnswer(ack.body);
      holds = holdsBy(m);
      direction = m.direction;
    } catch (err) {
      this.log.info('dial-bad-answer', { channel: this.channel, leg: from, error: (err as Error).message });
      return;
    }
    if (holds === this.holding[from]) return;
    // a hold (or resume) by late offer: the other phone is offered it as if this one had
    this.holding[from] = holds;
    this.wants[OTHER[from]] = direction;
    this.log.info('dial-late-hold', { channel: this.channel, leg: from, holds, direction });
    this.passOn(from);
  }

  /** offers the other phone what `from` asks for now (wants), in a re-INVITE of Palisade's own; tried again until it goes */
  private passOn(from: Leg): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.closed) return;
    const to = OTHER[from];
    const session = this.sides[to].session;
    const direction = this.wants[to];
    const later = () => {
      this.retry = setTimeout(() => {
        this.retry = null;
        // a later change has been passed on (or is on its way) by then
        if (this.wants[to] === direction) this.passOn(from);
      }, RETRY_MS());
      this.retry.unref?.();
    };
    const sent = this.relay.reoffer(
      to,
      () => session.offer(direction),
      (answer, status) => {
        if (!answer) {
          session.offerRefused();
          this.log.info('dial-late-hold-refused', { channel: this.channel, leg: to, status });
          if (status === 491 || status === 0) later();
          return;
        }
        try {
          session.takeAnswer(answer);
        } catch (err) {
          this.log.info('dial-bad-answer', { channel: this.channel, leg: to, error: (err as Error).message });
        }
      },
    );
    if (!sent) later();
  }

  /** the bridge is over: media legs apart, our 2xx retransmissions stopped */
  close(): void {
    // once: a side's media leg may be in another bridge since (a transfer took it)
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.relay.close();
    this.sides.a.session.leg.unbridge();
    for (const leg of ['a', 'b'] as const) this.retransmits[leg]?.stop();
  }

  // BridgeSdp: how a description crosses

  offer(from: Leg, body: Buffer): Buffer {
    // throws MediaNegotiationError when nothing in it is usable: the relay answers 488
    const offer = negotiateOffer(body);
    this.pending = { from, offer };
    // the direction goes on as the phone said it, as the RTP relay passes it in direct calls
    return this.sides[OTHER[from]].session.offer(offer.media.direction);
  }

  answer(from: Leg, body: Buffer, status: number): Buffer | undefined {
    const p = this.pending;
    // only a 2xx answers here (no reliable provisional responses); after close() the legs are gone
    if (this.closed || !p || p.from !== from || status < 200 || status >= 300) return undefined;
    this.pending = null;
    let direction: SdpDirection | undefined;
    try {
      direction = this.sides[OTHER[from]].session.takeAnswer(body).direction;
    } catch (err) {
      this.log.info('dial-bad-answer', { channel: this.channel, leg: OTHER[from], error: (err as Error).message });
    }
    this.wants[OTHER[from]] = p.offer.media.direction;
    this.holding[from] = holdsBy(p.offer.media);
    return this.sides[from].session.answer(p.offer, direction);
  }

  refused(from: Leg): void {
    if (this.pending?.from !== from) return;
    this.pending = null;
    this.sides[OTHER[from]].session.offerRefused();
  }

  /**
   * An INVITE or UPDATE without an offer (a session refresh, RFC 4028)
   * concerns this leg alone and is answered here: a re-INVITE's 2xx carries
   * our offer, whose answer comes in the ACK (RFC 3261 §14.2); an UPDATE's
   * carries nothing.
   */
  private refresh(from: Leg, tx: ServerTxHandle, req: SipMessage): void {
    const { dialog, session } = this.sides[from];
    const body = req.method === 'INVITE' ? session.offer(this.wants[from]) : undefined;
    const res = buildResponse(req, 200, 'OK', { toTag: dialog.localTag, server: this.ua.userAgent, body, contentType: body ? 'application/sdp' : undefined });
    res.headers.push({ name: 'contact', value: dialog.localContact });
    tx.respond(res);
    if (req.method === 'INVITE')
      this.retransmitting(
        from,
        this.ua.retransmit2xx(res, dialog.remote, () => undefined),
      );
  }

  private retransmitting(to: Leg, r: { stop(): void }): void {
    this.retransmits[to]?.stop();
    this.retransmits[to] = r;
  }
}
