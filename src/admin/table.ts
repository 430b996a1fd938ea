// The tables the CLI prints (`show registrations`, `bans list`, ...): a
// header of column names, columns padded to their widest cell, two spaces
// between columns, no trailing blanks.

/** `columns` defaults to the first row's keys; `empty` is printed alone when there are no rows */
export function formatTable(rows: readonly Record<string, unknown>[], empty: string, columns: readonly string[] = rows[0] ? Object.keys(rows[0]) : []): string {
  if (rows.length === 0) return empty + '\n';
  const cell = (r: Record<string, unknown>, c: string): string => String(r[c] ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (vals: readonly string[]): string =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  return line(columns) + rows.map((r) => line(columns.map((c) => cell(r, c)))).join('');
}
