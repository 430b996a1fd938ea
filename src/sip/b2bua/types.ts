// What the B2BUA needs from the layers around it, as small interfaces, so it
// can be wired in main.ts and driven in tests.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { ReplacesId } from './refer.js';
import type { CdrInput } from '../../core/cdr.js';
import type { AuthVerifier } from '../../core/auth.js';
import type { CallAttempt, CallGateApi, CallTicket, GateDecision } from '../../core/call-gate.js';
import type { BindingInfo, ExtensionInfo } from '../../core/directory.js';

// The ports the B2BUA shares with other layers live in core/ (docs/architecture.md,
// Layers); re-exported here for the SIP code and the channels that name them.
export type { BindingInfo, CallAttempt, CallGateApi, CallTicket, ExtensionInfo, GateDecision };
/** a call attempt's record as the B2BUA hands it to storage (the Asterisk CDR field set) */
export type CdrRecord = CdrInput;
export type AuthApi = AuthVerifier;

import type { CallQuality } from '../../media/quality/call-quality.js';

export interface ServerTxHandle {
  respond(res: SipMessage): void;
  /**
   * a final answer that keeps no transaction state (RFC 3261 §8.2.7): for
   * challenges, so guessing and floods cost no memory
   */
  respondStateless(res: SipMessage): void;
}

export interface ClientTxHandlers {
  onResponse(res: SipMessage): void;
  onTimeout(): void;
}

export interface ClientTxHandle {
  /** RFC 3261 §9.1: CANCEL a pending INVITE (sent once a provisional arrived) */
  cancel(): void;
}

/** the transaction layer as the B2BUA uses it */
export interface TxApi {
  /** the transaction layer puts its own top Via (fresh branch) on the request (RFC 3261 §8.1.1.7) */
  sendRequest(req: SipMessage, remote: Remote, h: ClientTxHandlers): ClientTxHandle;
  /** ACK for a 2xx and other stateless sends, given a fresh top Via on the way out */
  sendStateless(req: SipMessage, remote: Remote): void;
  /** RFC 3261 §13.3.1.4: resend a 2xx until the ACK comes; onGiveUp after 64*T1 */
  retransmit2xx(res: SipMessage, remote: Remote, onGiveUp: () => void): { stop(): void };
}

export interface RelayHandle {
  /**
   * an SDP sent by party `from`: note where it wants media, and return the SDP
   * to pass to the other party, pointing at the relay (throws on bad SDP)
   */
  offerAnswer(from: 'a' | 'b', body: Buffer): Buffer;
  /** called when no media flowed for the configured time */
  onInactive(fn: () => void): void;
  describe(): string;
  close(): void;
  /** the call was answered: start the one-way-audio watch (src/media/quality) */
  answered?(): void;
  /** the media quality measured so far, null when not measured */
  quality?(): CallQuality | null;
}

export interface MediaApi {
  /** a relay with two ports per leg; throws when the port range is exhausted. `call` names it in logs */
  createRelay(call?: string): RelayHandle;
}

/**
 * Something other than a bridged Call that owns a dialog: a channel the
 * dialplan drives (src/channel/), or one of its outgoing legs.
 */
export interface DialogOwner {
  /** an in-dialog request (BYE, INFO, re-INVITE...) */
  onRequest(tx: ServerTxHandle, req: SipMessage): void;
  /** the ACK for a 2xx we sent */
  onAck(req: SipMessage): void;
  /** CANCEL of the INVITE that created it, before it was answered */
  onCancel(): void;
}

/**
 * The dialplan's say in routing (wired in main.ts): when `routes` is true,
 * the INVITE goes to `accept` (a channel factory) instead of straight to
 * the dialled extension's phones.
 */
export interface DialplanRouting {
  routes(caller: ExtensionInfo, dialled: string): boolean;
  /** `ticket`: the call gate's hold on this call, released when the channel ends */
  accept(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, dialled: string, ticket?: CallTicket): void;
  /**
   * An INVITE with Replaces (RFC 3891): the caller's phone takes the place
   * of the named dialog's party. False (nothing answered) when no dialog
   * Palisade can replace matches: the B2BUA answers 481.
   */
  replacing?(tx: ServerTxHandle, req: SipMessage, remote: Remote, caller: ExtensionInfo, r: ReplacesId, ticket?: CallTicket): boolean;
}
