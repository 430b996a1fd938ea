// REGEX("regular expression" string) — 1 when the string matches, else 0
// (func_strings.c: the expression is double-quoted, then a space, then the string).
import type { DialplanFunction } from './func-types.js';

export const funcRegex: DialplanFunction = {
  name: 'REGEX',
  synopsis: 'REGEX("expression" string): 1 if the string matches the expression',
  read(_env, raw) {
    const m = /^\s*"((?:[^"\\]|\\.)*)"\s?([\s\S]*)$/.exec(raw);
    if (!m) return '0';
    try {
      return new RegExp(m[1]!).test(m[2]!) ? '1' : '0';
    } catch {
      return '0';
    }
  },
};
