// TOUPPER(string) / TOLOWER(string).
import type { DialplanFunction } from './func-types.js';

export const funcToUpper: DialplanFunction = {
  name: 'TOUPPER',
  synopsis: 'TOUPPER(string): the string in upper case',
  read: (_env, raw) => raw.toUpperCase(),
};

export const funcToLower: DialplanFunction = {
  name: 'TOLOWER',
  synopsis: 'TOLOWER(string): the string in lower case',
  read: (_env, raw) => raw.toLowerCase(),
};
