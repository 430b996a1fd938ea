// `palisade check --config FILE`: load and validate the configuration
// without starting anything; every problem is printed as file:line:col.
import { ConfigError, formatIssue } from '../config/config-error.js';
import { formatListen } from '../config/listen-point.js';
import { checkDialplan, createHost, loadServerConfig } from '../host/index.js';
import { parseCommandArgs, stdio, type CliIo } from '../admin/cli-args.js';

const USAGE = 'usage: palisade check --config FILE\n';

export async function runCheck(argv: string[], io: CliIo = stdio): Promise<number> {
  const file = parseCommandArgs(argv, { config: 'string' }, USAGE).values.config;
  if (!file) {
    io.err(USAGE);
    return 2;
  }
  try {
    const host = createHost();
    const cfg = loadServerConfig(file, host);
    const n = cfg.extensions.length;
    // the dialplan is checked too: syntax, applications, and every extension's context
    const dialplan = checkDialplan(cfg, host);
    const dpNote = dialplan ? `, dialplan ${dialplan.engine.dialplan.contexts.size} contexts` : '';
    await dialplan?.close();
    io.out(`OK: ${n} extension${n === 1 ? '' : 's'}, listen ${cfg.sip.listen.map(formatListen).join(', ')}, storage ${cfg.storage.driver}${dpNote}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) io.err(formatIssue(issue) + '\n');
    // dialplan problems live in extensions.conf (and its #includes), not in the YAML: name every file
    const files = [...new Set(err.issues.map((i) => i.file))].join(', ');
    io.err(`${err.issues.length} error${err.issues.length === 1 ? '' : 's'} in ${files}\n`);
    return 1;
  }
}
