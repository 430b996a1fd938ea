// Non-INVITE client transaction: RFC 3261 §17.1.2.2 (Figure 6).
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { ClientMachine, ClientTransaction } from './client-transaction.js';

type NictState = 'trying' | 'proceeding' | 'completed' | 'terminated';

function final(tx: ClientTransaction, msg: SipMessage | undefined): void {
  // "If a final response (status codes 200-699) is received while in the
  // "Trying" state, the response MUST be passed to the TU, and the client
  // transaction MUST transition to the "Completed" state."
  tx.stopTimers();
  tx.state = 'completed';
  tx.deliver(msg!);
  if (tx.state !== 'completed') return;
  // "Once the client transaction enters the "Completed" state, it MUST set
  // Timer K to fire in T4 seconds for unreliable transports, and zero seconds
  // for reliable transports."
  if (tx.reliable) tx.terminate();
  else tx.armStateTimer('K', tx.ctx.t4);
}

function timedOut(tx: ClientTransaction): void {
  // "If Timer F fires while the client transaction is still in the "Trying"
  // state, the client transaction SHOULD inform the TU about the timeout, and
  // then it SHOULD enter the "Terminated" state."
  tx.terminate();
  tx.handlers.onTimeout(tx);
}

function transportFailed(tx: ClientTransaction): void {
  // "The client transaction SHOULD inform the TU that a transport failure has
  // occurred, and the client transaction SHOULD transition directly to the
  // "Terminated" state." (§17.1.4)
  tx.terminate();
  tx.handlers.onTransportError(tx);
}

export const NON_INVITE_CLIENT_MACHINE: ClientMachine<NictState> = {
  trying: {
    E(tx) {
      // "If timer E fires while still in this state, the timer is reset, but
      // this time with a value of MIN(2*T1, T2). ... retransmissions occur
      // with an exponentially increasing interval that caps at T2."
      tx.transmit();
      tx.interval = Math.min(2 * tx.interval, tx.ctx.t2);
      tx.armRetransmit('E', tx.interval);
    },
    F: timedOut,
    '1xx'(tx, msg) {
      // "If a provisional response is received while in the "Trying" state,
      // the response MUST be passed to the TU, and then the client
      // transaction SHOULD move to the "Proceeding" state."
      tx.state = 'proceeding';
      tx.deliver(msg!);
    },
    '2xx': final,
    '300-699': final,
    transportError: transportFailed,
  },
  proceeding: {
    E(tx) {
      // "If Timer E fires while in the "Proceeding" state, the request MUST
      // be passed to the transport layer for retransmission, and Timer E MUST
      // be reset with a value of T2 seconds."
      tx.transmit();
      tx.interval = tx.ctx.t2;
      tx.armRetransmit('E', tx.interval);
    },
    // "If timer F fires while in the "Proceeding" state, the TU MUST be
    // informed of a timeout, and the client transaction MUST transition to
    // the terminated state."
    F: timedOut,
    '1xx': (tx, msg) => tx.deliver(msg!),
    '2xx': final,
    '300-699': final,
    transportError: transportFailed,
  },
  completed: {
    // response retransmissions are absorbed: "The "Completed" state exists to
    // buffer any additional response retransmissions that may be received"
    // "If Timer K fires while in this state, the client transaction MUST
    // transition to the "Terminated" state."
    K: (tx) => tx.terminate(),
  },
  terminated: {},
};

/** "the client transaction SHOULD set timer F to fire in 64*T1 seconds ... MUST set timer E to fire in T1 seconds" */
export function startNonInviteClient(tx: ClientTransaction): void {
  tx.transmit();
  if (!tx.reliable) tx.armRetransmit('E', tx.interval);
  tx.armStateTimer('F', 64 * tx.ctx.t1);
}
