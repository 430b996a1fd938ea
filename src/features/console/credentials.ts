// Administrator credentials: passwords hashed with scrypt (node:crypto;
// RFC 7914, N=2^15, r=8, p=1, 16-byte salt), API tokens of which only a
// SHA-256 is stored, and TOTP second factors (RFC 6238, otpauth).
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TOTP } from 'otpauth';

// loaded at the first second-factor use (CommonJS build, synchronously): a server without the console does not carry it
const require = createRequire(import.meta.url);
const otp = (): typeof import('otpauth') => require('otpauth') as typeof import('otpauth');

const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;
// scrypt with N=2^15, r=8 needs 32 MiB; Node's default cap is exactly that
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** "scrypt$N$r$p$salt$hash" (base64url) */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** a hash no password matches, verified when the account is unknown so both answers take as long */
export const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEYLEN).toString('base64url')}`;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await scryptAsync(password, Buffer.from(parts[4]!, 'base64url'), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A new API token: "pal_ID_SECRET"; the caller stores only sha256(SECRET) under ID. */
export function newToken(): { id: string; secret: string; token: string; hash: string } {
  const id = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `pal_${id}_${secret}`, hash: sha256(secret) };
}

/** splits "pal_ID_SECRET"; null when it is not of that form */
export function parseToken(token: string): { id: string; secret: string } | null {
  if (!token.startsWith('pal_') || token.length > 128) return null;
  const id = token.slice(4, 16);
  if (token[16] !== '_' || !/^[A-Za-z0-9_-]{12}$/.test(id)) return null;
  return { id, secret: token.slice(17) };
}

/** constant-time compare of two hex digests */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export function newTotpSecret(): string {
  return new (otp().Secret)({ size: 20 }).base32;
}

function totp(secret: string, account: string): TOTP {
  const { Secret, TOTP } = otp();
  return new TOTP({ issuer: 'Palisade', label: account, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
}

export function totpUri(secret: string, account: string): string {
  return totp(secret, account).toString();
}

/** RFC 6238 with one step of clock drift either way */
export function checkTotp(secret: string, account: string, code: string): boolean {
  if (!/^[0-9]{6}$/.test(code)) return false;
  return totp(secret, account).validate({ token: code, window: 1 }) !== null;
}

export function totpNow(secret: string, account: string): string {
  return totp(secret, account).generate();
}
