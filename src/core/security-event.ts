// Security events: everything the defences notice, with a level on the OSSEC
// 0–15 scale (docs/configuration.md, `security`: 0–7 informational, 8–15 act now). Producers (the
// authenticator, the registrar, the call gate, the packet gate...) emit into a
// SecurityEventSink; the IDS turns events into bans and alerts, the security
// log writes them as JSON and in Asterisk's security-log line format.
// A port in core/ (docs/architecture.md, Layers): producers at any rank emit
// without importing the IDS, and the security log reads events without the
// IDS and the log importing each other.
import type { Remote } from './peer.js';

export type SecurityEventType =
  /** digest response did not match (Asterisk: InvalidPassword) */
  | 'InvalidPassword'
  /** no such account — logged as such, never answered differently (Asterisk: InvalidAccountID) */
  | 'InvalidAccountID'
  /** an address or account refused by an ACL (Asterisk: FailedACL) */
  | 'FailedACL'
  /** a challenge was sent (Asterisk: ChallengeSent) */
  | 'ChallengeSent'
  /** authentication succeeded (Asterisk: SuccessfulAuth) */
  | 'SuccessfulAuth'
  /** a request the parser or sanity check refused (Asterisk: RequestBadFormat) */
  | 'RequestBadFormat'
  /** a request refused by policy, e.g. unauthenticated method (Asterisk: RequestNotAllowed) */
  | 'RequestNotAllowed'
  /** a known scanner's user agent */
  | 'ScannerDetected'
  /** too many requests from one address */
  | 'Flood'
  /** a call refused or flagged by the toll-fraud guard or a limit */
  | 'FraudRuleHit'
  /** a call or address refused for its reputation */
  | 'ReputationReject'
  /** nonce-count reuse or an unknown nonce presented again */
  | 'ReplayAttempt'
  | 'Ban'
  | 'Unban';

export interface SecurityEvent {
  type: SecurityEventType;
  /** 0–15 (OSSEC scale) */
  level: number;
  /** milliseconds since the epoch */
  time: number;
  /** 'SIP', 'AMI', 'CLI', 'HTTP' */
  service: string;
  /** where it came from (undefined for events without a peer, e.g. a CLI unban) */
  remote?: Remote;
  /** the account the request claimed (From/To user or digest username), never a secret */
  account?: string;
  /** our own listening address the packet arrived at */
  local?: Remote;
  /** SIP Call-ID or similar session handle */
  sessionId?: string;
  /** short free text: which rule, which limit, which destination */
  detail?: string;
  /**
   * identifies one attempt across its retransmissions (e.g. a hash of the
   * credentials sent), so the IDS counts it once; never logged
   */
  attempt?: string;
  /** anything further worth logging (never secrets, HA1 or PINs) */
  extra?: Record<string, string | number | boolean>;
}

export interface SecurityEventSink {
  emit(ev: SecurityEvent): void;
}

/** a sink that drops everything, for components used without the IDS (tests, tools) */
export const nullSecuritySink: SecurityEventSink = { emit: () => {} };
