// Digest authentication header values (RFC 3261 §20.7, §20.27, §20.28, §20.44,
// §25.1; RFC 7616 for the SHA-256 algorithms):
//   challenge / credentials = auth-scheme LWS auth-param *(COMMA auth-param)
//   auth-param              = auth-param-name EQUAL ( token / quoted-string )
import type { AuthParams } from './types.js';
import { SipParseError } from './errors.js';
import { isTokenChar, readQuoted } from './name-addr.js';
import { setOwnField } from './own-field.js';

function fail(msg: string): never {
  throw new SipParseError(msg, 'authorization');
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Parse a WWW-Authenticate / Authorization style value. Throws SipParseError. */
export function parseAuthHeader(value: string): AuthParams {
  const s = value;
  const len = s.length;
  let i = 0;
  while (i < len && isWs(s.charCodeAt(i))) i++;
  const ss = i;
  while (i < len && isTokenChar(s.charCodeAt(i))) i++;
  if (i === ss) fail('missing auth scheme');
  const scheme = s.slice(ss, i);
  // an ordinary object filled in header order: reads of its fields stay on V8's fast path (a
  // null-prototype object is a hash table, and copying it out cost more than the parse)
  const params: Record<string, string> = {};
  if (i < len && !isWs(s.charCodeAt(i))) fail('expected LWS after auth scheme');
  let first = true;
  for (;;) {
    while (i < len && isWs(s.charCodeAt(i))) i++;
    if (i >= len) break;
    if (!first) {
      if (s.charCodeAt(i) !== 0x2c) fail('expected , between auth params');
      i++;
      while (i < len && isWs(s.charCodeAt(i))) i++;
      if (i >= len) fail('trailing , in auth params');
    }
    first = false;
    const ns = i;
    while (i < len && isTokenChar(s.charCodeAt(i))) i++;
    if (i === ns) fail('empty auth param name');
    const name = s.slice(ns, i).toLowerCase();
    while (i < len && isWs(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 0x3d) fail(`auth param ${name} without value`);
    i++;
    while (i < len && isWs(s.charCodeAt(i))) i++;
    let v: string;
    if (s.charCodeAt(i) === 0x22) {
      const q = readQuoted(s, i);
      v = q.text;
      i = q.end;
    } else {
      const vs = i;
      // tokens, plus '/' and ':' which some UAs leave unquoted in uri=
      while (i < len) {
        const c = s.charCodeAt(i);
        if (!(isTokenChar(c) || c === 0x2f || c === 0x3a || c === 0x40)) break;
        i++;
      }
      if (i === vs) fail(`auth param ${name} has an empty value`);
      v = s.slice(vs, i);
    }
    // a repeated parameter is ambiguous — refuse rather than pick one (own fields only: not toString & co.)
    if (Object.hasOwn(params, name)) fail(`duplicate auth param ${name}`);
    // "__proto__" is a field like any other, not the object's prototype
    setOwnField(params, name, v);
  }
  return { scheme, params };
}

function quote(v: string): string {
  return '"' + v.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

// Parameters whose grammar is a bare token (RFC 3261 §25.1, RFC 7616 §3.3/§3.4).
const CHALLENGE_UNQUOTED = new Set(['algorithm', 'stale']);
const CREDENTIAL_UNQUOTED = new Set(['algorithm', 'nc', 'qop']);

function format(scheme: string, params: Record<string, string | undefined>, unquoted: Set<string>): string {
  const parts: string[] = [];
  for (const k in params) {
    const v = params[k];
    if (v === undefined) continue;
    parts.push(k + '=' + (unquoted.has(k) ? v : quote(v)));
  }
  return scheme + ' ' + parts.join(', ');
}

/**
 * WWW-Authenticate / Proxy-Authenticate value, e.g.
 * formatChallenge({ realm, nonce, algorithm: 'MD5', qop: 'auth' }).
 * qop is quoted here (qop-options), algorithm and stale are not.
 */
export function formatChallenge(params: Record<string, string | undefined>, scheme = 'Digest'): string {
  return format(scheme, params, CHALLENGE_UNQUOTED);
}

/** Authorization / Proxy-Authorization value (message-qop, nc, algorithm unquoted). */
export function formatCredentials(params: Record<string, string | undefined>, scheme = 'Digest'): string {
  return format(scheme, params, CREDENTIAL_UNQUOTED);
}
