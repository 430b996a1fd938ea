// What the B2BUA offers the code that drives SIP legs of its own — the
// forking routine (fork.ts), the INVITEs it sends (outgoing-invite.ts) and
// the SIP channel driver (src/channel/) — so that none of them reaches into
// its configuration or its dependencies. B2bua implements it.
import type { SipMessage } from '../message/sip-message.js';
import type { Dialog } from '../dialog/dialog.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import type { Diversion } from '../../core/call-diversion.js';
import type { BindingInfo, CallAttempt, CdrRecord, ClientTxHandle, ClientTxHandlers, DialogOwner, ExtensionInfo, GateDecision } from './types.js';

/** what building an outgoing INVITE needs (outgoing-invite.ts) */
export interface InviteHost {
  /** the Server / User-Agent header value */
  readonly userAgent: string;
  /** our SIP domain: the host of the From and To URIs we write */
  readonly domain: string;
  /** the Allow header value */
  readonly allow: string;
  /** our Contact for a dialog with `remote` (a SIPS URI when asked and the hop is TLS) */
  contactFor(remote: Remote, user: string, sips?: boolean): string;
  /** the local address that reaches `remote` */
  localFor(remote: Remote): ListenPoint;
}

/** what forking an INVITE needs (fork.ts) */
export interface ForkHost extends InviteHost {
  /** a request in a client transaction; the transaction layer adds the top Via */
  sendRequest(req: SipMessage, remote: Remote, h: ClientTxHandlers): ClientTxHandle;
  /** an ACK for a 2xx (no transaction, RFC 3261 §17.1.1.3) */
  sendStateless(req: SipMessage, remote: Remote): void;
}

/** everything a SIP channel driver needs from the SIP layer */
export interface SipLegHost extends ForkHost {
  /** RFC 3261 §13.3.1.4: resend a 2xx until the ACK comes; onGiveUp after 64*T1 */
  retransmit2xx(res: SipMessage, remote: Remote, onGiveUp: () => void): { stop(): void };
  /** a request in `dialog` whose answer nobody waits for (BYE, a relayed INFO) */
  sendInDialog(dialog: Dialog, method: string, opts?: { body?: Buffer; contentType?: string }): void;
  /** in-dialog requests and ACKs with Call-ID + our tag go to `owner` */
  ownDialog(callId: string, localTag: string, owner: DialogOwner): void;
  /** the CANCEL of an unanswered INVITE (Call-ID + the caller's From tag) goes to `owner` */
  ownInvite(callId: string, fromTag: string, owner: DialogOwner): void;
  releaseDialog(callId: string, tag: string): void;
  /** one of our extensions, by number */
  extension(number: string): ExtensionInfo | undefined;
  /** where an extension's phones are registered */
  contacts(aor: string): BindingInfo[];
  /** a call's record, to the store the B2BUA's own calls go to */
  writeCdr(rec: CdrRecord): void;
  /** the call gate's decision on a call a channel places for an extension (a transfer); undefined without a gate */
  gateCheck?(a: CallAttempt): GateDecision | undefined;
  /** an extension's do-not-disturb and forwarding (src/core/call-diversion.ts) */
  diversionOf?(extension: string): Diversion | undefined;
}
