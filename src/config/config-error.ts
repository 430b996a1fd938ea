// Configuration errors carry a stable code and the file:line:col they are
// about (docs/architecture.md, Errors: every configuration error names file and line).
// Loading collects every problem before throwing, so one run of
// `palisade check` shows the administrator all of them.
import { PalisadeError } from '../core/errors.js';

export interface ConfigIssue {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
  /** what is wrong and what is expected instead */
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.message}`;
}

export class ConfigError extends PalisadeError {
  declare readonly code: 'PAL_ERR_CONFIG';
  /** position of the first issue */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** every issue found, in file order; the message lists them one per line */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
    super('PAL_ERR_CONFIG', sorted.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = sorted;
    this.file = sorted[0]!.file;
    this.line = sorted[0]!.line;
    this.col = sorted[0]!.col;
  }

  /** A single-issue error, for checks done outside the loader (e.g. a dialplan context an extension names). */
  static at(file: string, line: number, col: number, message: string): ConfigError {
    return new ConfigError([{ file, line, col, message }]);
  }
}
