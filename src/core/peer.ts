// The far end of a message as every layer names it. The type lives here, not
// in transport/, because the ports in core/ (security events, the call gate,
// location bindings) mention it and core/ imports nothing above rank 0
// (docs/architecture.md, Layers); transport/types.ts re-exports it.

export type TransportKind = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** The far end of a packet: where it came from, or where to send. */
export interface Remote {
  transport: TransportKind;
  address: string; // textual IP (IPv6 without brackets)
  port: number;
  /** stream transports: id of the connection it arrived on (reuse it to answer) */
  flow?: number;
}
