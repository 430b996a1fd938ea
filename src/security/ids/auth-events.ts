// Turns the outcome of a digest check (or of a PIN checked during a call)
// into the security event Asterisk would log for it. Unknown account and
// wrong password are told apart here, for the log and the IDS, and nowhere
// on the wire (anti-enumeration).
import type { SecurityEvent, SecurityEventType } from '../../core/security-event.js';
import { securityEvent } from './event-levels.js';
import type { AuthOutcome } from '../../core/auth.js';

export type { AuthOutcome };
import type { PinOutcome } from '../../core/pin-outcome.js';

const TYPE_FOR_REASON: Record<string, SecurityEventType | null> = {
  // a first request without credentials, or a proven password on an old nonce: routine
  missing: 'ChallengeSent',
  stale: 'ChallengeSent',
  'unknown-user': 'InvalidAccountID',
  'bad-password': 'InvalidPassword',
  replay: 'ReplayAttempt',
  malformed: 'InvalidPassword',
  realm: 'InvalidPassword',
  'uri-mismatch': 'InvalidPassword',
  algorithm: 'InvalidPassword',
  forbidden: 'RequestNotAllowed',
};

/** the event type an outcome becomes (cheap: lets callers skip building events nobody wants) */
export function authOutcomeType(o: Pick<AuthOutcome, 'ok' | 'reason'>): SecurityEventType {
  return o.ok ? 'SuccessfulAuth' : (TYPE_FOR_REASON[o.reason ?? ''] ?? 'InvalidPassword');
}

export function authOutcomeEvent(o: AuthOutcome): SecurityEvent {
  const type = authOutcomeType(o);
  const extra: Record<string, string | number | boolean> = { method: o.method };
  if (o.cseq !== undefined) extra.cseq = o.cseq;
  if (o.nonce !== undefined) extra.nonce = o.nonce;
  if (o.userAgent) extra.userAgent = o.userAgent.slice(0, 128);
  return securityEvent(type, {
    service: o.service ?? 'SIP',
    remote: o.remote,
    local: o.local,
    account: o.account.slice(0, 64),
    sessionId: o.callId?.slice(0, 128),
    detail: o.ok ? undefined : o.reason,
    attempt: o.attempt,
    extra,
  });
}

/**
 * A PIN checked during a call, as the security event a failed or successful
 * SIP login would be: the caller's signalling address as the remote (what
 * the IDS counts and bans), the call as the session, the calling extension
 * beside the account the PIN was for. Each wrong PIN is its own failure (no
 * `attempt` key: nothing is retransmitted).
 */
export function pinOutcomeEvent(o: PinOutcome): SecurityEvent {
  const peer = o.call.peer;
  const extra: Record<string, string | number | boolean> = { channel: o.call.name.slice(0, 128) };
  if (peer.account !== undefined) extra.caller = peer.account.slice(0, 64);
  return securityEvent(o.ok ? 'SuccessfulAuth' : o.unknownAccount ? 'InvalidAccountID' : 'InvalidPassword', {
    service: o.service.slice(0, 32),
    remote: { transport: peer.transport, address: peer.address, port: peer.port },
    account: o.account.slice(0, 64),
    sessionId: o.call.id.slice(0, 128),
    detail: o.detail?.slice(0, 200),
    extra,
  });
}
