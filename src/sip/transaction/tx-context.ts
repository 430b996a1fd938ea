// What a transaction needs from the manager that owns it. One instance per
// manager, shared by every transaction, so a transaction carries a single
// pointer instead of copies of the sender, clock and timer values.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote, Sender } from '../../transport/types.js';
import type { Clock } from './clock.js';
import type { ClientTransaction } from './client-transaction.js';
import type { ServerTransaction } from './server-transaction.js';

export interface TxContext {
  readonly sender: Sender;
  readonly clock: Clock;
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** remove a client transaction the instant it enters Terminated */
  clientTerminated(tx: ClientTransaction): void;
  /** remove a server transaction the instant it enters Terminated */
  serverTerminated(tx: ServerTransaction): void;
  /** a final response was passed to the transport (counted for the metrics); once per transaction */
  serverFinal?(method: string, status: number): void;
  /** an ACK that belongs to the TU (2xx ACK) */
  ackToTu(msg: SipMessage, remote: Remote): void;
  /** the 100 (Trying) for an INVITE (§17.2.1) */
  trying100(invite: SipMessage): SipMessage;
  /** build and send the CANCEL for an INVITE client transaction (§9.1) */
  sendCancel(tx: ClientTransaction): void;
}
