// HA1 = H(username ":" realm ":" password) (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2).
// Secrets are stored only as HA1, one per algorithm.
import { createHash } from 'node:crypto';

// The algorithm names are core/'s: config's auth section names them too, and
// config (rank 3) cannot import sip/ (docs/architecture.md, Layers).
import type { DigestAlgorithm } from '../../core/auth.js';
export type { DigestAlgorithm };

export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(`${username}:${realm}:${password}`)
    .digest('hex');
}
