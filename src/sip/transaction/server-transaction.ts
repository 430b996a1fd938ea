// A server transaction (RFC 3261 §17.2): one object for both kinds; the
// behaviour lives in the state tables of invite-server-machine.ts and
// non-invite-server-machine.ts, which drive the primitives below.
import { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { TxContext } from './tx-context.js';
import { TransactionTimers } from './transaction-timers.js';
import { INVITE_SERVER_MACHINE } from './invite-server-machine.js';
import { NON_INVITE_SERVER_MACHINE } from './non-invite-server-machine.js';
import { isReliable } from './timer-values.js';

export type ServerState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/**
 * 'request' is a retransmission of the request, 'ack' a matching ACK; the
 * response classes come from the TU; 'trying' is the delayed automatic
 * 100 (Trying); G H I J L are the timers of Figures 7 and 8 and RFC 6026.
 */
export type ServerEvent = 'request' | 'ack' | '1xx' | '2xx' | '300-699' | 'trying' | 'G' | 'H' | 'I' | 'J' | 'L' | 'transportError';

export type ServerHandler = (tx: ServerTransaction, msg: SipMessage | undefined, remote: Remote | undefined) => void;
export type ServerEventTable = { readonly [E in ServerEvent]?: ServerHandler };
export type ServerMachine<S extends ServerState> = Readonly<Record<S, ServerEventTable>>;

/**
 * Why a server transaction ended: 'normal'; 'timeout' when Timer H fired
 * (the ACK for a 300-699 never came, §17.2.1 "MUST indicate to the TU that a
 * transaction failure has occurred"); 'transport-error' (§17.2.4).
 */
export type TerminationReason = 'normal' | 'timeout' | 'transport-error';

const RELEASED = new SipMessage();

export class ServerTransaction extends TransactionTimers<ServerEvent> {
  state: ServerState;
  readonly isInvite: boolean;
  readonly reliable: boolean;
  /** the last response passed to the transport */
  lastResponse: SipMessage | undefined = undefined;
  /** called once, the instant the transaction enters Terminated */
  onTerminated: ((reason: TerminationReason, tx: ServerTransaction) => void) | undefined = undefined;
  /** @internal current Timer G interval (ms) */
  interval: number;
  /** @internal RFC 2543 fallback matching (§17.2.3): the To tag of the final response, which an ACK must carry */
  legacyFinalToTag: string | undefined = undefined;
  /** @internal */ readonly legacy: boolean;
  /** the To tag of the final response, kept once an Accepted transaction let go of the response (a late CANCEL's 200 carries it, §9.2) */
  finalToTag: string | undefined = undefined;
  private lastBytes: Buffer | undefined = undefined;
  /** the last response's bytes as a one-byte string (latin1: one char per byte) once released */
  private lastText: string | undefined = undefined;
  private readonly machine: Readonly<Record<string, ServerEventTable>>;

  constructor(
    ctx: TxContext,
    /** matching key (§17.2.3); starts with '\x02' for RFC 2543 transactions */
    readonly key: string,
    /** the request; a completed non-INVITE transaction lets go of it (see release) */
    public request: SipMessage,
    /** where the request came from */
    readonly remote: Remote,
    /** where responses go (§18.2.2) */
    readonly responseRemote: Remote,
  ) {
    super(ctx, 'G', 'H');
    this.isInvite = request.method === 'INVITE';
    this.method = request.method;
    this.reliable = isReliable(remote.transport);
    this.machine = this.isInvite ? INVITE_SERVER_MACHINE : NON_INVITE_SERVER_MACHINE;
    this.state = this.isInvite ? 'proceeding' : 'trying';
    this.interval = ctx.t1;
    this.legacy = key.charCodeAt(0) === 2;
  }

  readonly method: string;

  /**
   * @internal A completed non-INVITE transaction only absorbs retransmissions
   * by resending bytes (§17.2.2); dropping the parsed request and response
   * keeps ~32 s of Timer J cheap at thousands of transactions a second.
   */
  release(): void {
    this.lastResponse = undefined;
    this.request = RELEASED;
    // The serialized response is a slice of Node's shared 8 KB buffer pool: held through Timer J it
    // keeps its whole slab alive (about 1.1 KB per REGISTER, with the 401 sent beside it). As a
    // string it costs its own length in the heap, which the GC compacts; latin1 maps the bytes 1:1,
    // so a retransmission sends exactly the same bytes.
    if (this.lastBytes !== undefined) {
      this.lastText = this.lastBytes.toString('latin1');
      this.lastBytes = undefined;
    }
  }

  /**
   * @internal An Accepted INVITE transaction (RFC 6026 §8.7) absorbs
   * retransmitted INVITEs and passes ACKs up for 64*T1; it never resends, so
   * it lets go of the request and the 2xx (and the 8 KB pool slab the
   * serialized 2xx is a slice of): at 1,000 calls a second that is 32,000
   * transactions holding a parsed INVITE each.
   */
  forget(): void {
    if (this.lastResponse !== undefined && this.lastResponse.status >= 200) this.finalToTag = this.lastResponse.to.params['tag'] ?? undefined;
    this.request = RELEASED;
    this.lastResponse = undefined;
    this.lastBytes = undefined;
    this.lastText = undefined;
  }

  /**
   * Pass a response from the TU to the transaction: it is sent and drives the
   * state machine. Returns false when the current state discards it (e.g. a
   * second final response, §17.2.2 "Any other final responses passed by the
   * TU to the server transaction MUST be discarded while in the "Completed"
   * state").
   */
  respond(msg: SipMessage): boolean {
    const s = msg.status;
    if (s < 100 || s > 699) throw new RangeError(`not a response status: ${s}`);
    const h = this.machine[this.state]![s < 200 ? '1xx' : s < 300 ? '2xx' : '300-699'];
    if (!h) return false;
    h(this, msg, undefined);
    if (s >= 200) this.ctx.serverFinal?.(this.method, s);
    return true;
  }

  /**
   * Answer with a final response and forget the transaction at once, as a
   * stateless UAS does (§8.2.7: "The stateless UAS role is needed primarily
   * to handle unauthenticated requests for which a challenge response is
   * issued. If unauthenticated requests were handled statefully, then
   * malicious floods ... could create massive amounts of transaction
   * state"). A retransmitted request then reaches the TU again, and an ACK
   * for it reaches TransactionUser.onAck. Returns false, sending nothing,
   * once a final response was sent.
   */
  respondStateless(msg: SipMessage): boolean {
    if (msg.status < 200 || msg.status > 699) throw new RangeError(`not a final status: ${msg.status}`);
    if (this.state !== 'trying' && this.state !== 'proceeding') return false;
    this.lastResponse = msg;
    this.ctx.sender.send(msg.toBuffer(), this.responseRemote, msg);
    this.ctx.serverFinal?.(this.method, msg.status);
    this.terminate('normal');
    return true;
  }

  /** the transport could not deliver a response to this transaction's remote (§17.2.4) */
  transportError(): void {
    this.dispatch('transportError', undefined, undefined);
  }

  /** @internal */
  timerFired(event: ServerEvent): void {
    this.dispatch(event, undefined, undefined);
  }

  /** @internal */
  dispatch(event: ServerEvent, msg: SipMessage | undefined, remote: Remote | undefined): void {
    const h = this.machine[this.state]![event];
    if (h) h(this, msg, remote);
  }

  // ---- primitives the state tables are written in ----

  /** @internal pass a response from the TU to the transport and remember it */
  send(msg: SipMessage): void {
    this.lastResponse = msg;
    this.lastBytes = msg.toBuffer();
    if (this.legacy && msg.status >= 200) this.legacyFinalToTag = msg.to.params['tag'] ?? undefined;
    this.ctx.sender.send(this.lastBytes, this.responseRemote, msg);
  }

  /** @internal pass the last response to the transport once more */
  resend(): void {
    const bytes = this.lastBytes ?? (this.lastText !== undefined ? Buffer.from(this.lastText, 'latin1') : undefined);
    if (bytes) this.ctx.sender.send(bytes, this.responseRemote, this.lastResponse);
  }

  /** @internal "The server transaction MUST be destroyed the instant it enters the "Terminated" state." */
  terminate(reason: TerminationReason): void {
    if (this.state === 'terminated') return;
    this.stopTimers();
    this.state = 'terminated';
    this.ctx.serverTerminated(this);
    this.onTerminated?.(reason, this);
  }
}
