// Voicemail PIN policy (docs/configuration.md, Password policy): the call the voicemail
// application makes when a user sets or changes a PIN, and the check the
// audit runs over configured PINs. A PIN is tried over the phone keypad, so
// the policy rejects what an attacker tries first: short PINs, runs and
// repeats (1234, 4321, 1111, 2468, 1212), the mailbox number itself and the
// PINs everyone picks.
import { checkSecret, MAX_PIN_LENGTH, MIN_PIN_LENGTH } from './check-secret.js';

export interface PinPolicy {
  /** the mailbox (extension) the PIN protects; the PIN must not be or contain it */
  mailbox?: string;
  /** minimum number of digits, 4..12 (default 4; 6 recommended) */
  minLength?: number;
}

export type PinVerdict = { ok: true } | { ok: false; reason: string };

export const DEFAULT_PIN_MIN_LENGTH = MIN_PIN_LENGTH;

export function checkPin(pin: string, policy: PinPolicy = {}): PinVerdict {
  const minLength = Math.max(MIN_PIN_LENGTH, Math.min(MAX_PIN_LENGTH, Math.floor(policy.minLength ?? MIN_PIN_LENGTH)));
  if (!/^[0-9]*$/.test(pin)) return { ok: false, reason: 'must contain digits only' };
  if (pin.length < minLength) return { ok: false, reason: `must be at least ${minLength} digits` };
  if (pin.length > MAX_PIN_LENGTH) return { ok: false, reason: `must be at most ${MAX_PIN_LENGTH} digits` };
  const v = checkSecret(pin, { kind: 'pin', extension: policy.mailbox });
  if (v.ok) return { ok: true };
  // The shared checker says "extension"; for voicemail the word is mailbox.
  return { ok: false, reason: v.reasons.map((r) => r.replace('extension number', 'mailbox number')).join('; ') };
}
