// Parallel forking of one outgoing call, done by Palisade as UAC (RFC 3261
// §16.7 style): the same INVITE goes to every contact at once; the first
// 2xx wins and the other branches are cancelled (one that answers too is
// ACKed and sent BYE); a 6xx ends the search; when every branch failed, the
// best final response is chosen. The one routine for the B2BUA's direct
// calls (call.ts) and a channel's Dial() (src/channel/sip-dial.ts).
import type { SipMessage } from '../../sip-message/sip-message.js';
import { Dialog, newToken } from '../dialog/dialog.js';
import { buildOutgoingInvite, type InviteParams } from './outgoing-invite.js';
import type { ForkHost } from './leg-host.js';
import type { BindingInfo, ClientTxHandle } from './types.js';

/** one contact rung */
export interface ForkBranch {
  readonly binding: BindingInfo;
  /** the UAC dialog; remote tag, target and route set are filled in by its 2xx */
  readonly dialog: Dialog;
  readonly callId: string;
  readonly fromTag: string;
  /** the final status it gave (408 when its transaction timed out) */
  readonly final?: number;
}

export interface ForkEvents {
  /** a provisional response (not 100) while no branch has won */
  onProvisional?(branch: ForkBranch, res: SipMessage): void;
  /**
   * The first 2xx: the other branches are being cancelled. The caller ACKs
   * it with ack(), at once or, for an offer-less INVITE, once it has the answer.
   */
  onAnswered(branch: ForkBranch, res: SipMessage): void;
  /** a 6xx, or every branch failed: `status` is the response to pass on, `codes` what each branch said */
  onFailed(status: number, codes: number[]): void;
}

/** a branch in an early dialog (RFC 3261 §12.1: a 1xx with a To tag) */
export interface EarlyBranch {
  readonly branch: ForkBranch;
  /** the phone's To tag */
  readonly phoneTag: string;
  /** a stand-in for our From tag, what busy lamps publish (src/core/call-events.ts, EarlyDialog) */
  readonly pickupTag: string;
}

interface Branch extends ForkBranch {
  final?: number;
  /** its early dialog, from the first 1xx with a To tag */
  early?: { phoneTag: string; pickupTag: string };
  tx: ClientTxHandle;
  /** the ACK sent for its 2xx, resent when the 2xx is (RFC 3261 §13.2.2.4) */
  acked?: { body: Buffer | undefined };
}

const DETACHED: ForkEvents = { onAnswered: () => undefined, onFailed: () => undefined };

export class InviteFork {
  private readonly branches: Branch[] = [];
  private done = false;

  constructor(
    private readonly host: ForkHost,
    private invite: InviteParams,
    private events: ForkEvents,
  ) {}

  /**
   * The call is over: its INVITE client transactions stay Accepted for
   * 64*T1 (RFC 6026) and keep this fork to re-ACK a retransmitted 2xx or
   * end a late fork's dialog, but no longer the call (its events, the offer):
   * at 1,000 calls a second that is 32 s of ended calls kept in memory.
   */
  detach(): void {
    // a branch that answers from now on is ACKed and ended (onSuccess, done)
    this.done = true;
    this.events = DETACHED;
    this.invite = { ...this.invite, offer: Buffer.alloc(0) };
  }

  /** a branch has won, the search failed, or it was cancelled */
  get settled(): boolean {
    return this.done;
  }

  /** send the INVITE to one more contact (of `calleeNumber`, by default the one the fork was made for) */
  ring(binding: BindingInfo, calleeNumber = this.invite.calleeNumber): ForkBranch {
    const { req, dialog, callId, fromTag } = buildOutgoingInvite(this.host, { ...this.invite, calleeNumber, binding });
    const branch: Branch = { binding, dialog, callId, fromTag, tx: { cancel: () => undefined } };
    this.branches.push(branch);
    branch.tx = this.host.sendRequest(req, binding.remote, {
      onResponse: (res) => this.onResponse(branch, res),
      onTimeout: () => this.onFinal(branch, 408),
    });
    return branch;
  }

  /** the branches ringing now in an early dialog (unanswered, not failed), while no branch has won */
  earlyDialogs(): EarlyBranch[] {
    if (this.done) return [];
    const out: EarlyBranch[] = [];
    for (const b of this.branches) if (b.early && b.final === undefined) out.push({ branch: b, ...b.early });
    return out;
  }

  /** ACK the 2xx of `branch` (RFC 3261 §13.2.2.4); `body` is the answer to an offer that 2xx carried */
  ack(branch: ForkBranch, body?: Buffer): void {
    const b = branch as Branch;
    b.acked = { body };
    this.sendAck(b.dialog, body);
  }

  /** stop the search: CANCEL every branch still ringing; a 2xx that comes later is ACKed and ended */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.cancelOthers(null);
  }

  private onResponse(b: Branch, res: SipMessage): void {
    const status = res.status;
    if (status < 200) {
      const tag = res.to.params.tag;
      if (status > 100 && tag && !b.early) b.early = { phoneTag: tag, pickupTag: newToken() };
      if (status > 100 && !this.done) this.events.onProvisional?.(b, res);
      return;
    }
    if (status < 300) return this.onSuccess(b, res);
    this.onFinal(b, status);
  }

  private onSuccess(b: Branch, res: SipMessage): void {
    const d = b.dialog;
    const tag = res.to.params.tag ?? '';
    if (b.final !== undefined && b.final < 300) {
      if (tag === d.remoteTag) {
        // a retransmitted 2xx: our ACK was lost; ACK again (not before we sent one)
        if (b.acked) this.sendAck(d, b.acked.body);
      } else {
        // a second dialog from further down (a forking proxy behind the callee): ACK and end it
        const extra = new Dialog({ ...d, remoteTag: tag, remoteTarget: res.contacts[0]?.uri.raw ?? d.remoteTarget });
        this.sendAck(extra, undefined);
        this.sendBye(extra);
      }
      return;
    }
    d.remoteTag = tag;
    const contact = res.contacts[0];
    if (contact) d.remoteTarget = contact.uri.raw;
    // RFC 3261 §12.1.2: UAC route set = Record-Route of the response, reversed
    d.routeSet = res.getAll('record-route').reverse();
    b.final = res.status;
    if (this.done) {
      // another branch won, or the search was given up: end this one at once
      this.ack(b);
      this.sendBye(d);
      return;
    }
    this.done = true;
    this.cancelOthers(b);
    this.events.onAnswered(b, res);
  }

  private onFinal(b: Branch, status: number): void {
    if (b.final !== undefined) return;
    b.final = status;
    if (this.done) return;
    if (status >= 600) {
      // RFC 3261 §16.7: a 6xx ends the search; cancel the other branches
      this.done = true;
      this.cancelOthers(b);
      return this.events.onFailed(status, this.codes());
    }
    if (this.branches.every((x) => x.final !== undefined)) {
      this.done = true;
      this.events.onFailed(bestFailure(this.codes()), this.codes());
    }
  }

  private codes(): number[] {
    return this.branches.map((b) => b.final ?? 408);
  }

  private cancelOthers(keep: Branch | null): void {
    for (const b of this.branches) if (b !== keep && b.final === undefined) b.tx.cancel();
  }

  private sendAck(d: Dialog, body: Buffer | undefined): void {
    this.host.sendStateless(d.createRequest('ACK', { cseq: 1, body }), d.remote);
  }

  private sendBye(d: Dialog): void {
    const bye = d.createRequest('BYE', { userAgent: this.host.userAgent });
    this.host.sendRequest(bye, d.remote, { onResponse: () => undefined, onTimeout: () => undefined });
  }
}

/** RFC 3261 §16.7 step 6, as Palisade reads it: busy first, then a 6xx, then a real 4xx, then 480 for "nobody answered" */
export function bestFailure(codes: number[]): number {
  if (codes.includes(486)) return 486;
  if (codes.includes(600)) return 600;
  const fourxx = codes.filter((c) => c >= 400 && c < 500 && c !== 408 && c !== 487);
  if (fourxx.length) return fourxx[0]!;
  if (codes.every((c) => c === 408 || c === 487 || c === 480)) return 480;
  return codes.find((c) => c >= 500) ?? 480;
}
