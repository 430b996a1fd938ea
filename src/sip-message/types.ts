// The public shape of the SIP message layer. Every layer above (transaction,
// dialog, registrar, B2BUA) codes against these types only.

/** A parsed SIP or SIPS URI (RFC 3261 §19.1), or an opaque absolute URI. */
export interface SipUri {
  scheme: string; // 'sip' | 'sips' | 'tel' | other (lower-cased)
  user?: string; // unescaped user part
  password?: string;
  host: string; // lower-cased; IPv6 without brackets
  port?: number;
  params: Record<string, string | null>; // uri-parameters, names lower-cased; flag params → null
  headers?: Record<string, string>; // ?h=v part, unescaped
  /** true when the scheme is not sip/sips and the URI is kept opaque */
  opaque?: boolean;
  raw: string; // exactly as it appeared
}

/** name-addr / addr-spec with header parameters: From, To, Contact, Route... */
export interface NameAddr {
  displayName?: string; // unquoted, unescaped
  uri: SipUri;
  params: Record<string, string | null>; // header params (tag, expires, q, ...), names lower-cased
  raw: string;
}

/** One Via header value (RFC 3261 §20.42) */
export interface Via {
  protocol: string; // 'SIP/2.0'
  transport: string; // upper-cased: UDP, TCP, TLS, WS, WSS, SCTP
  host: string; // lower-cased; IPv6 without brackets
  port?: number;
  params: Record<string, string | null>; // branch, received, rport (null when flag), maddr, ttl
  branch?: string;
  raw: string;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Parsed Authorization / Proxy-Authorization / WWW-Authenticate value */
export interface AuthParams {
  scheme: string; // 'Digest'
  params: Record<string, string>; // names lower-cased, quotes removed and unescaped
}

export type HeaderName = string; // canonical lower-case long form, e.g. 'call-id', 'via'

export interface Header {
  name: HeaderName; // lower-case long form (compact forms expanded: 'v' -> 'via')
  value: string; // raw value, folding (LWS) collapsed to one SP, trimmed
}
