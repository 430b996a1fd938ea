// LEN(string) — its length in characters.
import type { DialplanFunction } from './func-types.js';

export const funcLen: DialplanFunction = {
  name: 'LEN',
  synopsis: 'LEN(string): the length of the string',
  read: (_env, raw) => String([...raw].length),
};
