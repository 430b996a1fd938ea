// Dial() from a channel: INVITEs to every contact of the target extensions
// at once, with Palisade's own SDP, through the B2BUA's forking routine
// (src/sip/b2bua/fork.ts): the first 2xx wins, the other branches are
// cancelled (or ACKed and hung up if they answered too). The answered leg
// is a dialog the B2BUA routes back here (BYE from the callee).
import type { SipMessage } from '../sip-message/sip-message.js';
import { buildResponse } from '../sip-message/response.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import { InviteFork, type ForkBranch } from '../sip/b2bua/fork.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { BindingInfo, DialogOwner, ServerTxHandle } from '../sip/b2bua/types.js';
import type { DialStatus } from './channel.js';
import type { EarlyDialog } from '../core/call-events.js';

export interface DialBranchTarget {
  number: string;
  binding: BindingInfo;
}

export interface DialOutcome {
  status: DialStatus;
  /** the answered leg */
  leg?: AnsweredLeg;
  answerSdp?: Buffer;
}

/** what a bridge the leg is in does with its phone's requests (src/channel/dial-bridge.ts) */
export interface LegBridge {
  /** true when the bridge took the request (re-INVITE, UPDATE) */
  inDialog(tx: ServerTxHandle, req: SipMessage): boolean;
  onAck(ack: SipMessage): void;
}

/** an answered outgoing leg: ends on the callee's BYE or our hangup() */
export class AnsweredLeg implements DialogOwner {
  private endedResolve!: () => void;
  readonly ended: Promise<void>;
  private done = false;
  onInfo: ((req: SipMessage) => void) | null = null;
  bridge: LegBridge | null = null;
  /** a REFER from the callee (a transfer); declined with 603 when unset */
  onRefer: ((tx: ServerTxHandle, req: SipMessage) => void) | null = null;

  constructor(
    private readonly ua: SipLegHost,
    readonly dialog: Dialog,
    readonly number: string,
  ) {
    this.ended = new Promise((r) => (this.endedResolve = r));
    ua.ownDialog(dialog.callId, dialog.localTag, this);
  }

  onRequest(tx: ServerTxHandle, req: SipMessage): void {
    const server = this.ua.userAgent;
    if (req.cseq.seq <= this.dialog.remoteCseq) {
      tx.respond(buildResponse(req, 500, 'Server Internal Error', { server, headers: [['retry-after', '1']] }));
      return;
    }
    this.dialog.remoteCseq = req.cseq.seq;
    const contact = req.method === 'INVITE' || req.method === 'UPDATE' ? req.contacts[0] : undefined;
    if (contact) this.dialog.remoteTarget = contact.uri.raw; // target refresh (RFC 3261 §12.2.2)
    if (req.method === 'BYE') {
      tx.respond(buildResponse(req, 200, 'OK', { server }));
      this.finish();
      return;
    }
    if (this.bridge?.inDialog(tx, req)) return;
    if (req.method === 'REFER') {
      if (this.onRefer) return this.onRefer(tx, req);
      tx.respond(buildResponse(req, 603, 'Decline', { server }));
      return;
    }
    if (req.method === 'INFO') this.onInfo?.(req);
    if (req.method === 'INVITE' || req.method === 'UPDATE') {
      // not (or no longer) bridged: nothing to carry a new session to
      tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
      return;
    }
    tx.respond(buildResponse(req, 200, 'OK', { server }));
  }

  onAck(ack: SipMessage): void {
    this.bridge?.onAck(ack);
  }

  onCancel(): void {}

  hangup(): void {
    if (this.done) return;
    this.ua.sendInDialog(this.dialog, 'BYE');
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.ua.releaseDialog(this.dialog.callId, this.dialog.localTag);
    this.endedResolve();
  }
}

export interface DialRequest {
  targets: DialBranchTarget[];
  offer: Buffer;
  callerNumber: string;
  callerName: string;
  timeoutMs: number;
  /** a 180/183 arrived on some branch */
  onRinging?: () => void;
}

/** Asterisk's DIALSTATUS for a search that failed: `status` the best final response, `codes` what each contact said */
function dialStatus(status: number, codes: number[]): DialStatus {
  if (status >= 600) return status === 600 ? 'BUSY' : 'CONGESTION';
  if (codes.includes(486)) return 'BUSY';
  if (codes.some((c) => c >= 500)) return 'CONGESTION';
  return codes.every((c) => c === 408 || c === 480 || c === 487) ? 'NOANSWER' : 'CHANUNAVAIL';
}

/** rings all branches; resolves with the first answer or the best failure */
export class OutboundDial {
  private readonly fork: InviteFork;
  private settled = false;
  private timer?: NodeJS.Timeout;
  private resolve!: (o: DialOutcome) => void;
  readonly result: Promise<DialOutcome>;
  /** the SIP Call-ID of each branch (one per contact rung) */
  readonly callIds: string[] = [];
  /** the extension each branch rings */
  private readonly numbers = new Map<ForkBranch, string>();

  constructor(
    private readonly ua: SipLegHost,
    req: DialRequest,
  ) {
    this.result = new Promise((r) => (this.resolve = r));
    // each branch is one contact of an extension; a Dial() may name several extensions
    const numbers = this.numbers;
    this.fork = new InviteFork(
      ua,
      { callerNumber: req.callerNumber, callerName: req.callerName, calleeNumber: '', maxForwards: 70, offer: req.offer },
      {
        onProvisional: () => req.onRinging?.(),
        onAnswered: (b, res) => {
          this.fork.ack(b);
          const leg = new AnsweredLeg(this.ua, b.dialog, numbers.get(b) ?? '');
          this.settle({ status: 'ANSWER', leg, answerSdp: res.body.length ? res.body : undefined });
        },
        onFailed: (status, codes) => this.settle({ status: dialStatus(status, codes) }),
      },
    );
    for (const t of req.targets) {
      const b = this.fork.ring(t.binding, t.number);
      numbers.set(b, t.number);
      this.callIds.push(b.callId);
    }
    if (req.timeoutMs > 0) this.timer = setTimeout(() => this.giveUp('NOANSWER'), req.timeoutMs);
  }

  /** the phones ringing now in early dialogs (none once settled) */
  earlyDialogs(): EarlyDialog[] {
    if (this.settled) return [];
    return this.fork.earlyDialogs().map((e) => ({ extension: this.numbers.get(e.branch) ?? '', callId: e.branch.callId, phoneTag: e.phoneTag, pickupTag: e.pickupTag }));
  }

  /** the caller went away or the dialplan gave up: cancel every branch */
  cancel(): void {
    this.giveUp('CANCEL');
  }

  private giveUp(status: DialStatus): void {
    if (this.settled) return;
    this.fork.cancel();
    this.settle({ status });
  }

  private settle(o: DialOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // the branches' transactions stay Accepted for 32 s (RFC 6026): they keep the fork, not this Dial() and its channel
    this.fork.detach();
    this.resolve(o);
  }
}
