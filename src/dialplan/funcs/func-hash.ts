// SHA1(data) as Asterisk's func_sha1, and SHA256(data) — hex digests, so a
// dialplan can compare a typed PIN with a stored hash instead of keeping
// PINs in clear in a database.
import { createHash } from 'node:crypto';
import type { DialplanFunction } from './func-types.js';

export const funcSha1: DialplanFunction = {
  name: 'SHA1',
  synopsis: 'SHA1(data): hex SHA-1 digest',
  read: (_env, raw) => createHash('sha1').update(raw).digest('hex'),
};

export const funcSha256: DialplanFunction = {
  name: 'SHA256',
  synopsis: 'SHA256(data): hex SHA-256 digest',
  read: (_env, raw) => createHash('sha256').update(raw).digest('hex'),
};
