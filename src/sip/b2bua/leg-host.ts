// What the B2BUA offers the code that drives SIP legs of its own — the
// forking routine (fork.ts), the INVITEs it sends (outgoing-invite.ts) and
// the SIP channel driver (src/channel/) — so that none of them reaches into
// its configuration or its dependencies. B2bua implements it.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Dialog } from '../dialog/dialog.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import type { Diversion } from '../../core/call-diversion.js';
import type { BindingInfo, CallAttempt, CallTicket, ServerTxHandle, CdrRecord, ClientTxHandle, ClientTxHandlers, DialogOwner, ExtensionInfo, GateDecision } from './types.js';
import type { ReplacesId } from './refer.js';
import type { EarlyDialog } from '../../core/call-events.js';

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

/**
 * The other party of a direct call whose dialog with a transferor a
 * Replaces names (RFC 3891 §3): what an attended transfer on a channel
 * needs to take that party into its own bridge.
 */
export interface ReplacedParty {
  /** our dialog with the party that stays (for the re-INVITE that moves its media) */
  readonly dialog: Dialog;
  readonly party: ExtensionInfo;
  /** the call is still up */
  readonly live: boolean;
  /**
   * The party's media moved (its re-INVITE answered): the call ends with
   * BYE to the transferor only, its dialog with the party is no longer the
   * call's, and the gate's ticket goes to the caller.
   */
  release(how: string): CallTicket | undefined;
}

/** the caller's unanswered INVITE of a direct call, handed over to be answered elsewhere (pickup) */
export interface TakenCaller {
  tx: ServerTxHandle;
  req: SipMessage;
  remote: Remote;
  caller: ExtensionInfo;
  dialled: string;
  ticket?: CallTicket;
}

/** a direct call whose callee's phones ring now: another extension may pick it up */
export interface DirectRinging {
  readonly caller: ExtensionInfo;
  /** the extension rung now (after an unconditional forward, its target) */
  readonly callee: string;
  readonly since: number;
  /** the callee's phones ringing in early dialogs now (a pickup's Replaces names one) */
  early(): EarlyDialog[];
  /** stop ringing the callee (CANCEL) and hand over the caller's INVITE; null when it rings no more */
  take(by: string): TakenCaller | null;
}

/** a direct call's two parties, handed to a transfer service (parking) by a blind REFER to its number */
export interface DirectHandOver {
  /** the service's number (the parking lot's 700) */
  readonly number: string;
  readonly transferee: { readonly dialog: Dialog; readonly party: ExtensionInfo; readonly name: string };
  readonly transferor: { readonly dialog: Dialog; readonly party: ExtensionInfo };
  /** both dialogs are the taker's now: the call ends without BYE (its CDR says `how`); the gate's ticket comes along */
  release(how: string): CallTicket | undefined;
}

/** a direct call whose transferor sent a blind REFER to an outside number (no extension, no service) */
export interface DirectOutside extends DirectHandOver {
  /** the direct call's id (the CDR of the segment the transfer makes starts with it) */
  readonly id: string;
  /** the direct call is still up */
  readonly live: boolean;
}

/** the services a direct call may be handed to (the channel layer installs them: SipLegHost.directServices) */
export interface DirectServices {
  takes(number: string, context: string): boolean;
  /**
   * A blind transfer to an outside number: the call out through the
   * transferor's outbound routes (the call gate let it through as the
   * transferor's call: `ticket`, which this now owns). Null when no route
   * takes the number (nothing was sent). Otherwise `done` resolves with the
   * sipfrag status of the end: 200 once the outside party answered and the
   * transferee's media moved to Palisade (re-INVITE), joined with it —
   * `joined` is told first, the transferor gets BYE after. `cancel` gives
   * the outside call up while it rings (the direct call ended).
   */
  outside?(h: DirectOutside, ticket: CallTicket | undefined, ringing: () => void, joined: () => void): { done: Promise<number>; cancel(): void } | null;
  /**
   * Moves both parties' media to Palisade and hands the transferee to the
   * service; `announced` is called when the transferor may be let go (it
   * gets BYE after). Resolves false when the service could not take it.
   */
  hand(h: DirectHandOver, announced: () => void): Promise<boolean>;
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
  /** a direct call's party that a Replaces names, when `transferor` (if given) is the other party of that dialog */
  replacedParty?(r: ReplacesId, transferor?: string): ReplacedParty | undefined;
  /** the direct calls ringing now (pickup) */
  ringingDirect?(): DirectRinging[];
  /** where a direct call's blind REFER to a service number goes (set by the channel layer) */
  directServices?: DirectServices;
}
