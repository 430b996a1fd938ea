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

const nameCache = new Map<string, string>();

/**
 * Canonical header name: lower-case, compact form expanded. Cached because
 * the same few dozen spellings recur on every packet.
 */
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
      if (c === 0x5c) i++; // quoted-pair: skip the escaped char
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
