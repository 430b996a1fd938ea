// Authentication as the layers around it see it: a verifier the call path asks
// (SIP digest, sip/auth/digest.ts, behind it) and the outcomes it reports to
// the defences. Ports in core/ (docs/architecture.md, Layers: authentication
// is one of the four points where security plugs in): SIP produces outcomes,
// security/ids consumes them, and neither imports the other.
import type { Remote } from './peer.js';

/** digest algorithms Palisade offers (RFC 8760), named in auth.algorithms */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** checks credentials in a request and builds challenges */
export interface AuthVerifier {
  verify(method: string, header: string | undefined, opts: { proxy: boolean; requestUri: string }): { ok: true; user: string } | { ok: false; reason: string };
  challenge(opts: { stale?: boolean; proxy: boolean }): Array<[string, string]>;
}

/** one authentication's outcome, for the IDS and the security log; no secret in it */
export interface AuthOutcome {
  ok: boolean;
  /** DigestFailure, or 'forbidden' (authenticated, but not for this AOR / identity) */
  reason?: string;
  method: string;
  /** the security log's Service, as Asterisk names it: 'SIP' when absent, 'IAX2'; 'HTTP' for the web console's logins */
  service?: string;
  /** the digest username, else the AOR / From user the request claimed */
  account: string;
  remote: Remote;
  /** our own listening address it arrived at */
  local?: { transport: Remote['transport']; address: string; port: number };
  callId?: string;
  cseq?: number;
  /** the nonce the client answered (public; never the response hash) */
  nonce?: string;
  /** one guess across its retransmissions (see credentialsIdentity) */
  attempt?: string;
  userAgent?: string;
}

/** where authentication outcomes go (main.ts: the IDS's SecurityService) */
export type AuthOutcomeSink = (o: AuthOutcome) => void;
