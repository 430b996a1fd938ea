// The command line of every `palisade` command, read with node:util
// parseArgs: a command names its options and how many plain arguments it
// takes; an option it does not know, an option without its value or a stray
// argument is a usage error (exit 2) that says which.
import { parseArgs } from 'node:util';
import { PalisadeError } from '../core/errors.js';

/** where a command writes; tests pass their own */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** a malformed command line; the dispatcher prints the message and the command's usage and exits 2 */
export class UsageError extends PalisadeError {
  declare readonly code: 'PAL_ERR_USAGE';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super('PAL_ERR_USAGE', message);
  }
}

/** option name (without --) → whether it takes a value */
export type OptionSpec = Record<string, 'string' | 'boolean'>;

export type OptionValues<S extends OptionSpec> = { [K in keyof S]?: S[K] extends 'boolean' ? boolean : string };

export interface CommandArgs<S extends OptionSpec> {
  values: OptionValues<S>;
  positionals: string[];
}

/**
 * Reads `argv` (the arguments after the command's own words) against `spec`.
 * `--name value` and `--name=value` both work; options and plain arguments
 * may come in any order; at most `maxPositionals` plain arguments.
 */
export function parseCommandArgs<const S extends OptionSpec>(argv: readonly string[], spec: S, usage: string, maxPositionals = 0): CommandArgs<S> {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err as Error & { code?: string }), usage);
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`, usage);
  return { values: parsed.values as OptionValues<S>, positionals: parsed.positionals };
}

/** parseArgs' messages are long and name `-- "--x"` escapes; say just what was wrong */
function describeParseError(err: Error & { code?: string }): string {
  const quoted = /'(-[^' ]*)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? err.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (quoted && /does not take an argument/.test(err.message)) return `${quoted} takes no value`;
      // missing, or followed by another option ("ambiguous"): a value that starts with - is written --name=-value
      return quoted ? `${quoted} needs a value` : err.message;
    default:
      return err.message;
  }
}
