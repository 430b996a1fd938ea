// INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by
// RFC 6026 §8.5-8.7 (2xx leads to Accepted, Timer L, instead of Terminated).
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { ServerMachine, ServerTransaction } from './server-transaction.js';

type IstState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

function accept(tx: ServerTransaction, msg: SipMessage | undefined): void {
  // "If, while in the "Proceeding" state, the TU passes a 2xx response to the
  // server transaction, the server transaction MUST pass this response to the
  // transport layer for transmission. It is not retransmitted by the server
  // transaction; retransmissions of 2xx responses are handled by the TU. The
  // server transaction MUST then transition to the "Accepted" state."
  // (RFC 6026 §8.5) "Timer L = 64*T1" (RFC 6026 §8.7)
  tx.stopTimers();
  tx.state = 'accepted';
  tx.armStateTimer('L', 64 * tx.ctx.t1);
  tx.send(msg!);
  // nothing is resent from here on: the request and the 2xx are not kept (RFC 2543 peers' ACKs match on the kept To tag)
  if (!tx.legacy) tx.forget();
}

function reject(tx: ServerTransaction, msg: SipMessage | undefined): void {
  // "While in the "Proceeding" state, if the TU passes a response with status
  // code from 300 to 699 to the server transaction, the response MUST be
  // passed to the transport layer for transmission, and the state machine
  // MUST enter the "Completed" state. For unreliable transports, timer G is
  // set to fire in T1 seconds, and is not set to fire for reliable
  // transports." "When the "Completed" state is entered, timer H MUST be set
  // to fire in 64*T1 seconds for all transports."
  tx.stopTimers();
  tx.state = 'completed';
  if (!tx.reliable) tx.armRetransmit('G', tx.interval);
  tx.armStateTimer('H', 64 * tx.ctx.t1);
  tx.send(msg!);
}

function transportFailed(tx: ServerTransaction): void {
  // "the server transaction SHOULD inform the TU that a failure has occurred,
  // and SHOULD transition to the terminated state." (§17.2.4)
  tx.terminate('transport-error');
}

export const INVITE_SERVER_MACHINE: ServerMachine<IstState> = {
  proceeding: {
    // "If a request retransmission is received while in the "Proceeding"
    // state, the most recent provisional response that was received from the
    // TU MUST be passed to the transport layer for retransmission."
    request: (tx) => tx.resend(),
    '1xx'(tx, msg) {
      // "So long as the server transaction is in the "Proceeding" state, each
      // of these MUST be passed to the transport layer for transmission. They
      // are not sent reliably by the transaction layer ... and do not cause a
      // change in the state of the server transaction."
      tx.stopRetransmit();
      tx.send(msg!);
    },
    '2xx': accept,
    '300-699': reject,
    trying(tx) {
      // "The server transaction MUST generate a 100 (Trying) response unless
      // it knows that the TU will generate a provisional or final response
      // within 200 ms" — the TU did not, so the transaction does.
      if (!tx.lastResponse) tx.send(tx.ctx.trying100(tx.request));
    },
    transportError: transportFailed,
  },
  completed: {
    // "while in the "Completed" state, if a request retransmission is
    // received, the server SHOULD pass the response to the transport for
    // retransmission."
    request: (tx) => tx.resend(),
    G(tx) {
      // "If timer G fires, the response is passed to the transport layer once
      // more for retransmission, and timer G is set to fire in MIN(2*T1, T2)
      // seconds. From then on ... reset with a value that doubles, unless that
      // value exceeds T2, in which case it is reset with the value of T2."
      tx.resend();
      tx.interval = Math.min(2 * tx.interval, tx.ctx.t2);
      tx.armRetransmit('G', tx.interval);
    },
    // "If timer H fires while in the "Completed" state, it implies that the
    // ACK was never received. In this case, the server transaction MUST
    // transition to the "Terminated" state, and MUST indicate to the TU that a
    // transaction failure has occurred."
    H: (tx) => tx.terminate('timeout'),
    ack(tx) {
      // "If an ACK is received while the server transaction is in the
      // "Completed" state, the server transaction MUST transition to the
      // "Confirmed" state. As Timer G is ignored in this state, any
      // retransmissions of the response will cease." "When this state is
      // entered, timer I is set to fire in T4 seconds for unreliable
      // transports, and zero seconds for reliable transports."
      tx.stopTimers();
      tx.state = 'confirmed';
      if (tx.reliable) tx.terminate('normal');
      else tx.armStateTimer('I', tx.ctx.t4);
    },
    transportError: transportFailed,
  },
  confirmed: {
    // "The purpose of the "Confirmed" state is to absorb any additional ACK
    // messages that arrive, triggered from retransmissions of the final
    // response." Retransmitted INVITEs are absorbed too (nothing to resend).
    request: () => {},
    ack: () => {},
    // "Once timer I fires, the server MUST transition to the "Terminated" state."
    I: (tx) => tx.terminate('normal'),
  },
  accepted: {
    // "While in the "Accepted" state, any retransmissions of the INVITE
    // received will match this transaction state machine and will be absorbed
    // by the machine without changing its state. These retransmissions are
    // not passed onto the TU." (RFC 6026 §7.1)
    request: () => {},
    // "While in the "Accepted" state, if the TU passes a 2xx response, the
    // server transaction MUST pass the response to the transport layer for
    // transmission." (RFC 6026 §8.7)
    '2xx': (tx, msg) => {
      tx.send(msg!);
      if (!tx.legacy) tx.forget();
    },
    // "If the response was a 2xx, the ACK is not considered part of the
    // transaction." (§17) — an ACK that still matches goes to the TU.
    ack: (tx, msg, remote) => tx.ctx.ackToTu(msg!, remote!),
    // "If Timer L fires while the INVITE server transaction is in the
    // "Accepted" state, the transaction MUST transition to the "Terminated"
    // state." (RFC 6026 §8.7) A transport error here is left to the TU's own
    // 2xx retransmission, which gives up after 64*T1 (§13.3.1.4).
    L: (tx) => tx.terminate('normal'),
  },
  terminated: {},
};
