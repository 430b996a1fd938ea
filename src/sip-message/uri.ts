// SIP/SIPS URI grammar (RFC 3261 §19.1, §25.1). Other schemes (tel, im, ...)
// are kept opaque with only the scheme set, which is all a SIP element needs
// to decide "416 Unsupported URI Scheme".
import type { SipUri } from './types.js';
import { SipParseError } from './errors.js';
import { setOwnField } from './own-field.js';

// Character classes, one bit each, indexed by char code (< 128).
const ALNUM = 1;
const MARK = 2; // - _ . ! ~ * ' ( )
const USER_UNRES = 4; // & = + $ , ; ? /
const PASS_EXTRA = 8; // & = + $ ,
const PARAM_UNRES = 16; // [ ] / : & + $
const HNV_UNRES = 32; // [ ] / ? : + $
const HOST = 64; // alnum - .

const CLS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  let b = 0;
  if (/[A-Za-z0-9]/.test(ch)) b |= ALNUM | HOST;
  if ("-_.!~*'()".includes(ch)) b |= MARK;
  if ('&=+$,;?/'.includes(ch)) b |= USER_UNRES;
  if ('&=+$,'.includes(ch)) b |= PASS_EXTRA;
  if ('[]/:&+$'.includes(ch)) b |= PARAM_UNRES;
  if ('[]/?:+$'.includes(ch)) b |= HNV_UNRES;
  if (ch === '-' || ch === '.') b |= HOST;
  CLS[c] = b;
}
const UNRESERVED = ALNUM | MARK;

function fail(msg: string): never {
  throw new SipParseError(msg, 'uri');
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Validate `s[start,end)` against a character class (plus `escaped` = "%"
 * HEX HEX) and return it unescaped. Unescaping goes through bytes so that
 * escaped UTF-8 sequences come back as the right characters.
 */
function unescapeChecked(s: string, start: number, end: number, allowed: number, what: string): string {
  let hasEsc = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end) fail(`bad escape in ${what}`);
      if (hexVal(s.charCodeAt(i + 1)) < 0 || hexVal(s.charCodeAt(i + 2)) < 0) fail(`bad escape in ${what}`);
      hasEsc = true;
      i += 2;
    } else if (c < 128 && (CLS[c]! & allowed) === 0) {
      // raw UTF-8 (c >= 128) is let through: RFC 3261 only allows escaped octets here,
      // but many deployed UAs send it, and it cannot be confused with syntax
      fail(`invalid character ${JSON.stringify(s[i])} in ${what}`);
    }
  }
  if (!hasEsc) return s.slice(start, end);
  const bytes: number[] = [];
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 128) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isSchemeChar(c: number, first: boolean): boolean {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (first) return alpha;
  return alpha || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/** Parse host [":" port] in s[start,end). IPv6 references lose their brackets. */
function parseHostPort(s: string, start: number, end: number): { host: string; port?: number } {
  if (start >= end) fail('missing host');
  let host: string;
  let i: number;
  if (s.charCodeAt(start) === 0x5b) {
    const close = s.indexOf(']', start);
    if (close < 0 || close >= end) fail('unterminated IPv6 reference');
    host = s.slice(start + 1, close).toLowerCase();
    if (host.length < 2 || host.indexOf(':') < 0) fail('bad IPv6 reference');
    for (let k = 0; k < host.length; k++) {
      const c = host.charCodeAt(k);
      if (!(hexVal(c) >= 0 || c === 0x3a || c === 0x2e)) fail('bad IPv6 reference');
    }
    i = close + 1;
  } else {
    i = start;
    while (i < end && s.charCodeAt(i) !== 0x3a) {
      const c = s.charCodeAt(i);
      if (c >= 128 || (CLS[c]! & HOST) === 0) fail(`invalid character ${JSON.stringify(s[i])} in host`);
      i++;
    }
    if (i === start) fail('missing host');
    host = s.slice(start, i).toLowerCase();
    // hostname labels may not start or end with '-' (RFC 3261 §25.1 domainlabel)
    if (host.charCodeAt(0) === 0x2e || host.charCodeAt(0) === 0x2d || host.includes('..')) fail('bad hostname');
  }
  if (i === end) return { host };
  if (s.charCodeAt(i) !== 0x3a) fail('junk after host');
  const port = parsePort(s, i + 1, end);
  return { host, port };
}

function parsePort(s: string, start: number, end: number): number {
  if (start >= end || end - start > 5) fail('bad port');
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) fail('bad port');
    n = n * 10 + (c - 0x30);
  }
  if (n > 65535) fail('port out of range');
  return n;
}

/**
 * Parse `;name[=value]` parameters from s[start,end) into `into`. Used for
 * uri-parameters; names are lower-cased, values unescaped.
 */
function parseUriParams(s: string, start: number, end: number, into: Record<string, string | null>): void {
  let i = start;
  while (i < end) {
    // s[i] is ';'
    let j = s.indexOf(';', i + 1);
    if (j < 0 || j > end) j = end;
    const eq = s.indexOf('=', i + 1);
    const hasVal = eq >= 0 && eq < j;
    const nameEnd = hasVal ? eq : j;
    if (nameEnd === i + 1) fail('empty uri parameter name');
    const name = unescapeChecked(s, i + 1, nameEnd, UNRESERVED | PARAM_UNRES, 'uri parameter').toLowerCase();
    setOwnField(into, name, hasVal ? unescapeChecked(s, eq + 1, j, UNRESERVED | PARAM_UNRES, 'uri parameter') : null);
    i = j;
  }
}

function parseUriHeaders(s: string, start: number, end: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = start;
  while (i < end) {
    let j = s.indexOf('&', i);
    if (j < 0 || j > end) j = end;
    const eq = s.indexOf('=', i);
    if (eq < 0 || eq >= j || eq === i) fail('bad uri header');
    const name = unescapeChecked(s, i, eq, UNRESERVED | HNV_UNRES, 'uri header');
    setOwnField(out, name, unescapeChecked(s, eq + 1, j, UNRESERVED | HNV_UNRES, 'uri header'));
    i = j + 1;
  }
  return out;
}

/** Parse an absolute URI; sip/sips fully, any other scheme kept opaque. Throws SipParseError. */
export function parseUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon < 1) fail('missing URI scheme');
  for (let i = 0; i < colon; i++) if (!isSchemeChar(text.charCodeAt(i), i === 0)) fail('bad URI scheme');
  const scheme = text.slice(0, colon).toLowerCase();
  const len = text.length;
  for (let i = colon + 1; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) fail('invalid character in URI');
  }
  if (colon + 1 >= len) fail('empty URI');
  if (scheme !== 'sip' && scheme !== 'sips') {
    const uri: SipUri = { scheme, host: '', params: {}, opaque: true, raw: text };
    if (scheme === 'tel') {
      // tel: keep the subscriber number and its parameters (RFC 3966) so
      // routing code can read them without a second parser.
      const semi = text.indexOf(';', colon + 1);
      uri.user = text.slice(colon + 1, semi < 0 ? len : semi);
      if (semi >= 0) parseUriParams(text, semi, len, uri.params);
    }
    return uri;
  }

  const uri: SipUri = { scheme, host: '', params: {}, raw: text };
  let p = colon + 1;
  const at = text.indexOf('@', p);
  if (at >= 0) {
    // The user part may contain ';', '?' and '/' (user-unreserved), so the
    // first '@' — which may not appear unescaped in user, params or host —
    // ends userinfo.
    let pc = text.indexOf(':', p);
    if (pc < 0 || pc > at) pc = -1;
    const userEnd = pc < 0 ? at : pc;
    if (userEnd === p) fail('empty user');
    uri.user = unescapeChecked(text, p, userEnd, UNRESERVED | USER_UNRES, 'user');
    if (pc >= 0) uri.password = unescapeChecked(text, pc + 1, at, UNRESERVED | PASS_EXTRA, 'password');
    p = at + 1;
  }
  let hpEnd = p;
  if (text.charCodeAt(p) === 0x5b) {
    hpEnd = text.indexOf(']', p);
    if (hpEnd < 0) fail('unterminated IPv6 reference');
  }
  while (hpEnd < len) {
    const c = text.charCodeAt(hpEnd);
    if (c === 0x3b || c === 0x3f) break;
    hpEnd++;
  }
  const hp = parseHostPort(text, p, hpEnd);
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  let q = text.indexOf('?', hpEnd);
  if (q < 0) q = len;
  if (hpEnd < q) parseUriParams(text, hpEnd, q, uri.params);
  if (q < len) uri.headers = parseUriHeaders(text, q + 1, len);
  return uri;
}

function escapeSet(s: string, allowed: number): string {
  let ok = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CLS[c]! & allowed) === 0) {
      ok = false;
      break;
    }
  }
  if (ok) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 128 && (CLS[b]! & allowed) !== 0) out += String.fromCharCode(b);
    else out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}

/** Serialise a URI; escapes what the grammar requires. Opaque URIs come back as their raw text. */
export function formatUri(u: SipUri): string {
  if (u.opaque) return u.raw;
  let s = u.scheme + ':';
  if (u.user !== undefined) {
    s += escapeSet(u.user, UNRESERVED | USER_UNRES);
    if (u.password !== undefined) s += ':' + escapeSet(u.password, UNRESERVED | PASS_EXTRA);
    s += '@';
  }
  s += u.host.indexOf(':') >= 0 ? '[' + u.host + ']' : u.host;
  if (u.port !== undefined) s += ':' + u.port;
  for (const k in u.params) {
    const v = u.params[k];
    s += ';' + escapeSet(k, UNRESERVED | PARAM_UNRES);
    if (v !== null && v !== undefined) s += '=' + escapeSet(v, UNRESERVED | PARAM_UNRES);
  }
  if (u.headers) {
    let first = true;
    for (const k in u.headers) {
      s += (first ? '?' : '&') + escapeSet(k, UNRESERVED | HNV_UNRES) + '=' + escapeSet(u.headers[k]!, UNRESERVED | HNV_UNRES);
      first = false;
    }
  }
  return s;
}

/**
 * URI equality for the cases the stack needs (RFC 3261 §19.1.4): scheme,
 * user (case-sensitive), host (case-insensitive), port, and the
 * user/ttl/method/maddr/transport parameters when present in either.
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.opaque || b.opaque) return a.raw === b.raw;
  if (a.user !== b.user || a.password !== b.password || a.host !== b.host || a.port !== b.port) return false;
  for (const k of ['user', 'ttl', 'method', 'maddr', 'transport']) {
    const av = a.params[k];
    const bv = b.params[k];
    if ((av === undefined) !== (bv === undefined)) return false;
    if (av !== undefined && bv !== undefined && (av ?? '').toLowerCase() !== (bv ?? '').toLowerCase()) return false;
  }
  for (const k in a.params) {
    if (k in b.params && (a.params[k] ?? '').toLowerCase() !== (b.params[k] ?? '').toLowerCase()) return false;
  }
  return true;
}
