// Password policy for every secret Palisade accepts (docs/configuration.md, Password policy):
// SIP digest secrets, voicemail PINs and admin passwords. A digest exchange
// captured on the wire lets an attacker test guesses offline against
// H(user:realm:secret), so SIP secrets need real entropy, not just length.
// The strength estimate is a small cousin of zxcvbn: it finds the guessable
// parts (common passwords, sequences, repetitions, the extension number or
// name) and charges each as one cheap guess, then counts the rest by
// character class.
import { COMMON_PASSWORDS, COMMON_WORDS_FOR_SUBSTRING } from './common-passwords.js';

export type SecretKind = 'sip' | 'pin' | 'admin';

export interface SecretContext {
  kind: SecretKind;
  /** the extension (or mailbox) number the secret belongs to */
  extension?: string;
  /** display name of the owner; its words must not appear in the secret */
  name?: string;
}

export interface SecretVerdict {
  ok: boolean;
  /** short phrases, e.g. "contains the extension number"; empty when ok */
  reasons: string[];
  /** 0 (trivial) .. 4 (strong) */
  score: number;
}

export const MIN_SECRET_LENGTH = 12;
export const MAX_SECRET_LENGTH = 128;
export const MIN_SECRET_SCORE = 3;
export const MIN_PIN_LENGTH = 4;
export const MAX_PIN_LENGTH = 12;

const COMMON_PINS = new Set([
  '0000',
  '1111',
  '1212',
  '1234',
  '1004',
  '2000',
  '2222',
  '2580',
  '3333',
  '4321',
  '4444',
  '5555',
  '6666',
  '6969',
  '7777',
  '8888',
  '9999',
  '1122',
  '1313',
  '1010',
  '2001',
  '0852',
  '5683',
  '0007',
  '1984',
  '1985',
  '1986',
  '1987',
  '1988',
  '1989',
  '1990',
  '1991',
  '1992',
  '1993',
  '1994',
  '1995',
  '1996',
  '1997',
  '1998',
  '1999',
  '2468',
  '1357',
  '7410',
  '0123',
  '9876',
  '112233',
  '123123',
  '121212',
  '123321',
  '654321',
  '159753',
  '147258',
  '258369',
  '696969',
  '000000',
  '111111',
  '123456',
  '999999',
  '555555',
  '666666',
  '777777',
  '888888',
  '101010',
  '202020',
  '131313',
]);

const LOG2_COMMON = Math.log2(COMMON_PASSWORDS.size);

export function checkSecret(secret: string, ctx: SecretContext): SecretVerdict {
  return ctx.kind === 'pin' ? checkPin(secret, ctx) : checkPassword(secret, ctx);
}

function checkPin(pin: string, ctx: SecretContext): SecretVerdict {
  const reasons: string[] = [];
  if (!/^[0-9]+$/.test(pin) || pin.length < MIN_PIN_LENGTH || pin.length > MAX_PIN_LENGTH) {
    reasons.push(`must be ${MIN_PIN_LENGTH} to ${MAX_PIN_LENGTH} digits`);
    return { ok: false, reasons, score: 0 };
  }
  if (isSingleRun(pin)) reasons.push('is a sequence or repetition such as 1234, 1111 or 2468');
  else if (repeatedUnit(pin) !== null) reasons.push('repeats a shorter group of digits');
  if (COMMON_PINS.has(pin)) reasons.push('is a commonly used PIN');
  // A mirrored run (1221, 123321) or a date-like pair repeat is the next thing
  // an attacker tries after the common list.
  else if (pin.length >= 4 && pin === reverse(pin) && isSingleRun(pin.slice(0, Math.ceil(pin.length / 2)))) reasons.push('is a mirrored sequence');
  const ext = ctx.extension ?? '';
  if (ext.length > 0 && (pin === ext || (ext.length >= 3 && pin.includes(ext)))) {
    reasons.push(pin === ext ? 'is the extension number' : 'contains the extension number');
  }
  const score = reasons.length > 0 ? 0 : Math.min(4, Math.max(0, Math.floor((pin.length - 2) / 2)));
  return { ok: reasons.length === 0, reasons, score };
}

function checkPassword(secret: string, ctx: SecretContext): SecretVerdict {
  const reasons: string[] = [];
  if (secret.length < MIN_SECRET_LENGTH) reasons.push(`is shorter than ${MIN_SECRET_LENGTH} characters`);
  if (secret.length > MAX_SECRET_LENGTH) reasons.push(`is longer than ${MAX_SECRET_LENGTH} characters`);
  // Control characters break config files and some phones' provisioning.
  for (let i = 0; i < secret.length; i++) {
    const c = secret.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      reasons.push('contains control characters');
      break;
    }
  }
  if (secret.length > 0 && secret.trim() !== secret) reasons.push('begins or ends with white space');

  const lower = secret.toLowerCase();
  const ext = ctx.extension ?? '';
  if (ext.length >= 2 && (lower.includes(ext) || lower.includes(reverse(ext)))) {
    reasons.push('contains the extension number');
  }
  const nameWords = nameParts(ctx.name);
  const normalized = deLeet(lower, 'i');
  if (nameWords.some((w) => lower.includes(w) || normalized.includes(w))) reasons.push('contains the name');
  if (isCommon(lower)) reasons.push('is a commonly used password');

  const digitRun = findDigitRun(secret);
  // A run like 1234 is what a weak secret is built on; inside a long random
  // secret it is chance, and the strength estimate below already discounts it.
  if (digitRun !== null && secret.length - digitRun.length < MIN_SECRET_LENGTH) reasons.push(`contains the sequence ${digitRun}`);
  if (secret.length > 1 && (isSingleRun(lower) || repeatedUnit(lower) !== null)) {
    reasons.push('is a sequence or a repetition');
  }

  const score = estimateScore(secret, ext, nameWords);
  if (reasons.length === 0 && score < MIN_SECRET_SCORE) {
    reasons.push(`is too easy to guess (strength ${score} of 4, needs ${MIN_SECRET_SCORE}); make it longer or mix upper case, lower case, digits and symbols`);
  }
  return { ok: reasons.length === 0, reasons, score: reasons.length > 0 ? Math.min(score, 2) : score };
}

// ---------------------------------------------------------------------------
// pattern helpers

function reverse(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) out += s[i];
  return out;
}

function nameParts(name: string | undefined): string[] {
  if (!name) return [];
  return (
    name
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      // a short number in a display name ("Room 12", "User 668") says nothing about its owner
      .filter((w) => (/^\p{N}+$/u.test(w) ? w.length >= 5 : w.length >= 3))
  );
}

const LEET: Record<string, string> = { '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i', '+': 't' };

/** Undo common character substitutions; `one` is what '1' stands for (i or l). */
function deLeet(s: string, one: 'i' | 'l'): string {
  let out = '';
  for (const ch of s) out += ch === '1' ? one : (LEET[ch] ?? ch);
  return out;
}

function isCommon(lower: string): boolean {
  const candidates = new Set<string>([lower, deLeet(lower, 'i'), deLeet(lower, 'l')]);
  for (const c of [...candidates]) {
    // "Password2024!" and "!!qwerty" are the listed password with decoration.
    candidates.add(c.replace(/[^a-z]+$/, ''));
    candidates.add(c.replace(/^[^a-z]+/, '').replace(/[^a-z]+$/, ''));
  }
  const unit = repeatedUnit(lower);
  if (unit !== null) candidates.add(unit);
  for (const c of candidates) if (c.length > 0 && COMMON_PASSWORDS.has(c)) return true;
  return false;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLetter(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** Step between two characters of the same class, digits wrapping 9→0; null across classes. */
function stepOf(a: number, b: number): number | null {
  if (isDigit(a) && isDigit(b)) {
    const d = (((b - a) % 10) + 10) % 10;
    return d > 5 ? d - 10 : d;
  }
  if ((isLetter(a) && isLetter(b)) || a === b) return b - a;
  return null;
}

/**
 * Maximal runs of at least `min` characters whose codes move by a constant
 * step of -2..2 (1111, 1234, 2468, 9876, abcd, zzzz), as [start, end).
 */
function findRuns(lower: string, min: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  let step: number | null = null;
  for (let i = 1; i <= lower.length; i++) {
    const s = i < lower.length ? stepOf(lower.charCodeAt(i - 1), lower.charCodeAt(i)) : null;
    const continues = s !== null && Math.abs(s) <= 2 && (i - start === 1 || s === step);
    if (continues) {
      step = s;
      continue;
    }
    if (i - start >= min) runs.push([start, i]);
    // The breaking pair may itself start a new run.
    if (s !== null && Math.abs(s) <= 2) {
      start = i - 1;
      step = s;
    } else {
      start = i;
      step = null;
    }
  }
  return runs;
}

function findDigitRun(secret: string): string | null {
  for (const [a, b] of findRuns(secret, 4)) {
    if (isDigit(secret.charCodeAt(a))) return secret.slice(a, b);
  }
  return null;
}

function isSingleRun(lower: string): boolean {
  const runs = findRuns(lower, 2);
  return runs.length === 1 && runs[0]![0] === 0 && runs[0]![1] === lower.length;
}

/** The shortest unit the whole string is a repetition of ("abab" → "ab"), or null. */
function repeatedUnit(s: string): string | null {
  for (let len = 1; len <= s.length / 2; len++) {
    if (s.length % len !== 0) continue;
    const unit = s.slice(0, len);
    if (unit.repeat(s.length / len) === s) return unit;
  }
  return null;
}

function poolSize(secret: string): number {
  let lower = false;
  let upper = false;
  let digit = false;
  let symbol = false;
  let other = false;
  for (let i = 0; i < secret.length; i++) {
    const c = secret.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
    else if (c >= 48 && c <= 57) digit = true;
    else if (c < 128) symbol = true;
    else other = true;
  }
  return (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0) + (other ? 100 : 0);
}

/**
 * Guessability in bits: each guessable part costs about one guess from its
 * family, the remaining characters log2(pool) each. Mapped to 0..4 at
 * 28/40/60/80 bits (an offline attacker on an MD5 HA1 tests ~10^10/s).
 */
function estimateScore(secret: string, ext: string, nameWords: string[]): number {
  if (secret.length === 0) return 0;
  const lower = secret.toLowerCase();
  const norm = deLeet(lower, 'i');
  const covered = new Uint8Array(secret.length);
  let bits = 0;

  const cover = (start: number, end: number): boolean => {
    for (let i = start; i < end; i++) if (covered[i]) return false;
    covered.fill(1, start, end);
    return true;
  };

  const unit = repeatedUnit(lower);
  const perChar = Math.log2(poolSize(secret));
  if (unit !== null) {
    // The whole thing is one unit repeated: only the unit and the count are secret.
    return bitsToScore(estimateBitsPlain(unit.length, perChar) + Math.log2(secret.length / unit.length));
  }

  for (const word of [ext, reverse(ext), ...nameWords]) {
    if (word.length < 2) continue;
    for (let at = lower.indexOf(word); at >= 0; at = lower.indexOf(word, at + 1)) {
      if (cover(at, at + word.length)) bits += 2;
    }
  }
  for (const word of COMMON_WORDS_FOR_SUBSTRING) {
    if (word.length > secret.length) continue;
    for (const hay of [lower, norm]) {
      for (let at = hay.indexOf(word); at >= 0; at = hay.indexOf(word, at + 1)) {
        if (cover(at, at + word.length)) bits += LOG2_COMMON + 1;
      }
    }
  }
  for (const [a, b] of findRuns(lower, 3)) {
    let free = true;
    for (let i = a; i < b; i++) if (covered[i]) free = false;
    if (free && cover(a, b)) bits += Math.log2(isDigit(lower.charCodeAt(a)) ? 10 : 26) + Math.log2(b - a) + 1;
  }
  let plain = 0;
  for (let i = 0; i < secret.length; i++) if (!covered[i]) plain++;
  bits += estimateBitsPlain(plain, perChar);
  return bitsToScore(bits);
}

function estimateBitsPlain(chars: number, perChar: number): number {
  return chars * perChar;
}

function bitsToScore(bits: number): number {
  if (bits < 28) return 0;
  if (bits < 40) return 1;
  if (bits < 60) return 2;
  if (bits < 80) return 3;
  return 4;
}
