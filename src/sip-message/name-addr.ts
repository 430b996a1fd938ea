// From / To / Contact / Route / Record-Route values (RFC 3261 §20.10, §20.20,
// §20.39, §25.1):
//   ( name-addr / addr-spec ) *( SEMI generic-param )
//   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
//   display-name = *(token LWS) / quoted-string
import type { NameAddr, SipUri } from './types.js';
import { SipParseError } from './errors.js';
import { formatUri, parseUri } from './uri.js';
import { splitHeaderList } from './header-names.js';
import { setOwnField } from './own-field.js';

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")  (RFC 3261 §25.1)
const TOKEN = new Uint8Array(128);
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** 1 to `max` decimal digits and nothing else (Content-Length, Max-Forwards, Expires) */
export function isDigits(v: string, max: number): boolean {
  if (v.length === 0 || v.length > max) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

function fail(msg: string, header?: string): never {
  throw new SipParseError(msg, header);
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Read a quoted-string starting at s[i] === '"'. Returns the unescaped
 * content and the index after the closing quote.
 */
export function readQuoted(s: string, i: number): { text: string; end: number } {
  let out = '';
  let from = i + 1;
  for (let k = i + 1; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x5c) {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (k + 1 >= s.length) break;
      const n = s.charCodeAt(k + 1);
      if (n === 0x0a || n === 0x0d) fail('bad quoted-pair');
      out += s.slice(from, k) + s[k + 1];
      k++;
      from = k + 1;
    } else if (c === 0x22) {
      return { text: out + s.slice(from, k), end: k + 1 };
    }
  }
  return fail('unterminated quoted string');
}

/**
 * Parse generic-params `;name[=value]` from s starting at i (which must be at
 * ';' or end, after optional whitespace). Values may be tokens, host or
 * quoted-strings; quoted values are stored unquoted.
 */
export function parseGenericParams(s: string, i: number, into: Record<string, string | null>, header?: string): void {
  const len = s.length;
  while (i < len) {
    while (i < len && isWs(s.charCodeAt(i))) i++;
    if (i >= len) return;
    if (s.charCodeAt(i) !== 0x3b) fail('junk after value', header);
    i++;
    while (i < len && isWs(s.charCodeAt(i))) i++;
    const ns = i;
    while (i < len && isTokenChar(s.charCodeAt(i))) i++;
    if (i === ns) fail('empty parameter name', header);
    const name = s.slice(ns, i).toLowerCase();
    while (i < len && isWs(s.charCodeAt(i))) i++;
    if (i < len && s.charCodeAt(i) === 0x3d) {
      i++;
      while (i < len && isWs(s.charCodeAt(i))) i++;
      if (i < len && s.charCodeAt(i) === 0x22) {
        const q = readQuoted(s, i);
        setOwnField(into, name, q.text);
        i = q.end;
      } else {
        // gen-value = token / host / quoted-string; host adds ':' '[' ']' for IPv6
        const vs = i;
        while (i < len) {
          const c = s.charCodeAt(i);
          if (!(isTokenChar(c) || c === 0x3a || c === 0x5b || c === 0x5d)) break;
          i++;
        }
        if (i === vs) fail('empty parameter value', header);
        setOwnField(into, name, s.slice(vs, i));
      }
    } else {
      setOwnField(into, name, null);
    }
  }
}

/** The `*` of `Contact: *` (RFC 3261 §10.2.2), represented as a NameAddr with this URI. */
export const WILDCARD_URI: SipUri = Object.freeze({ scheme: '*', host: '*', params: {}, opaque: true, raw: '*' }) as SipUri;

export function isWildcard(na: NameAddr): boolean {
  return na.uri.scheme === '*';
}

/** Parse one name-addr / addr-spec with header params. Throws SipParseError. */
export function parseNameAddr(value: string, header?: string): NameAddr {
  const s = value;
  const len = s.length;
  let i = 0;
  while (i < len && isWs(s.charCodeAt(i))) i++;
  if (i >= len) fail('empty address', header);
  let displayName: string | undefined;
  let uriText: string;

  if (s.charCodeAt(i) === 0x2a) {
    let k = i + 1;
    while (k < len && isWs(s.charCodeAt(k))) k++;
    if (k === len) return { uri: WILDCARD_URI, params: {}, raw: value };
  }

  if (s.charCodeAt(i) === 0x22) {
    const q = readQuoted(s, i);
    displayName = q.text;
    i = q.end;
    while (i < len && isWs(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 0x3c) fail('expected < after display name', header);
  }

  const lt = s.charCodeAt(i) === 0x3c ? i : displayName === undefined ? findLt(s, i) : -1;
  if (lt >= 0) {
    if (lt > i) {
      // display-name = *(token LWS): every word must be a token (a comma
      // makes it invalid — RFC 4475 §3.1.2.17 baddn)
      const dn = s.slice(i, lt).trim();
      let k = 0;
      for (; k < dn.length; k++) {
        const c = dn.charCodeAt(k);
        if (!isTokenChar(c) && !isWs(c)) fail('invalid display name', header);
      }
      displayName = dn.replace(/[ \t]+/g, ' ');
    }
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) fail('missing >', header);
    uriText = s.slice(lt + 1, gt);
    // no LWS is allowed inside LAQUOT addr-spec RAQUOT (RFC 4475 §3.1.2.16 badaspec)
    i = gt + 1;
  } else {
    // addr-spec without <>: the URI ends at the first ';' (those params are
    // header params), and it may not contain ',', '?' or ';' of its own
    // (RFC 3261 §20.10; RFC 4475 §3.1.2.14 regbadct).
    const start = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c === 0x3b || isWs(c)) break;
      if (c === 0x3f || c === 0x2c) fail('URI with ? or , must be enclosed in <>', header);
      i++;
    }
    uriText = s.slice(start, i);
  }
  const uri = parseUri(uriText);
  const params: Record<string, string | null> = {};
  parseGenericParams(s, i, params, header);
  const na: NameAddr = { uri, params, raw: value };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/** index of '<' that starts a name-addr after a token display name, or -1 for addr-spec form */
function findLt(s: string, i: number): number {
  const lt = s.indexOf('<', i);
  if (lt < 0) return -1;
  // "sip:a@b;x=<" cannot occur legally; but a ':' before '<' means we are
  // already inside an addr-spec, so the '<' is junk, not a LAQUOT.
  const colon = s.indexOf(':', i);
  if (colon >= 0 && colon < lt) return -1;
  return lt;
}

/**
 * Parse a comma-separated list (Contact, Route, Record-Route). `Contact: *`
 * yields one wildcard element (see isWildcard).
 */
export function parseNameAddrList(value: string, header?: string): NameAddr[] {
  const parts = splitHeaderList(value);
  if (parts.length === 0) fail('empty address list', header);
  const out: NameAddr[] = new Array(parts.length);
  for (let k = 0; k < parts.length; k++) out[k] = parseNameAddr(parts[k]!, header);
  return out;
}

function quoteIfNeeded(dn: string): string {
  let plain = dn.length > 0;
  for (let k = 0; k < dn.length && plain; k++) {
    const c = dn.charCodeAt(k);
    if (!isTokenChar(c) && c !== 0x20) plain = false;
  }
  if (plain) return dn;
  return '"' + dn.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

/** Serialise a name-addr; always uses the <> form so URI params stay with the URI. */
export function formatNameAddr(na: NameAddr): string {
  if (isWildcard(na)) return '*';
  let s = na.displayName !== undefined && na.displayName !== '' ? quoteIfNeeded(na.displayName) + ' ' : '';
  s += '<' + formatUri(na.uri) + '>';
  for (const k in na.params) {
    const v = na.params[k];
    if (v === null || v === undefined) s += ';' + k;
    else s += ';' + k + '=' + (isToken(v) || /^[\w.:[\]-]+$/.test(v) ? v : '"' + v.replace(/["\\]/g, (m) => '\\' + m) + '"');
  }
  return s;
}
