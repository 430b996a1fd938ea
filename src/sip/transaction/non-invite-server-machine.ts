// Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { ServerMachine, ServerTransaction } from './server-transaction.js';

type NistState = 'trying' | 'proceeding' | 'completed' | 'terminated';

function provisional(tx: ServerTransaction, msg: SipMessage | undefined): void {
  // "While in the "Trying" state, if the TU passes a provisional response to
  // the server transaction, the server transaction MUST enter the
  // "Proceeding" state. The response MUST be passed to the transport layer
  // for transmission."
  tx.state = 'proceeding';
  tx.send(msg!);
}

function final(tx: ServerTransaction, msg: SipMessage | undefined): void {
  // "If the TU passes a final response (status codes 200-699) to the server
  // while in the "Proceeding" state, the transaction MUST enter the
  // "Completed" state, and the response MUST be passed to the transport layer
  // for transmission." "When the server transaction enters the "Completed"
  // state, it MUST set Timer J to fire in 64*T1 seconds for unreliable
  // transports, and zero seconds for reliable transports."
  tx.state = 'completed';
  tx.send(msg!);
  if (tx.reliable) tx.terminate('normal');
  else {
    tx.armStateTimer('J', 64 * tx.ctx.t1);
    if (!tx.legacy) tx.release();
  }
}

function transportFailed(tx: ServerTransaction): void {
  // "the server transaction SHOULD inform the TU that a failure has occurred,
  // and SHOULD transition to the terminated state." (§17.2.4)
  tx.terminate('transport-error');
}

export const NON_INVITE_SERVER_MACHINE: ServerMachine<NistState> = {
  trying: {
    // "Once in the "Trying" state, any further request retransmissions are
    // discarded."
    request: () => {},
    '1xx': provisional,
    '2xx': final,
    '300-699': final,
    transportError: transportFailed,
  },
  proceeding: {
    // "If a retransmission of the request is received while in the
    // "Proceeding" state, the most recently sent provisional response MUST be
    // passed to the transport layer for retransmission."
    request: (tx) => tx.resend(),
    // "Any further provisional responses that are received from the TU while
    // in the "Proceeding" state MUST be passed to the transport layer for
    // transmission."
    '1xx': (tx, msg) => tx.send(msg!),
    '2xx': final,
    '300-699': final,
    transportError: transportFailed,
  },
  completed: {
    // "While in the "Completed" state, the server transaction MUST pass the
    // final response to the transport layer for retransmission whenever a
    // retransmission of the request is received." Further responses from
    // the TU have no handler here, so respond() discards them.
    request: (tx) => tx.resend(),
    // "The server transaction remains in this state until Timer J fires, at
    // which point it MUST transition to the "Terminated" state."
    J: (tx) => tx.terminate('normal'),
    transportError: transportFailed,
  },
  terminated: {},
};
