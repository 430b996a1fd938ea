// What the transport layer hands upward and what it accepts to send.
import type { SipMessage } from '../sip/message/sip-message.js';

export type TransportKind = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** The far end of a packet: where it came from, or where to send. */
export interface Remote {
  transport: TransportKind;
  address: string; // textual IP (IPv6 without brackets)
  port: number;
  /** stream transports: id of the connection it arrived on (reuse it to answer) */
  flow?: number;
}

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
  /** send a serialised message; never throws (errors are counted and logged) */
  send(data: Buffer, remote: Remote): void;
  /** the listen point used to reach a remote (for Via / Contact / SDP) */
  localFor(remote: Remote): ListenPoint;
}
