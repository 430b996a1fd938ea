// Strong secrets offered to administrators instead of anything they'd type.
import { randomInt } from 'node:crypto';
import { checkSecret } from './check-secret.js';

// URL-safe and unambiguous on a phone's keypad screen or read over the
// phone: no 0/O/o, 1/l/I. 55 symbols × 20 = ~115 bits.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
const SECRET_LENGTH = 20;

/**
 * A random secret that passes the SIP policy. Give the extension number and
 * the owner's name when the secret is for one: a random draw can (about once
 * in 500 for a three-letter name such as "Bea") spell the name, which the
 * policy refuses, and an offered secret must pass where it is pasted.
 */
export function generateSecret(owner: { extension?: string; name?: string } = {}): string {
  for (;;) {
    let s = '';
    for (let i = 0; i < SECRET_LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    // Insist on all three classes and a passing verdict: a random draw can
    // (rarely) contain "1234"-like runs that the policy would then reject.
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s) && checkSecret(s, { kind: 'sip', extension: owner.extension, name: owner.name }).ok) return s;
  }
}

export function generatePin(len = 6, extension?: string): string {
  if (!Number.isInteger(len) || len < 4 || len > 12) throw new RangeError('PIN length must be 4..12');
  for (;;) {
    let pin = '';
    for (let i = 0; i < len; i++) pin += String(randomInt(10));
    if (checkSecret(pin, { kind: 'pin', extension }).ok) return pin;
  }
}
