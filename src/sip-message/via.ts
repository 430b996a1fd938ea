// Via header values (RFC 3261 §20.42, §25.1):
//   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
//   sent-protocol = protocol-name SLASH protocol-version SLASH transport
//   sent-by       = host [ COLON port ]
// SLASH, COLON and SEMI all allow surrounding whitespace (SWS), which real
// torture messages use (RFC 4475 §3.1.1.1 wsinv).
import type { Via } from './types.js';
import { SipParseError } from './errors.js';
import { isTokenChar, parseGenericParams } from './name-addr.js';
import { splitHeaderList } from './header-names.js';

function fail(msg: string): never {
  throw new SipParseError(msg, 'via');
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

function readToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/** Parse one via-parm. Throws SipParseError. */
export function parseVia(value: string): Via {
  const s = value;
  let i = skipWs(s, 0);
  let e = readToken(s, i);
  if (e === i) fail('missing protocol name');
  const name = s.slice(i, e);
  i = skipWs(s, e);
  if (s.charCodeAt(i) !== 0x2f) fail('expected / in sent-protocol');
  i = skipWs(s, i + 1);
  e = readToken(s, i);
  if (e === i) fail('missing protocol version');
  const version = s.slice(i, e);
  i = skipWs(s, e);
  if (s.charCodeAt(i) !== 0x2f) fail('expected / in sent-protocol');
  i = skipWs(s, i + 1);
  e = readToken(s, i);
  if (e === i) fail('missing transport');
  const transport = s.slice(i, e).toUpperCase();
  i = e;
  if (!isWs(s.charCodeAt(i))) fail('expected LWS before sent-by');
  i = skipWs(s, i);

  // sent-by host: IPv6 reference or hostname / IPv4
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0) fail('unterminated IPv6 reference');
    host = s.slice(i + 1, close).toLowerCase();
    if (host.indexOf(':') < 0) fail('bad IPv6 reference');
    for (let k = 0; k < host.length; k++) {
      const c = host.charCodeAt(k);
      const hex = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
      if (!hex && c !== 0x3a && c !== 0x2e) fail('bad IPv6 reference');
    }
    i = close + 1;
  } else {
    const hs = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      const ok = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d || c === 0x2e;
      if (!ok) break;
      i++;
    }
    if (i === hs) fail('missing sent-by host');
    host = s.slice(hs, i).toLowerCase();
  }
  const via: Via = { protocol: name.toUpperCase() + '/' + version, transport, host, params: {}, raw: value };
  let j = skipWs(s, i);
  if (s.charCodeAt(j) === 0x3a) {
    j = skipWs(s, j + 1);
    let n = 0;
    const ps = j;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      j++;
    }
    if (j === ps || j - ps > 5 || n > 65535) fail('bad sent-by port');
    via.port = n;
    i = j;
  }
  parseGenericParams(s, i, via.params, 'via');
  const b = via.params['branch'];
  if (b !== undefined) {
    if (b === null || b === '') fail('empty branch');
    via.branch = b;
  }
  return via;
}

/** Parse every via-parm of a (possibly comma-joined) Via value. */
export function parseViaList(value: string): Via[] {
  const parts = splitHeaderList(value);
  if (parts.length === 0) fail('empty Via');
  return parts.map(parseVia);
}

/** Serialise a Via (params in insertion order; flag params without '='). */
export function formatVia(v: Via): string {
  let s = v.protocol + '/' + v.transport + ' ' + (v.host.indexOf(':') >= 0 ? '[' + v.host + ']' : v.host);
  if (v.port !== undefined) s += ':' + v.port;
  for (const k in v.params) {
    const p = v.params[k];
    s += p === null || p === undefined ? ';' + k : ';' + k + '=' + p;
  }
  return s;
}
