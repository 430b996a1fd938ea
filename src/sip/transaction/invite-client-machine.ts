// INVITE client transaction: RFC 3261 §17.1.1.2 (Figure 5) as amended by
// RFC 6026 §8.4 (the Accepted state and Timer M). One row per state, one
// handler per event; an event missing from a row is ignored in that state.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { ClientMachine, ClientTransaction } from './client-transaction.js';

type IctState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

function provisional(tx: ClientTransaction, msg: SipMessage | undefined): void {
  // "If the client transaction receives a provisional response while in the
  // "Calling" state, it transitions to the "Proceeding" state. In the
  // "Proceeding" state, the client transaction SHOULD NOT retransmit the
  // request any longer. Furthermore, the provisional response MUST be passed
  // to the TU." (§17.1.1.2)
  // Timer B only matters "If the client transaction is still in the "Calling"
  // state", so it is stopped with A; an INVITE may ring for minutes.
  tx.stopTimers();
  tx.state = 'proceeding';
  tx.deliver(msg!);
  if (tx.cancelRequested && !tx.cancelSent && tx.state === 'proceeding') tx.ctx.sendCancel(tx);
}

function accepted(tx: ClientTransaction, msg: SipMessage | undefined): void {
  // "When a 2xx response is received while in either the "Calling" or
  // "Proceeding" states, the client transaction MUST transition to the
  // "Accepted" state, and Timer M MUST be started with a value of 64*T1
  // seconds. The 2xx response MUST be passed up to the TU. The client
  // transaction MUST NOT generate an ACK to the 2xx response -- its handling
  // is delegated to the TU." (RFC 6026 §8.4)
  tx.stopTimers();
  tx.state = 'accepted';
  tx.armStateTimer('M', 64 * tx.ctx.t1);
  tx.deliver(msg!);
  // it never sends again (the TU ACKs a 2xx): the request and its bytes are not kept
  tx.forget();
}

function rejected(tx: ClientTransaction, msg: SipMessage | undefined): void {
  // "reception of a response with status code from 300-699 MUST cause the
  // client transaction to transition to "Completed". The client transaction
  // MUST pass the received response up to the TU, and the client transaction
  // MUST generate an ACK request, even if the transport is reliable"
  // (§17.1.1.2)
  tx.stopTimers();
  tx.state = 'completed';
  tx.sendAck(msg!);
  tx.deliver(msg!);
  if (tx.state !== 'completed') return;
  // "The client transaction SHOULD start timer D when it enters the
  // "Completed" state, with a value of at least 32 seconds for unreliable
  // transports, and a value of zero seconds for reliable transports."
  if (tx.reliable) tx.terminate();
  else tx.armStateTimer('D', Math.max(32_000, 64 * tx.ctx.t1));
}

function timedOut(tx: ClientTransaction): void {
  // "If the client transaction is still in the "Calling" state when timer B
  // fires, the client transaction SHOULD inform the TU that a timeout has
  // occurred. The client transaction MUST NOT generate an ACK." (§17.1.1.2)
  // In Proceeding the same timer guards a sent CANCEL: "If there is no final
  // response for the original request in 64*T1 seconds ... the client SHOULD
  // then consider the original transaction cancelled and SHOULD destroy the
  // client transaction handling the original request." (§9.1)
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

export const INVITE_CLIENT_MACHINE: ClientMachine<IctState> = {
  calling: {
    A(tx) {
      // "When timer A fires, the client transaction MUST retransmit the
      // request by passing it to the transport layer, and MUST reset the
      // timer with a value of 2*T1." — doubling each time, with no T2 cap.
      tx.transmit();
      tx.interval *= 2;
      tx.armRetransmit('A', tx.interval);
    },
    B: timedOut,
    '1xx': provisional,
    '2xx': accepted,
    '300-699': rejected,
    transportError: transportFailed,
  },
  proceeding: {
    // "Any further provisional responses MUST be passed up to the TU while in
    // the "Proceeding" state."
    '1xx': (tx, msg) => tx.deliver(msg!),
    '2xx': accepted,
    '300-699': rejected,
    B: timedOut,
    transportError: transportFailed,
  },
  completed: {
    // "Any retransmissions of the final response that are received while in
    // the "Completed" state MUST cause the ACK to be re-passed to the
    // transport layer for retransmission, but the newly received response
    // MUST NOT be passed up to the TU."
    '300-699': (tx, msg) => tx.sendAck(msg!),
    // "If timer D fires while the client transaction is in the "Completed"
    // state, the client transaction MUST move to the terminated state."
    D: (tx) => tx.terminate(),
    transportError: transportFailed,
  },
  accepted: {
    // "Any 2xx responses that match this client transaction and that are
    // received while in the "Accepted" state MUST be passed up to the TU.
    // The client transaction MUST NOT generate an ACK to the 2xx response."
    // (RFC 6026 §8.4)
    '2xx': (tx, msg) => tx.deliver(msg!),
    // "If Timer M fires while the client transaction is in the "Accepted"
    // state, the client transaction MUST move to the "Terminated" state."
    M: (tx) => tx.terminate(),
  },
  terminated: {},
};

/** "the client transaction MUST start timer A with a value of T1 ... MUST start timer B with a value of 64*T1" */
export function startInviteClient(tx: ClientTransaction): void {
  tx.transmit();
  // "If a reliable transport is being used, the client transaction SHOULD
  // NOT start timer A (Timer A controls request retransmissions)."
  if (!tx.reliable) tx.armRetransmit('A', tx.interval);
  tx.armStateTimer('B', 64 * tx.ctx.t1);
}
