// ${...} and $[...] substitution as pbx_substitute_variables_helper does it:
// innermost first, so ${A${B}} and ${LEN(${X})} work; ${VAR:offset:length}
// takes a substring (negative offset counts from the end, negative length
// drops that many from the end); ${FUNC(args)} calls a function; $[...]
// evaluates an expression after its contents are substituted. Unknown
// variables are empty. A bad expression is reported through onError and
// yields "" — a typo never crashes a call.
import type { DialplanFunction, FuncEnv } from './funcs/func-types.js';
import { evaluateExpression } from './expression.js';

export interface SubstEnv extends FuncEnv {
  /** the functions ${NAME(...)} may call: the server's DialplanRegistry */
  findFunction(name: string): DialplanFunction | undefined;
  onError?(what: string): void;
}

/** Index of the bracket closing the one opened at `open` (counting nesting), or -1. */
function closing(s: string, open: number, o: string, c: string): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (ch === o) depth++;
    else if (ch === c && --depth === 0) return i;
  }
  return -1;
}

export function substitute(text: string, env: SubstEnv, depth = 0): string {
  if (text.indexOf('$') < 0) return text;
  if (depth > 20) {
    env.onError?.('substitution nested more than 20 levels deep');
    return '';
  }
  let out = '';
  let i = 0;
  while (i < text.length) {
    const d = text.indexOf('$', i);
    if (d < 0 || d + 1 >= text.length) {
      out += text.slice(i);
      break;
    }
    const kind = text[d + 1];
    if (kind !== '{' && kind !== '[') {
      out += text.slice(i, d + 1);
      i = d + 1;
      continue;
    }
    out += text.slice(i, d);
    const end = closing(text, d + 1, kind, kind === '{' ? '}' : ']');
    if (end < 0) {
      // unbalanced: the parser rejects this at load; at run time keep it literal
      out += text.slice(d);
      break;
    }
    const inner = substitute(text.slice(d + 2, end), env, depth + 1);
    out += kind === '{' ? variable(inner, env) : expression(inner, env);
    i = end + 1;
  }
  return out;
}

function expression(inner: string, env: SubstEnv): string {
  try {
    return evaluateExpression(inner);
  } catch (e) {
    env.onError?.(`$[${inner}]: ${(e as Error).message}`);
    return '';
  }
}

function variable(inner: string, env: SubstEnv): string {
  let value: string;
  let rest: string;
  const paren = inner.indexOf('(');
  const colon = inner.indexOf(':');
  if (paren > 0 && (colon < 0 || paren < colon) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(inner.slice(0, paren))) {
    const close = closing(inner, paren, '(', ')');
    if (close < 0) {
      env.onError?.(`\${${inner}}: "(" is never closed`);
      return '';
    }
    const name = inner.slice(0, paren);
    const f = env.findFunction(name);
    if (!f) {
      env.onError?.(`\${${inner}}: no function ${name}()`);
      return '';
    }
    try {
      value = f.read(env, inner.slice(paren + 1, close));
    } catch (e) {
      env.onError?.(`${name}(): ${(e as Error).message}`);
      value = '';
    }
    rest = inner.slice(close + 1);
  } else {
    const name = colon < 0 ? inner : inner.slice(0, colon);
    value = env.getVar(name);
    rest = colon < 0 ? '' : inner.slice(colon);
  }
  if (rest.startsWith(':')) {
    const [offS = '', lenS] = rest.slice(1).split(':');
    value = substring(value, Number(offS || 0), lenS === undefined || lenS === '' ? undefined : Number(lenS));
  }
  return value;
}

/** Asterisk's substring(): see the header comment. */
export function substring(v: string, offset: number, length?: number): string {
  if (!Number.isFinite(offset)) offset = 0;
  let start = offset < 0 ? Math.max(0, v.length + offset) : Math.min(offset, v.length);
  let end = v.length;
  if (length !== undefined && Number.isFinite(length)) end = length < 0 ? Math.max(start, v.length + length) : Math.min(v.length, start + length);
  if (start > end) start = end;
  return v.slice(start, end);
}
