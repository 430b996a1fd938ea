// Dial() from a channel: INVITEs to every contact of the target extensions
// at once (parallel forking done by Palisade as UAC, RFC 3261 §16.7 style),
// with Palisade's own SDP; the first 2xx wins, the other branches are
// cancelled (or ACKed and hung up if they answered too). The answered leg
// is a dialog the B2BUA routes back here (BYE from the callee).
import type { SipMessage } from '../sip/message/sip-message.js';
import { buildResponse } from '../sip/message/response.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import type { B2bua } from '../sip/b2bua/b2bua.js';
import { buildOutgoingInvite } from '../sip/b2bua/outgoing-invite.js';
import type { BindingInfo, ClientTxHandle, DialogOwner, ServerTxHandle } from '../sip/b2bua/types.js';
import type { DialStatus } from './channel.js';

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

interface Branch {
  target: DialBranchTarget;
  tx: ClientTxHandle;
  dialog: Dialog;
  final?: number;
  answered: boolean;
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

  constructor(
    private readonly ua: B2bua,
    readonly dialog: Dialog,
    readonly number: string,
  ) {
    this.ended = new Promise((r) => (this.endedResolve = r));
    ua.ownDialog(dialog.callId, dialog.localTag, this);
  }

  onRequest(tx: ServerTxHandle, req: SipMessage): void {
    const server = this.ua.cfg.userAgent;
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
    const bye = this.dialog.createRequest('BYE', { userAgent: this.ua.cfg.userAgent });
    this.ua.deps.tx.sendRequest(bye, this.dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
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

/** rings all branches; resolves with the first answer or the best failure */
export class OutboundDial {
  private branches: Branch[] = [];
  private settled = false;
  private timer?: NodeJS.Timeout;
  private resolve!: (o: DialOutcome) => void;
  readonly result: Promise<DialOutcome>;

  constructor(
    private readonly ua: B2bua,
    private readonly req: DialRequest,
  ) {
    this.result = new Promise((r) => (this.resolve = r));
    for (const t of req.targets) this.fork(t);
    if (req.timeoutMs > 0) this.timer = setTimeout(() => this.giveUp('NOANSWER'), req.timeoutMs);
  }

  /** the caller went away or the dialplan gave up: cancel every branch */
  cancel(): void {
    this.giveUp('CANCEL');
  }

  private giveUp(status: DialStatus): void {
    if (this.settled) return;
    for (const b of this.branches) if (b.final === undefined) b.tx.cancel();
    this.settle({ status });
  }

  private settle(o: DialOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(o);
  }

  private fork(target: DialBranchTarget): void {
    const ua = this.ua;
    const { binding } = target;
    const { req: m, dialog } = buildOutgoingInvite(ua, {
      binding,
      callerNumber: this.req.callerNumber,
      callerName: this.req.callerName,
      calleeNumber: target.number,
      maxForwards: 70,
      offer: this.req.offer,
    });
    const branch: Branch = { target, dialog, tx: undefined as unknown as ClientTxHandle, answered: false };
    this.branches.push(branch);
    branch.tx = ua.deps.tx.sendRequest(m, binding.remote, {
      onResponse: (res) => this.onResponse(branch, res),
      onTimeout: () => this.onFinal(branch, 408),
    });
  }

  private onResponse(b: Branch, res: SipMessage): void {
    const status = res.status;
    if (status < 200) {
      if (status > 100 && !this.settled) this.req.onRinging?.();
      return;
    }
    if (status >= 300) return this.onFinal(b, status);
    const d = b.dialog;
    if (b.answered) {
      // RFC 3261 §13.2.2.4: a retransmitted 2xx: our ACK was lost
      this.ack(d);
      return;
    }
    b.answered = true;
    b.final = status;
    d.remoteTag = res.to.params.tag ?? '';
    const c = res.contacts[0];
    if (c) d.remoteTarget = c.uri.raw;
    d.routeSet = res.getAll('record-route').reverse(); // RFC 3261 §12.1.2
    this.ack(d);
    if (this.settled) {
      // lost the race (or cancelled): end this one at once
      const bye = d.createRequest('BYE', { userAgent: this.ua.cfg.userAgent });
      this.ua.deps.tx.sendRequest(bye, d.remote, { onResponse: () => undefined, onTimeout: () => undefined });
      return;
    }
    for (const o of this.branches) if (o !== b && o.final === undefined) o.tx.cancel();
    const leg = new AnsweredLeg(this.ua, d, b.target.number);
    this.settle({ status: 'ANSWER', leg, answerSdp: res.body.length ? res.body : undefined });
  }

  private onFinal(b: Branch, status: number): void {
    if (b.final !== undefined) return;
    b.final = status;
    if (this.settled) return;
    if (status >= 600) {
      for (const o of this.branches) if (o !== b && o.final === undefined) o.tx.cancel();
      return this.settle({ status: status === 600 ? 'BUSY' : 'CONGESTION' });
    }
    if (this.branches.every((x) => x.final !== undefined)) {
      const codes = this.branches.map((x) => x.final!);
      const s: DialStatus = codes.includes(486)
        ? 'BUSY'
        : codes.some((c) => c >= 500)
          ? 'CONGESTION'
          : codes.every((c) => c === 408 || c === 480 || c === 487)
            ? 'NOANSWER'
            : 'CHANUNAVAIL';
      this.settle({ status: s });
    }
  }

  private ack(d: Dialog): void {
    const ack = d.createRequest('ACK', { cseq: 1 });
    this.ua.deps.tx.sendStateless(ack, d.remote);
  }
}
