// Extension matching as Asterisk does it, over a trie so that a context with
// thousands of extensions still matches in microseconds.
//
// Rules (Asterisk pbx.c ext_cmp1/_extension_match_core):
// - an exact (non-pattern) extension always beats a pattern;
// - patterns compare position by position; at each position the element that
//   matches fewer characters wins (a literal beats [1-5] beats N beats X),
//   ties broken by the lowest character; then '.' (one or more of anything),
//   then '!' (zero or more), then the end of the pattern;
// - '-' inside a pattern is decoration and ignored;
// - N = 2-9, X = 0-9, Z = 1-9 (either case), [a-c9] a set.
// Walking the trie in that order makes the first complete match the one
// Asterisk's sorted list would pick, without sorting at match time.

interface ClassEdge<T> {
  key: string;
  chars: Set<string>;
  weight: number;
  node: TrieNode<T>;
}

class TrieNode<T> {
  lit = new Map<string, TrieNode<T>>();
  classes: ClassEdge<T>[] = [];
  dot: T[] | null = null;
  bang: T[] | null = null;
  end: T[] | null = null; // a pattern ends here
}

export type PatternElement = { kind: 'lit'; ch: string } | { kind: 'class'; chars: Set<string>; key: string } | { kind: 'dot' } | { kind: 'bang' };

/** Why a pattern is malformed, or its elements. Column offsets are within the name. */
export function parsePattern(pattern: string): PatternElement[] | { error: string; offset: number } {
  const out: PatternElement[] = [];
  const body = pattern.slice(1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '-') continue;
    if (out.length > 0) {
      const last = out[out.length - 1]!;
      if (last.kind === 'dot' || last.kind === 'bang') {
        return { error: `nothing may follow '${last.kind === 'dot' ? '.' : '!'}' in a pattern (it already matches the rest)`, offset: i + 1 };
      }
    }
    switch (c) {
      case 'N':
      case 'n':
        out.push(makeClass('23456789'));
        break;
      case 'X':
      case 'x':
        out.push(makeClass('0123456789'));
        break;
      case 'Z':
      case 'z':
        out.push(makeClass('123456789'));
        break;
      case '.':
        out.push({ kind: 'dot' });
        break;
      case '!':
        out.push({ kind: 'bang' });
        break;
      case '[': {
        const close = body.indexOf(']', i + 1);
        if (close < 0) return { error: "unclosed '[' in pattern; expected a set such as [1-5]", offset: i + 1 };
        const set = body.slice(i + 1, close);
        if (set.length === 0) return { error: "empty '[]' in pattern; expected a set such as [1-5]", offset: i + 1 };
        let chars = '';
        for (let j = 0; j < set.length; j++) {
          if (j + 2 < set.length && set[j + 1] === '-') {
            const a = set.charCodeAt(j);
            const b = set.charCodeAt(j + 2);
            if (a > b) return { error: `range ${set.slice(j, j + 3)} runs backwards; write it low-high such as 1-5`, offset: i + 2 + j };
            for (let k = a; k <= b; k++) chars += String.fromCharCode(k);
            j += 2;
          } else chars += set[j];
        }
        out.push(makeClass(chars));
        i = close;
        break;
      }
      case ']':
        return { error: "']' without '[' in pattern", offset: i + 1 };
      default:
        out.push({ kind: 'lit', ch: c });
    }
  }
  if (out.length === 0) return { error: "a pattern needs at least one element after '_'", offset: 0 };
  return out;
}

function makeClass(chars: string): PatternElement {
  const set = new Set(chars);
  if (set.size === 1) return { kind: 'lit', ch: chars[0]! };
  return { kind: 'class', chars: set, key: [...set].sort().join('') };
}

function classWeight(chars: Set<string>): number {
  let min = 0xff;
  for (const c of chars) min = Math.min(min, c.charCodeAt(0));
  return (chars.size << 8) | min;
}

/**
 * The router-style interface (add / match) the engine uses per context.
 * Values are returned in preference order; `accept` lets the caller skip a
 * candidate (e.g. an extension whose caller-ID match fails) and fall through
 * to the next best one.
 */
export class PatternMatcher<T> {
  private readonly exact = new Map<string, T[]>();
  private readonly root = new TrieNode<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds an extension by name ('111', 's', '_X.'). Throws on a malformed pattern (the parser checks first). */
  add(name: string, value: T): void {
    this.count++;
    if (name.startsWith('_')) {
      const els = parsePattern(name);
      if (!Array.isArray(els)) throw new Error(`bad pattern ${name}: ${els.error}`);
      let node = this.root;
      for (const el of els) {
        if (el.kind === 'dot') {
          (node.dot ??= []).push(value);
          return;
        }
        if (el.kind === 'bang') {
          (node.bang ??= []).push(value);
          return;
        }
        if (el.kind === 'lit') {
          let next = node.lit.get(el.ch);
          if (!next) node.lit.set(el.ch, (next = new TrieNode<T>()));
          node = next;
        } else {
          let edge = node.classes.find((e) => e.key === el.key);
          if (!edge) {
            edge = { key: el.key, chars: el.chars, weight: classWeight(el.chars), node: new TrieNode<T>() };
            node.classes.push(edge);
            node.classes.sort((a, b) => a.weight - b.weight || (a.key < b.key ? -1 : 1));
          }
          node = edge.node;
        }
      }
      (node.end ??= []).push(value);
      return;
    }
    const list = this.exact.get(name);
    if (list) list.push(value);
    else this.exact.set(name, [value]);
    // exact names walk the trie too, so canMatchMore sees them
    let node = this.root;
    for (const ch of name) {
      let next = node.lit.get(ch);
      if (!next) node.lit.set(ch, (next = new TrieNode<T>()));
      node = next;
    }
  }

  /** The best extension for `input`, or undefined. */
  match(input: string, accept: (v: T) => boolean = () => true): T | undefined {
    const ex = this.exact.get(input);
    if (ex) for (const v of ex) if (accept(v)) return v;
    return this.walk(this.root, input, 0, accept);
  }

  private walk(node: TrieNode<T>, input: string, i: number, accept: (v: T) => boolean): T | undefined {
    if (i < input.length) {
      const c = input[i]!;
      const lit = node.lit.get(c);
      if (lit) {
        const r = this.walk(lit, input, i + 1, accept);
        if (r !== undefined) return r;
      }
      for (const e of node.classes) {
        if (!e.chars.has(c)) continue;
        const r = this.walk(e.node, input, i + 1, accept);
        if (r !== undefined) return r;
      }
      if (node.dot) for (const v of node.dot) if (accept(v)) return v;
    }
    if (node.bang) for (const v of node.bang) if (accept(v)) return v;
    if (i === input.length && node.end) for (const v of node.end) if (accept(v)) return v;
    return undefined;
  }

  /** True when some extension is longer than `prefix` and could still match after more digits. */
  canMatchMore(prefix: string): boolean {
    return this.more(this.root, prefix, 0);
  }

  private more(node: TrieNode<T>, input: string, i: number): boolean {
    if (node.bang) return true;
    if (i === input.length) {
      if (node.dot) return true;
      // every node was made by some add(), so any edge leads to a longer extension
      return node.lit.size > 0 || node.classes.length > 0;
    }
    const c = input[i]!;
    if (node.dot) return true;
    const lit = node.lit.get(c);
    if (lit && this.more(lit, input, i + 1)) return true;
    for (const e of node.classes) if (e.chars.has(c) && this.more(e.node, input, i + 1)) return true;
    return false;
  }
}

/** Does `input` match one extension name (exact, or a `_` pattern)? Used for caller-ID matches. */
export function extensionMatches(name: string, input: string): boolean {
  if (!name.startsWith('_')) return name === input;
  return compilePattern(name)?.(input) ?? false;
}

// Compiled patterns by their text. Route `match`/`did`/`cid` lists and
// dialplan caller-ID matches test the same few patterns on every call, so
// each is parsed once. The patterns come from configuration, so the set is
// small; the bound only guards against a caller feeding endless new ones
// (the oldest entry leaves first).
const COMPILED_MAX = 1024;
const compiled = new Map<string, ((input: string) => boolean) | null>();

/** one `_` pattern, parsed once, as a test of a whole number; null when it does not parse */
export function compilePattern(pattern: string): ((input: string) => boolean) | null {
  let fn = compiled.get(pattern);
  if (fn !== undefined) return fn;
  fn = compileUncached(pattern);
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  compiled.set(pattern, fn);
  return fn;
}

/** how many compiled patterns are kept (for tests) */
export function compiledPatternCount(): number {
  return compiled.size;
}

function compileUncached(pattern: string): ((input: string) => boolean) | null {
  const els = parsePattern(pattern);
  if (!Array.isArray(els)) return null;
  const at = (input: string, e: number, i: number): boolean => {
    if (e === els.length) return i === input.length;
    const el = els[e]!;
    if (el.kind === 'bang') return true;
    if (el.kind === 'dot') return i < input.length;
    if (i >= input.length) return false;
    const c = input[i]!;
    if (el.kind === 'lit' ? el.ch !== c : !el.chars.has(c)) return false;
    return at(input, e + 1, i + 1);
  };
  return (input) => at(input, 0, 0);
}
