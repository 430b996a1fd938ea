// Header name normalisation and list splitting (RFC 3261 §7.3, §20).
// Names are stored lower-case in their long form so every layer above can
// compare with === and never think about compact forms or case.

/** Compact forms (RFC 3261 §7.3.3 and the extension RFCs that define them). */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event', // RFC 6665
  u: 'allow-events', // RFC 6665
  r: 'refer-to', // RFC 3515
  b: 'referred-by', // RFC 3892
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
  a: 'accept-contact', // RFC 3841
  j: 'reject-contact', // RFC 3841
  d: 'request-disposition', // RFC 3841
  n: 'identity-info', // RFC 4474
};

/**
 * Headers whose grammar is a comma-separated list (`#element`), so several
 * values may share one line and getAll() splits them (RFC 3261 §7.3.1).
 * Headers such as WWW-Authenticate also contain commas but inside a single
 * value, so they are deliberately absent.
 */
export const MULTI_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'path',
  'service-route',
  'allow',
  'allow-events',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
  'warning',
  'reply-to',
  'p-asserted-identity',
  'p-preferred-identity',
  'security-client',
  'security-server',
  'security-verify',
  'accept-contact',
  'reject-contact',
  'request-disposition',
]);

/** Headers that may appear at most once in a message (RFC 3261 §7.3, table in §20). */
export const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'min-expires',
  'date',
  'mime-version',
  'retry-after',
  'timestamp',
  'organization',
  'priority',
  'subject',
  'user-agent',
  'server',
]);

// Names seen on nearly every packet, matched in place (no slice, no hash) by
// length and a case-folding compare; everything else goes through a cache.
const COMMON = [
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'user-agent',
  'server',
  'accept',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'event',
  'subject',
  'date',
  'timestamp',
  'session-expires',
  'min-se',
  'p-asserted-identity',
  'allow-events',
  'organization',
];
const BY_LENGTH: string[][] = [];
for (const n of COMMON) (BY_LENGTH[n.length] ??= []).push(n);

const nameCache = new Map<string, string>();

/**
 * Canonical header name of `text[start,end)`: lower-case, compact form
 * expanded (RFC 3261 §7.3.1: names are case-insensitive; §7.3.3 compact forms).
 */
export function canonicalHeaderNameAt(text: string, start: number, end: number): string {
  const len = end - start;
  if (len === 1) {
    const c = text.charCodeAt(start) | 0x20;
    const long = COMPACT_FORMS[String.fromCharCode(c)];
    if (long !== undefined) return long;
  }
  const bucket = BY_LENGTH[len];
  if (bucket !== undefined) {
    // OR 0x20 folds A-Z to a-z and leaves '-' and digits alone; the only
    // token char it maps elsewhere is '_' (to DEL), which no name contains
    for (let b = 0; b < bucket.length; b++) {
      const cand = bucket[b]!;
      let k = 0;
      while (k < len && (text.charCodeAt(start + k) | 0x20) === cand.charCodeAt(k)) k++;
      if (k === len) return cand;
    }
  }
  return canonicalHeaderName(text.slice(start, end));
}

/** Canonical header name: lower-case, compact form expanded. */
export function canonicalHeaderName(raw: string): string {
  let n = nameCache.get(raw);
  if (n !== undefined) return n;
  const lower = raw.toLowerCase();
  n = lower.length === 1 ? (COMPACT_FORMS[lower] ?? lower) : lower;
  if (nameCache.size < 4096) nameCache.set(raw, n);
  return n;
}

/**
 * Split a `#element` list on commas that are outside quoted strings and
 * outside `<...>` (a URI inside angle brackets may carry commas in its
 * headers part). Elements are trimmed; empty elements are dropped, as
 * RFC 3261 §7.3.1 allows `a,,b` only as a sender error we tolerate.
 */
export function splitHeaderList(value: string): string[] {
  // fast path: no comma at all
  if (value.indexOf(',') < 0) {
    const t = value.trim();
    return t === '' ? [] : [t];
  }
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c)
        i++; // quoted-pair: skip the escaped char
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) {
      inQuote = true;
    } else if (c === 0x3c) {
      inAngle = true;
    } else if (c === 0x3e) {
      inAngle = false;
    } else if (c === 0x2c && !inAngle) {
      const part = value.slice(start, i).trim();
      if (part !== '') out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}
