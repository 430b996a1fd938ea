// CUT(varname,delimiter,fields) — fields of a variable's value split at a
// delimiter; fields as Asterisk: 2, 2-4, 2-, -3, or several joined by '&'.
import { splitArgs } from '../app-args.js';
import type { DialplanFunction } from './func-types.js';

export const funcCut: DialplanFunction = {
  name: 'CUT',
  synopsis: 'CUT(varname,delimiter,fields): selected fields of a variable',
  read(env, raw) {
    const [name = '', delimArg = '-', fieldsArg = '1'] = splitArgs(raw);
    const delim = delimArg === '' ? '-' : delimArg[0]!;
    const parts = env.getVar(name.trim()).split(delim);
    const out: string[] = [];
    for (const spec of fieldsArg.split('&')) {
      const m = /^\s*(\d*)\s*(-?)\s*(\d*)\s*$/.exec(spec);
      if (!m) continue;
      const from = m[1] ? Number(m[1]) : 1;
      const to = m[2] ? (m[3] ? Number(m[3]) : parts.length) : from;
      for (let i = Math.max(1, from); i <= Math.min(to, parts.length); i++) out.push(parts[i - 1]!);
    }
    return out.join(delim);
  },
};
