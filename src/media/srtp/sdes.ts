// SDES (RFC 4568): a=crypto:<tag> <suite> inline:<base64 key||salt>[|lifetime][|MKI:len]
// Palisade accepts the AES_CM_128 suites with one inline key and no MKI, and
// makes fresh random keys for what it sends.
import { randomBytes } from 'node:crypto';
import { SUPPORTED_SUITES, type SrtpSuite } from './srtp-context.js';

export interface CryptoAttribute {
  tag: number;
  suite: string;
  /** key||salt; null when the key parameters are not one plain inline key */
  keySalt: Buffer | null;
  /** the session parameters (after the key params), kept for reference */
  sessionParams: string[];
}

/** the value after "a=crypto:", or null when it is not a crypto attribute */
export function parseCrypto(value: string): CryptoAttribute | null {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3) return null;
  const tag = Number(parts[0]);
  if (!/^[0-9]{1,9}$/.test(parts[0]!) || !Number.isInteger(tag)) return null;
  const suite = parts[1]!;
  const keyParams = parts[2]!;
  let keySalt: Buffer | null = null;
  // one key only (a second key param joined by ";" is not supported) and no MKI
  if (keyParams.startsWith('inline:') && !keyParams.includes(';')) {
    const fields = keyParams.slice(7).split('|');
    const b64 = fields[0]!;
    const hasMki = fields.slice(1).some((f) => f.includes(':'));
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(b64) && !hasMki) {
      const raw = Buffer.from(b64, 'base64');
      if (raw.length === 30) keySalt = raw;
    }
  }
  return { tag, suite, keySalt, sessionParams: parts.slice(3) };
}

export function isSupportedSuite(suite: string): suite is SrtpSuite {
  return (SUPPORTED_SUITES as readonly string[]).includes(suite);
}

/** The first offered line Palisade can use (RFC 4568 §7.1.1: the answerer picks one) */
export function chooseCrypto(values: string[]): (CryptoAttribute & { suite: SrtpSuite; keySalt: Buffer }) | null {
  for (const v of values) {
    const c = parseCrypto(v);
    // session parameters (UNENCRYPTED_SRTP, KDR...) change the transform: not accepted
    if (c?.keySalt && isSupportedSuite(c.suite) && c.sessionParams.length === 0) return c as CryptoAttribute & { suite: SrtpSuite; keySalt: Buffer };
  }
  return null;
}

export function newKeySalt(): Buffer {
  return randomBytes(30);
}

export function formatCrypto(tag: number, suite: SrtpSuite, keySalt: Buffer): string {
  return `${tag} ${suite} inline:${keySalt.toString('base64')}`;
}
