// Levenshtein distance, for "did you mean ...?" hints: unknown configuration
// keys (config/yaml-reader.ts) and unknown dialplan applications, functions,
// contexts and labels (dialplan/parse-extensions-conf.ts). One row of the
// table is kept, so memory is O(length of b).

/** the number of single-character insertions, deletions and substitutions that turn `a` into `b` (case counts) */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
