// Digest access authentication for SIP: RFC 2617, RFC 7616 and RFC 8760
// (MD5 and SHA-256, qop=auth, optional qop=auth-int, optional RFC 2069
// responses without qop). Server side only: issue challenges, verify
// Authorization / Proxy-Authorization values.
//
// Security properties the callers rely on:
// - an unknown user costs the same work as a known one (digest against a
//   dummy HA1) and only differs in the returned reason, which callers use for
//   logging and never for the answer on the wire;
// - secrets, HA1s and full credential values are never logged or thrown;
// - comparisons use crypto.timingSafeEqual.
import crypto, { createHash, timingSafeEqual } from 'node:crypto';
import type { DigestAlgorithm } from './ha1.js';
import { NonceManager, NonceCountTracker } from './nonce.js';
import { parseAuthHeader } from '../../sip-message/auth-header.js';
import { DigestUriRule, type ServerNames } from './digest-uri.js';

export type DigestFailure = 'missing' | 'malformed' | 'unknown-user' | 'bad-password' | 'stale' | 'replay' | 'realm' | 'uri-mismatch' | 'algorithm';

export type DigestResult = { ok: true; user: string } | { ok: false; reason: DigestFailure };

export interface Ha1Set {
  md5?: string;
  sha256?: string;
}

export interface DigestAuthenticatorOptions {
  realm: string;
  /** offered in this order (RFC 8760 §2.4: most preferred first); default SHA-256 then MD5 */
  algorithms?: DigestAlgorithm[];
  /** default 300 s */
  nonceLifetimeSec?: number;
  lookupHa1: (user: string) => Ha1Set | undefined;
  /** epoch ms */
  clock?: () => number;
  /** accept RFC 2069 responses (no qop, no nc): needed only by very old phones */
  allowNoQop?: boolean;
  /** opaque value to send and require back unchanged (RFC 7616 §3.3); none when absent */
  opaque?: string;
  /** bound on nonces whose nonce-count is tracked (default 200,000) */
  maxTrackedNonces?: number;
  /**
   * this server's names and ports: a digest-uri naming the server itself is
   * accepted for every method (digest-uri.ts). Without it only the
   * Request-URI itself is.
   */
  server?: ServerNames;
}

export interface VerifyOptions {
  proxy: boolean;
  requestUri: string;
  /** message body, for qop=auth-int */
  body?: Buffer;
}

const HASH_NAME: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };
const EMPTY = Buffer.alloc(0);

// one-shot hashing (node >= 20.12) creates no Hash object: ~0.4 µs against ~1 µs per hash
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string | Buffer, enc: 'hex') => string }).hash;

function h(alg: string, data: string | Buffer): string {
  return oneShot ? oneShot(alg, data, 'hex') : createHash(alg).update(data).digest('hex');
}

/**
 * The request-digest (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1):
 * with qop:    KD(HA1, nonce:nc:cnonce:qop:HA2)
 * without qop: KD(HA1, nonce:HA2)                      (RFC 2069)
 * HA2 = H(method:uri), or H(method:uri:H(body)) for auth-int.
 */
export function computeDigestResponse(p: {
  algorithm: DigestAlgorithm;
  ha1: string;
  method: string;
  uri: string;
  nonce: string;
  nc?: string;
  cnonce?: string;
  qop?: string;
  body?: Buffer;
}): string {
  const alg = HASH_NAME[p.algorithm];
  const a2 = p.qop === 'auth-int' ? `${p.method}:${p.uri}:${h(alg, p.body ?? EMPTY)}` : `${p.method}:${p.uri}`;
  const ha2 = h(alg, a2);
  const data = p.qop ? `${p.ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}` : `${p.ha1}:${p.nonce}:${ha2}`;
  return h(alg, data);
}

function parseAlgorithm(v: string | undefined): DigestAlgorithm | undefined {
  // absent means MD5 (RFC 2617 §3.2.1); token compared case-insensitively
  if (v === undefined) return 'MD5';
  const u = v.toUpperCase();
  if (u === 'MD5') return 'MD5';
  if (u === 'SHA-256') return 'SHA-256';
  return undefined;
}

/** nc is exactly 8 hex digits (RFC 7616 §3.4) */
function parseNc(v: string): number {
  if (v.length !== 8) return -1;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const c = v.charCodeAt(i) | 0x20;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

function safeEqualHex(expected: string, got: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  // compare equal lengths always, so a wrong-length answer costs the same
  const b = got.length === expected.length ? Buffer.from(got.toLowerCase(), 'latin1') : Buffer.alloc(a.length);
  return timingSafeEqual(a, b) && got.length === expected.length;
}

export class DigestAuthenticator {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  private readonly nonces: NonceManager;
  private readonly counts: NonceCountTracker;
  private readonly lookupHa1: (user: string) => Ha1Set | undefined;
  private readonly clock: () => number;
  private readonly allowNoQop: boolean;
  private readonly opaque: string | undefined;
  private readonly uriRule: DigestUriRule;
  // unknown users are checked against these so they cost the same as real ones
  private readonly dummyHa1: Record<DigestAlgorithm, string>;

  constructor(opts: DigestAuthenticatorOptions) {
    if (opts.realm === '' || /["\\\r\n]/.test(opts.realm)) throw new Error('PAL_ERR_AUTH_REALM: realm must be non-empty and contain no quote, backslash or line break');
    if (opts.opaque !== undefined && /["\\\r\n]/.test(opts.opaque)) throw new Error('PAL_ERR_AUTH_OPAQUE: opaque must contain no quote, backslash or line break');
    this.realm = opts.realm;
    this.algorithms = opts.algorithms && opts.algorithms.length > 0 ? [...opts.algorithms] : ['SHA-256', 'MD5'];
    const lifetime = opts.nonceLifetimeSec ?? 300;
    this.clock = opts.clock ?? Date.now;
    // A key of this process's own: a nonce is accepted only where it was
    // issued, where its nc record is. A key shared with other workers or nodes
    // would let credentials seen by one be replayed once through another
    // (nc=1 is new there); another process's nonce is stale here instead,
    // and the phone retries once with ours.
    this.nonces = new NonceManager({ realm: opts.realm, lifetimeSec: lifetime, clock: this.clock });
    this.counts = new NonceCountTracker(lifetime, opts.maxTrackedNonces);
    this.lookupHa1 = opts.lookupHa1;
    this.allowNoQop = opts.allowNoQop ?? false;
    this.opaque = opts.opaque;
    this.uriRule = new DigestUriRule(opts.server);
    this.dummyHa1 = { MD5: h('md5', `\u0000dummy:${this.realm}:\u0000`), 'SHA-256': h('sha256', `\u0000dummy:${this.realm}:\u0000`) };
  }

  /**
   * One challenge header per configured algorithm, most preferred first
   * (RFC 8760 §2.4), all carrying the same fresh nonce. Header names are the
   * message layer's lower-case long form.
   */
  challenge(opts: { stale?: boolean; proxy: boolean }): Array<[string, string]> {
    const name = opts.proxy ? 'proxy-authenticate' : 'www-authenticate';
    const nonce = this.nonces.issue();
    const tail = (this.opaque !== undefined ? `, opaque="${this.opaque}"` : '') + (opts.stale ? ', stale=true' : '');
    const out: Array<[string, string]> = [];
    for (const alg of this.algorithms) {
      out.push([name, `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${alg}, qop="auth"${tail}`]);
    }
    return out;
  }

  verify(method: string, authHeaderValue: string | undefined, opts: VerifyOptions): DigestResult {
    if (authHeaderValue === undefined || authHeaderValue === '') return fail('missing');
    let params: Record<string, string>;
    try {
      const parsed = parseAuthHeader(authHeaderValue);
      if (parsed.scheme.toLowerCase() !== 'digest') return fail('malformed');
      params = parsed.params;
    } catch {
      return fail('malformed');
    }
    const { username, realm, nonce, uri, response } = params;
    if (!username || realm === undefined || !nonce || !uri || !response) return fail('malformed');
    if (realm !== this.realm) return fail('realm');
    if (this.opaque !== undefined && params.opaque !== this.opaque) return fail('malformed');

    const algorithm = parseAlgorithm(params.algorithm);
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return fail('algorithm');

    const qop = params.qop;
    let nc = 0;
    if (qop !== undefined) {
      // we offer qop="auth"; auth-int costs nothing extra to accept (RFC 7616 §3.4.3)
      if (qop !== 'auth' && qop !== 'auth-int') return fail('malformed');
      if (!params.cnonce || params.nc === undefined) return fail('malformed');
      nc = parseNc(params.nc);
      if (nc <= 0) return fail('malformed');
    } else if (!this.allowNoQop) {
      return fail('malformed');
    }

    // RFC 2617 §3.2.2.5 as relaxed by RFC 3261 §22.4 item 6 (digest-uri.ts)
    if (!this.uriRule.accepts(uri, opts.requestUri)) return fail('uri-mismatch');

    const entry = this.lookupHa1(username);
    const realHa1 = entry === undefined ? undefined : algorithm === 'MD5' ? entry.md5 : entry.sha256;
    const expected = computeDigestResponse({
      algorithm,
      ha1: realHa1 ?? this.dummyHa1[algorithm],
      method,
      uri,
      nonce,
      nc: params.nc,
      cnonce: params.cnonce,
      qop,
      body: opts.body,
    });
    const match = safeEqualHex(expected, response);
    if (realHa1 === undefined) {
      // a user without an HA1 for this algorithm looks exactly like an unknown one
      return fail(entry === undefined ? 'unknown-user' : 'algorithm');
    }
    if (!match) return fail('bad-password');

    // Only now, with a proven password, does the nonce's freshness matter:
    // stale=true tells the client to retry silently with the new nonce
    // (RFC 7616 §3.3). A nonce we cannot verify (e.g. issued before a
    // restart, with another key) is treated the same way.
    const check = this.nonces.check(nonce);
    if (check.state !== 'fresh') return fail('stale');
    if (qop !== undefined) {
      const r = this.counts.accept(nonce, check.issuedAt, nc, Math.floor(this.clock() / 1000));
      if (r === 'replay') return fail('replay');
      if (r === 'forgotten') return fail('stale');
    }
    return { ok: true, user: username };
  }
}

function fail(reason: DigestFailure): DigestResult {
  return { ok: false, reason };
}

/**
 * The username and nonce a credentials header names (both public), for the
 * security log after a failed check, and a short hash that tells one guess
 * from the next (never the response itself). Undefined fields when the
 * header is absent or unreadable.
 */
export function credentialsIdentity(headerValue: string | undefined): { username?: string; nonce?: string; attempt?: string } {
  if (!headerValue) return {};
  try {
    const p = parseAuthHeader(headerValue).params;
    // one guess is one set of credentials: a retransmission repeats them byte for byte
    const attempt = createHash('sha256').update(headerValue).digest('base64url').slice(0, 16);
    return { username: p.username?.slice(0, 64), nonce: p.nonce?.slice(0, 64), attempt };
  } catch {
    return {};
  }
}
