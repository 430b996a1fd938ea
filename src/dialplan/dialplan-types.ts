// The parsed dialplan: what parse-extensions-conf.ts produces and the engine
// runs. Every step keeps the file:line:col it came from so that a runtime
// problem (a Goto to nowhere) can name the line that caused it.
import type { TimeSpec } from './time-spec.js';
import type { SourcePos } from '../config/config-types.js';
import type { PatternMatcher } from './matcher.js';

export interface Step {
  priority: number;
  label: string | null;
  /** application name as written (case preserved; looked up case-insensitively) */
  app: string;
  /** the raw argument text between the parentheses, before ${} substitution */
  data: string;
  at: SourcePos;
}

export interface Extension {
  /** as written: '111', '_X.', 's' */
  name: string;
  /** caller-ID match (`exten => 111/1001,...`), or null */
  cid: string | null;
  /** steps sorted by priority */
  steps: Step[];
  byPriority: Map<number, Step>;
  byLabel: Map<string, Step>;
  hint: string | null;
  at: SourcePos;
}

export interface Include {
  context: string;
  at: SourcePos;
  /** `include => ctx,times,weekdays,mdays,months[,tz]`: searched only while the time matches */
  time?: TimeSpec;
}

export interface Context {
  name: string;
  /** every extension (exact and pattern), keyed by name + '/' + cid */
  extensions: Map<string, Extension>;
  includes: Include[];
  matcher: PatternMatcher<Extension>;
  at: SourcePos;
}

export interface Dialplan {
  contexts: Map<string, Context>;
  /** [globals]: the starting value of variables on every call */
  globals: Map<string, string>;
  /** the files read, main file first */
  files: string[];
}
