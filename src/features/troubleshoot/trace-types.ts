// The records a call trace is made of: SIP messages as they crossed the
// transport (secrets already redacted when stored) and the RTP packets of the
// call's relay session.
import type { TransportKind } from '../../transport/types.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface TracedSip {
  /** epoch ms, fractional (µs precision) */
  t: number;
  /** index into the trace's legs */
  leg: number;
  /** 'in': received by Palisade, 'out': sent by it */
  dir: 'in' | 'out';
  transport: TransportKind;
  src: Endpoint;
  dst: Endpoint;
  data: Buffer;
}

export interface TracedRtp {
  t: number;
  /** the packet as captured: its header, or all of it when payloads are recorded */
  data: Buffer;
  /** its length on the wire */
  length: number;
  src: Endpoint;
  dst: Endpoint;
}

export interface TraceLeg {
  callId: string;
  /** the request that opened it (INVITE, REGISTER, ...) */
  method: string;
  /** users seen in its first request's Request-URI, From, To and digest username */
  users: string[];
  /** messages dropped from the middle of a long dialog (the ring kept the first and the last) */
  elided: number;
}

export interface CallTrace {
  /** store sequence number */
  id: number;
  legs: TraceLeg[];
  /** why it was kept: 'failed: 486 INVITE', 'traced extension 1001', ... */
  reason: string;
  failed: boolean;
  start: number;
  end: number;
  sip: TracedSip[];
  rtp: TracedRtp[];
  /** RTP packets not recorded (per-call cap) */
  rtpDropped: number;
  /** whether RTP payloads were recorded (the administrator asked for them on an extension) */
  rtpPayload: boolean;
  /** bytes this trace holds (for the store's cap) */
  bytes: number;
}
