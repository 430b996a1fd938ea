// ISNULL(value) — 1 when the value is empty, else 0. EXISTS(value) the reverse.
import type { DialplanFunction } from './func-types.js';

export const funcIsNull: DialplanFunction = {
  name: 'ISNULL',
  synopsis: 'ISNULL(value): 1 if empty, else 0',
  read: (_env, raw) => (raw === '' ? '1' : '0'),
};

export const funcExists: DialplanFunction = {
  name: 'EXISTS',
  synopsis: 'EXISTS(value): 1 if not empty, else 0',
  read: (_env, raw) => (raw === '' ? '0' : '1'),
};
