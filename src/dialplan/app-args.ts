// Application argument splitting as Asterisk's AST_STANDARD_APP_ARGS does it
// (main/app.c __ast_app_separate_args): commas separate arguments except
// inside double quotes, (), [] or {}; quotes are removed; a backslash makes
// the next character literal.

export function splitArgs(data: string, sep = ','): string[] {
  const out: string[] = [];
  if (data === '') return out;
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === '\\' && i + 1 < data.length) {
      cur += data[++i];
      continue;
    }
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted) {
      if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
      else if (c === sep && depth === 0) {
        out.push(cur);
        cur = '';
        continue;
      }
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** Index of the first `ch` outside ${...} and $[...], or -1 (GotoIf's '?' and ':'). */
export function topLevelIndex(data: string, ch: string): number {
  let depth = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === '$' && (data[i + 1] === '{' || data[i + 1] === '[')) {
      depth++;
      i++;
    } else if (depth > 0 && (c === '{' || c === '[')) depth++;
    else if (depth > 0 && (c === '}' || c === ']')) depth--;
    else if (depth === 0 && c === ch) return i;
  }
  return -1;
}

/** Parses an Asterisk duration in seconds ('1.5', '10') to ms; `def` when empty or not a number. */
export function secondsToMs(s: string | undefined, def: number): number {
  if (s === undefined || s.trim() === '') return def;
  const n = Number(s.trim());
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : def;
}
