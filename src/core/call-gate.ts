// The call gate: one of the four points where security plugs in
// (docs/architecture.md, Layers and Security rules). A port in core/ so the
// B2BUA and the channels consult it and security/fraud implements it without
// either importing the other.
import type { Remote } from './peer.js';

/**
 * The call gate (security, docs/architecture.md): consulted once a caller is
 * authenticated and before the call is routed anywhere. It classifies the
 * destination, applies permissions, limits, spend, reputation and fraud
 * rules, and follows the call it let through via the ticket.
 */
export interface CallGateApi {
  check(a: CallAttempt): GateDecision;
}

export interface CallAttempt {
  /** the calling extension ('' for a call arriving from a trunk) */
  caller: string;
  /** the trunk the call leaves by or arrives from: a principal with its own policy (trunk code to come) */
  trunk?: string;
  dialled: string;
  /** an automatic dialer (a campaign) places the call: a principal of its own, with its own classes and limits */
  campaign?: CampaignPrincipal;
  /** the callee's extension number when the dialled number is one of ours */
  callee?: string;
  remote: Remote;
  callId: string;
  /**
   * a call arriving from a trunk to a number we serve (a DID an inbound
   * route or the trunk's context takes): its destination is internal,
   * whatever the digits look like; the trunk's ACL and limits still apply
   */
  inbound?: boolean;
}

/** a campaign as the call gate sees it (src/features/campaigns/) */
export interface CampaignPrincipal {
  name: string;
  /** destination classes it may dial (internal, local, national, mobile, international, premium...) */
  permissions: readonly string[];
  /** its calls at once; 0 = unlimited */
  maxCalls: number;
  /** its call attempts per sliding minute; 0 = unlimited */
  callsPerMinute: number;
  /** currency units per day; 0 = no paid calls */
  dailySpendLimit: number;
}

export type GateDecision = { ok: true; verdict: string; ticket: CallTicket } | { ok: false; status: number; reason: string; verdict: string };

export interface CallTicket {
  /** the call was answered; `cut` ends it (e.g. when its spend would cross the limit) */
  answered(cut: (cause: string) => void): void;
  /**
   * the attempt is over (answered or not); billsec 0 when never answered;
   * `declined` when the callee turned it down (603 Decline, 607 Unwanted — RFC 8197)
   */
  ended(billsec: number, declined?: boolean): void;
}

/**
 * A trunk's own call-gate settings, as the module that owns trunks declares
 * them (src/features/trunks/); the call gate makes a trunk principal of
 * them. Absent fields take the gate's defaults.
 */
export interface TrunkPolicySettings {
  /** destination classes calls by this trunk may reach ('internal', 'local', 'national', ...) */
  permissions?: readonly string[];
  /** concurrent calls (both directions); 0 = unlimited */
  maxCalls?: number;
  /** currency units per day; 0 = no paid calls */
  dailySpendLimit?: number;
  /** where the trunk's calls may come from (CIDRs) */
  callFrom?: readonly string[];
}
