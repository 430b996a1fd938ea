// The level of each security event type on the OSSEC 0–15 scale (docs/configuration.md, `security`:
// 0–7 informational, 8–15 act now), and a helper that stamps an event with
// its level and time so producers only say what happened.
//
//   type               level  why
//   ChallengeSent         2   routine: every first request of a phone is challenged
//   SuccessfulAuth        3   successful login (OSSEC 3)
//   RequestBadFormat      4   low-priority error: a broken or fuzzed request (OSSEC 4)
//   RequestNotAllowed     4   a method refused by policy
//   InvalidPassword       5   user-generated error (OSSEC 5): one wrong password
//   InvalidAccountID      5   user-generated error: an unknown account (often a scan)
//   FailedACL             6   an address or account refused by an ACL
//   ReputationReject      6   refused for a bad reputation score
//   Unban                 3   a ban ended (expiry or administrator)
//   ScannerDetected       8   first-time-seen attack tool (OSSEC 8)
//   ReplayAttempt        10   a digest response replayed: an attack, not a typo
//   Ban                  10   multiple user-generated errors turned into action (OSSEC 10)
//   FraudRuleHit         12   high-importance event: money is at stake (OSSEC 12)
//   Flood                12   a request flood from one address
import type { SecurityEvent, SecurityEventType } from '../../core/security-event.js';

export const EVENT_LEVELS: Readonly<Record<SecurityEventType, number>> = {
  ChallengeSent: 2,
  SuccessfulAuth: 3,
  RequestBadFormat: 4,
  RequestNotAllowed: 4,
  InvalidPassword: 5,
  InvalidAccountID: 5,
  FailedACL: 6,
  ReputationReject: 6,
  Unban: 3,
  ScannerDetected: 8,
  ReplayAttempt: 10,
  Ban: 10,
  FraudRuleHit: 12,
  Flood: 12,
};

/** an event of `type` with its default level and the current time; fields may override either */
export function securityEvent(type: SecurityEventType, fields: Omit<Partial<SecurityEvent>, 'type'> = {}): SecurityEvent {
  return { service: 'SIP', ...fields, type, level: fields.level ?? EVENT_LEVELS[type], time: fields.time ?? Date.now() };
}
