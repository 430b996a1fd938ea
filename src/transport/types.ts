// What the transport layer hands upward and what it accepts to send.
import type { SipMessage } from '../sip-message/sip-message.js';

// Remote and TransportKind are core/ types (core/peer.ts): the ports there need them.
import type { Remote, TransportKind } from '../core/peer.js';
export type { Remote, TransportKind };

/** A local listening point ("udp:127.0.0.1:5060") */
export interface ListenPoint {
  transport: TransportKind;
  address: string;
  port: number;
}

export interface Inbound {
  msg: SipMessage;
  remote: Remote;
  local: ListenPoint;
}

/** The one way anything above the transport sends bytes. */
export interface Sender {
  /**
   * send a serialised message; never throws (errors are counted and logged).
   * `msg`: the message the bytes serialize, when the caller has it (call
   * traces read it instead of scanning the bytes again)
   */
  send(data: Buffer, remote: Remote, msg?: SipMessage): void;
  /** the listen point used to reach a remote (for Via / Contact / SDP) */
  localFor(remote: Remote): ListenPoint;
}
