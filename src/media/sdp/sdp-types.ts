// The parsed form of an SDP session description (RFC 8866, formerly RFC 4566).
// Fields that Palisade reads or rewrites are structured; every other line is
// kept verbatim in `lines` so that a description passed through the B2BUA
// loses nothing the endpoints put in it.

/** One line kept as written: `type` is the letter before '=', `value` the rest. */
export interface SdpLine {
  type: string;
  value: string;
}

/** o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 §5.2) */
export interface SdpOrigin {
  username: string;
  /** kept as text: numeric but may exceed 2^53 (RFC 8866 §5.2 suggests an NTP timestamp) */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** c=<nettype> <addrtype> <connection-address> (RFC 8866 §5.7) */
export interface SdpConnection {
  netType: string;
  /** 'IP4' or 'IP6' in practice */
  addrType: string;
  address: string;
  /** multicast "/ttl/count" suffix as written (with the leading '/'), '' for unicast */
  suffix: string;
}

/** a=<name>[:<value>]; value null for a property attribute such as `a=sendrecv` (RFC 8866 §5.13) */
export interface SdpAttribute {
  name: string;
  value: string | null;
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** m=<media> <port>[/<number of ports>] <proto> <fmt> ... and the lines under it (RFC 8866 §5.14) */
export interface SdpMedia {
  type: string;
  /** 0 means the stream is rejected or disabled (RFC 3264 §5.1, §6) */
  port: number;
  /** the "/<number of ports>" part, null when absent */
  portCount: number | null;
  proto: string;
  formats: string[];
  connection: SdpConnection | null;
  /** a= lines in their original order */
  attributes: SdpAttribute[];
  /** i=, b=, k=, extra c= and unknown lines, in their original order */
  lines: SdpLine[];
}

export interface Sdp {
  /** v= (always 0 today) */
  version: number;
  origin: SdpOrigin;
  /** s= ('-' when the sender has no name for it) */
  sessionName: string;
  connection: SdpConnection | null;
  /** session-level a= lines in their original order */
  attributes: SdpAttribute[];
  /** i=, u=, e=, p=, b=, t=, r=, z=, k= and unknown session-level lines, in order */
  lines: SdpLine[];
  media: SdpMedia[];
}
