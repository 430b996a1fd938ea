// IF(expr?iftrue:iffalse) — chooses a value; the condition is true unless
// it is empty or 0 (as Asterisk's func_logic.c).
import type { DialplanFunction } from './func-types.js';

export const funcIf: DialplanFunction = {
  name: 'IF',
  synopsis: 'IF(condition?true-value:false-value)',
  read(_env, raw) {
    const q = raw.indexOf('?');
    const cond = (q < 0 ? raw : raw.slice(0, q)).trim();
    const rest = q < 0 ? '' : raw.slice(q + 1);
    const colon = rest.indexOf(':');
    const a = colon < 0 ? rest : rest.slice(0, colon);
    const b = colon < 0 ? '' : rest.slice(colon + 1);
    const t = cond !== '' && !(/^-?\d+(\.\d+)?$/.test(cond) && Number(cond) === 0);
    return (t ? a : b).trim();
  },
};
