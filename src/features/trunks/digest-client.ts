// Answering a digest challenge as a client (RFC 3261 §22.2–22.4, RFC 2617
// §3.2.2, RFC 7616 for SHA-256): what a trunk sends when the far end
// answers our REGISTER with 401 or our INVITE with 407. The trunk's secret
// never leaves this function except as the hashed response.
import { randomBytes } from 'node:crypto';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { formatCredentials, parseAuthHeader } from '../../sip-message/auth-header.js';
import { computeDigestResponse } from '../../sip/auth/digest.js';
import { computeHa1 } from '../../sip/auth/ha1.js';

export interface DigestChallenge {
  /** 'authorization' for a 401's WWW-Authenticate, 'proxy-authorization' for a 407's */
  header: 'authorization' | 'proxy-authorization';
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: 'MD5' | 'SHA-256';
  /** 'auth' when the server offered it (we never use auth-int) */
  qop?: 'auth';
}

/** the challenge of a 401/407 we can answer (SHA-256 preferred when offered), or null */
export function readChallenge(res: SipMessage): DigestChallenge | null {
  const proxy = res.status === 407;
  const values = res.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate');
  let best: DigestChallenge | null = null;
  for (const v of values) {
    let p: ReturnType<typeof parseAuthHeader>;
    try {
      p = parseAuthHeader(v);
    } catch {
      continue;
    }
    if (p.scheme.toLowerCase() !== 'digest') continue;
    const alg = (p.params.algorithm ?? 'MD5').toUpperCase();
    if (alg !== 'MD5' && alg !== 'SHA-256') continue;
    const realm = p.params.realm;
    const nonce = p.params.nonce;
    if (realm === undefined || nonce === undefined) continue;
    const qops = (p.params.qop ?? '').split(',').map((q) => q.trim());
    // RFC 3261 §22.4: a qop we do not support (only auth-int) is not answered with it
    if (p.params.qop !== undefined && !qops.includes('auth')) continue;
    const c: DigestChallenge = {
      header: proxy ? 'proxy-authorization' : 'authorization',
      realm,
      nonce,
      opaque: p.params.opaque,
      algorithm: alg,
      qop: qops.includes('auth') ? 'auth' : undefined,
    };
    if (!best || (c.algorithm === 'SHA-256' && best.algorithm === 'MD5')) best = c;
  }
  return best;
}

/** the Authorization / Proxy-Authorization value for `method uri`; nc counts the uses of this nonce */
export function digestCredentials(c: DigestChallenge, o: { method: string; uri: string; username: string; secret: string; nc: number }): string {
  const ha1 = computeHa1(c.algorithm, o.username, c.realm, o.secret);
  const nc = o.nc.toString(16).padStart(8, '0');
  const cnonce = c.qop ? randomBytes(8).toString('hex') : undefined;
  const response = computeDigestResponse({ algorithm: c.algorithm, ha1, method: o.method, uri: o.uri, nonce: c.nonce, nc, cnonce, qop: c.qop });
  return formatCredentials({
    username: o.username,
    realm: c.realm,
    nonce: c.nonce,
    uri: o.uri,
    response,
    algorithm: c.algorithm,
    opaque: c.opaque,
    qop: c.qop,
    nc: c.qop ? nc : undefined,
    cnonce,
  });
}
