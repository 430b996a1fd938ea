// $[...] expressions as Asterisk's ast_expr2 evaluates them. Precedence, from
// loosest to tightest (ast_expr2.y):
//   a ? b :: c            ternary
//   |                     a if a is neither "" nor 0, else b
//   &                     a if neither is "" or 0, else 0
//   = != < > <= >=        numeric when both sides are numbers, else string; 1 or 0
//   + -                   numeric
//   * / %                 numeric (integer division when both are integers)
//   ! -  (unary)
//   : =~                  regex: ':' is anchored at the start, '=~' is not;
//                          with a (group) the group, else the match length
// Strings may be double-quoted. A malformed expression yields an
// ExpressionError; the caller logs it and substitutes "" as Asterisk does.
import { PalisadeError } from '../core/errors.js';

export class ExpressionError extends PalisadeError {
  declare readonly code: 'PAL_ERR_DIALPLAN_EXPRESSION';
  constructor(message: string) {
    super('PAL_ERR_DIALPLAN_EXPRESSION', message);
    this.name = 'ExpressionError';
  }
}

type Tok = { op: string } | { val: string };

const OPS = ['::', '!=', '<=', '>=', '=~', '|', '&', '=', '<', '>', '+', '-', '*', '/', '%', '!', ':', '?', '(', ')'];
const NUM_RE = /^\s*-?(\d+(\.\d+)?|\.\d+)\s*$/;

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        v += s[j];
        j++;
      }
      if (j >= s.length) throw new ExpressionError('unterminated string: a " is never closed');
      out.push({ val: v });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => s.startsWith(o, i));
    if (op) {
      out.push({ op });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j]!) && s[j] !== '"' && !OPS.some((o) => s.startsWith(o, j))) j++;
    out.push({ val: s.slice(i, j) });
    i = j;
  }
  return out;
}

const isNum = (v: string): boolean => NUM_RE.test(v);
const truthy = (v: string): boolean => v !== '' && !(isNum(v) && Number(v) === 0);

function num(v: string, op: string): number {
  if (!isNum(v)) throw new ExpressionError(`non-numeric argument "${v}" to ${op}`);
  return Number(v);
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) throw new ExpressionError('division by zero');
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

class P {
  i = 0;
  constructor(private readonly t: Tok[]) {}
  peek(): string | null {
    const x = this.t[this.i];
    return x && 'op' in x ? x.op : null;
  }
  eat(op: string): boolean {
    if (this.peek() === op) {
      this.i++;
      return true;
    }
    return false;
  }
  ternary(): string {
    const c = this.or();
    if (this.eat('?')) {
      const a = this.ternary();
      if (!this.eat('::')) throw new ExpressionError('"?" without "::"; write cond ? a :: b');
      const b = this.ternary();
      return truthy(c) ? a : b;
    }
    return c;
  }
  or(): string {
    let l = this.and();
    while (this.eat('|')) {
      const r = this.and();
      l = truthy(l) ? l : r;
    }
    return l;
  }
  and(): string {
    let l = this.cmp();
    while (this.eat('&')) {
      const r = this.cmp();
      l = truthy(l) && truthy(r) ? l : '0';
    }
    return l;
  }
  cmp(): string {
    let l = this.add();
    for (;;) {
      const op = this.peek();
      if (op !== '=' && op !== '!=' && op !== '<' && op !== '>' && op !== '<=' && op !== '>=') return l;
      this.i++;
      const r = this.add();
      let d: number;
      if (isNum(l) && isNum(r)) d = Number(l) - Number(r);
      else d = l < r ? -1 : l > r ? 1 : 0;
      const ok = op === '=' ? d === 0 : op === '!=' ? d !== 0 : op === '<' ? d < 0 : op === '>' ? d > 0 : op === '<=' ? d <= 0 : d >= 0;
      l = ok ? '1' : '0';
    }
  }
  add(): string {
    let l = this.mul();
    for (;;) {
      const op = this.peek();
      if (op !== '+' && op !== '-') return l;
      this.i++;
      const r = this.mul();
      l = fmt(op === '+' ? num(l, op) + num(r, op) : num(l, op) - num(r, op));
    }
  }
  mul(): string {
    let l = this.unary();
    for (;;) {
      const op = this.peek();
      if (op !== '*' && op !== '/' && op !== '%') return l;
      this.i++;
      const r = this.unary();
      const a = num(l, op);
      const b = num(r, op);
      if ((op === '/' || op === '%') && b === 0) throw new ExpressionError('division by zero');
      if (op === '*') l = fmt(a * b);
      else if (op === '/') l = fmt(Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b);
      else l = fmt(a % b);
    }
  }
  unary(): string {
    if (this.eat('!')) return truthy(this.unary()) ? '0' : '1';
    if (this.eat('-')) return fmt(-num(this.unary(), '-'));
    return this.regex();
  }
  regex(): string {
    let l = this.atom();
    for (;;) {
      const op = this.peek();
      if (op !== ':' && op !== '=~') return l;
      this.i++;
      const r = this.atom();
      let re: RegExp;
      try {
        re = new RegExp(op === ':' ? `^(?:${r})` : r);
      } catch (e) {
        throw new ExpressionError(`bad regular expression "${r}": ${(e as Error).message}`);
      }
      const m = re.exec(l);
      if (m && m.length > 1) l = m[1] ?? '';
      else if (m) l = String(m[0].length);
      else l = /\((?!\?)/.test(r) ? '' : '0';
    }
  }
  atom(): string {
    const t = this.t[this.i];
    if (!t) throw new ExpressionError('the expression ends where a value was expected');
    if ('val' in t) {
      this.i++;
      return t.val;
    }
    if (t.op === '(') {
      this.i++;
      const v = this.ternary();
      if (!this.eat(')')) throw new ExpressionError('a "(" is never closed');
      return v;
    }
    throw new ExpressionError(`unexpected "${t.op}" where a value was expected`);
  }
}

/** Evaluates the inside of $[...] (variables already substituted). Empty → "". */
export function evaluateExpression(text: string): string {
  const toks = tokenize(text);
  if (toks.length === 0) return '';
  const p = new P(toks);
  const v = p.ternary();
  if (p.i < toks.length) {
    const t = toks[p.i]!;
    throw new ExpressionError(`unexpected "${'op' in t ? t.op : t.val}" after a complete expression`);
  }
  return v;
}
