// A client transaction (RFC 3261 §17.1): one object for both kinds; the
// behaviour lives in the state tables of invite-client-machine.ts and
// non-invite-client-machine.ts, which drive the primitives below.
import { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote } from '../../transport/types.js';
import type { TxContext } from './tx-context.js';
import { TransactionTimers } from './transaction-timers.js';
import { INVITE_CLIENT_MACHINE, startInviteClient } from './invite-client-machine.js';
import { NON_INVITE_CLIENT_MACHINE, startNonInviteClient } from './non-invite-client-machine.js';
import { buildNon2xxAck } from './request-builders.js';
import { isReliable } from './timer-values.js';

export type ClientState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/** response classes and the timers of Figures 5 and 6 (RFC 6026 adds M) */
export type ClientEvent = '1xx' | '2xx' | '300-699' | 'A' | 'B' | 'D' | 'M' | 'E' | 'F' | 'K' | 'transportError';

export type ClientHandler = (tx: ClientTransaction, msg: SipMessage | undefined) => void;
export type ClientEventTable = { readonly [E in ClientEvent]?: ClientHandler };
export type ClientMachine<S extends ClientState> = Readonly<Record<S, ClientEventTable>>;

/** How the TU hears about its request. */
export interface ClientTransactionHandlers {
  /**
   * Every response the transaction passes up: provisional, the final, and —
   * for INVITE, while Accepted (RFC 6026) — every 2xx, including
   * retransmissions and 2xx from other forks. The dialog layer tells those
   * apart by To tag and re-sends its ACK for a retransmission.
   */
  onResponse(msg: SipMessage, tx: ClientTransaction): void;
  /** Timer B / F fired, or no final response 64*T1 after a CANCEL (§9.1) */
  onTimeout(tx: ClientTransaction): void;
  /** the transport reported it could not deliver the request (§17.1.4) */
  onTransportError(tx: ClientTransaction): void;
}

const RELEASED_REQUEST = new SipMessage();
const EMPTY = Buffer.alloc(0);

export class ClientTransaction extends TransactionTimers<ClientEvent> {
  state: ClientState;
  readonly isInvite: boolean;
  readonly reliable: boolean;
  /** @internal current retransmission interval of A / E (ms) */
  interval: number;
  /** @internal */ cancelRequested = false;
  /** @internal */ cancelSent = false;
  /** @internal handlers for the CANCEL's own transaction */
  cancelHandlers: ClientTransactionHandlers | undefined = undefined;
  private ackBytes: Buffer | undefined = undefined;
  private ack: SipMessage | undefined = undefined;
  private readonly machine: Readonly<Record<string, ClientEventTable>>;
  readonly method: string;

  constructor(
    ctx: TxContext,
    /** branch of the top Via + '\x01' + method (§17.1.3) */
    readonly key: string,
    readonly branch: string,
    /** the request as passed to the transport (with our Via on top); an Accepted INVITE lets go of it (forget) */
    public request: SipMessage,
    private bytes: Buffer,
    readonly remote: Remote,
    readonly handlers: ClientTransactionHandlers,
  ) {
    super(ctx, 'A', 'B');
    this.method = request.method;
    this.isInvite = request.method === 'INVITE';
    this.reliable = isReliable(remote.transport);
    this.machine = this.isInvite ? INVITE_CLIENT_MACHINE : NON_INVITE_CLIENT_MACHINE;
    this.state = this.isInvite ? 'calling' : 'trying';
    this.interval = ctx.t1;
  }

  /** @internal enter the initial state: send the request and arm the timers */
  start(): void {
    if (this.isInvite) startInviteClient(this);
    else startNonInviteClient(this);
  }

  /**
   * @internal An Accepted INVITE client transaction (RFC 6026 §8.4) only
   * passes 2xx responses up for 64*T1; it never sends again, so it lets go
   * of the request and its bytes (a slice of an 8 KB pool slab).
   */
  forget(): void {
    this.request = RELEASED_REQUEST;
    this.bytes = EMPTY;
  }

  /**
   * Cancel this INVITE (§9.1). Sent at once when a provisional response has
   * arrived; held until one does while still Calling; dropped when a final
   * response has arrived. A no-op for non-INVITE (the RFC says CANCEL
   * "SHOULD NOT be sent to cancel a request other than INVITE").
   */
  cancel(handlers?: ClientTransactionHandlers): void {
    if (!this.isInvite || this.cancelRequested) return;
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    this.cancelRequested = true;
    this.cancelHandlers = handlers;
    // "If no provisional response has been received, the CANCEL request MUST
    // NOT be sent; rather, the client MUST wait for the arrival of a
    // provisional response before sending the request." (§9.1)
    if (this.state === 'proceeding') this.ctx.sendCancel(this);
  }

  /** the transport could not deliver to this transaction's remote (§17.1.4) */
  transportError(): void {
    this.dispatch('transportError', undefined);
  }

  /** @internal a response matched this transaction (§17.1.3) */
  receiveResponse(msg: SipMessage): void {
    const s = msg.status;
    if (s < 100 || s > 699) return;
    this.dispatch(s < 200 ? '1xx' : s < 300 ? '2xx' : '300-699', msg);
  }

  /** @internal */
  timerFired(event: ClientEvent): void {
    this.dispatch(event, undefined);
  }

  /** @internal */
  dispatch(event: ClientEvent, msg: SipMessage | undefined): void {
    const h = this.machine[this.state]![event];
    if (h) h(this, msg);
  }

  // ---- primitives the state tables are written in ----

  /** @internal pass the request (again) to the transport */
  transmit(): void {
    this.ctx.sender.send(this.bytes, this.remote, this.request);
  }

  /** @internal pass a response up to the TU */
  deliver(msg: SipMessage): void {
    this.handlers.onResponse(msg, this);
  }

  /** @internal send (or re-send) the ACK for a 300-699 response (§17.1.1.3) */
  sendAck(response: SipMessage): void {
    // "The ACK MUST be sent to the same address, port, and transport to which
    // the original request was sent." (§17.1.1.2) Every retransmission of the
    // final response carries the same To tag, so the first ACK is reused.
    if (!this.ackBytes) {
      this.ack = buildNon2xxAck(this.request, response);
      this.ackBytes = this.ack.toBuffer();
    }
    this.ctx.sender.send(this.ackBytes, this.remote, this.ack);
  }

  /** @internal "The client transaction MUST be destroyed the instant it enters the Terminated state." */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.stopTimers();
    this.state = 'terminated';
    this.ctx.clientTerminated(this);
  }
}
