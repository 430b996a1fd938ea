// `palisade dialplan show --config FILE [CONTEXT]`: the parsed dialplan as
// Asterisk's `dialplan show` prints it, each step with the file:line it came
// from. `palisade dialplan reload --config FILE`: the running server re-reads
// extensions.conf (calls in progress keep the dialplan they started with).
import { ConfigError, formatIssue } from '../config/config-error.js';
import { createHost, loadServerConfig } from '../host/index.js';
import type { Dialplan } from '../dialplan/dialplan-types.js';
import { parseExtensionsConf } from '../dialplan/parse-extensions-conf.js';
import { parseCommandArgs, stdio, type CliIo } from '../admin/cli-args.js';
import { askServer } from './control-client.js';

const USAGE = 'usage: palisade dialplan show --config FILE [CONTEXT] | palisade dialplan reload --config FILE\n';

export function formatDialplan(dp: Dialplan, only?: string): string {
  let out = '';
  let exts = 0;
  let prios = 0;
  let ctxs = 0;
  const where = (at: { file: string; line: number }) => `[${at.file.split('/').pop()}:${at.line}]`;
  for (const ctx of dp.contexts.values()) {
    if (only && ctx.name !== only) continue;
    ctxs++;
    out += `[ Context '${ctx.name}' ]\n`;
    for (const inc of ctx.includes) out += `  ${'Include =>'.padEnd(18)}'${inc.context}'`.padEnd(64) + `${where(inc.at)}\n`;
    for (const e of ctx.extensions.values()) {
      if (e.steps.length === 0 && e.hint === null) continue;
      exts++;
      let first = `'${e.name}${e.cid !== null ? ` (CID match '${e.cid}')` : ''}' =>`;
      if (e.hint !== null) {
        out += `  ${first.padEnd(18)}hint: ${e.hint}\n`;
        first = '';
      }
      for (const s of e.steps) {
        prios++;
        const label = s.label ? ` [${s.label}]` : '';
        out += `  ${first.padEnd(18)}${`${s.priority}.${label} ${s.app}(${s.data})`}`.padEnd(64) + ` ${where(s.at)}\n`;
        first = '';
      }
    }
    out += '\n';
  }
  out += `-= ${exts} extension${exts === 1 ? '' : 's'} (${prios} priorit${prios === 1 ? 'y' : 'ies'}) in ${ctxs} context${ctxs === 1 ? '' : 's'}. =-\n`;
  return out;
}

export async function runDialplan(argv: string[], io: CliIo = stdio): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { config: 'string' }, USAGE, 2);
  const [sub, context] = positionals;
  const cfgPath = values.config;
  if ((sub !== 'show' && sub !== 'reload') || !cfgPath || (sub === 'reload' && context !== undefined)) {
    io.err(USAGE);
    return 2;
  }
  try {
    if (sub === 'reload') {
      const r = (await askServer({ config: cfgPath }, 'reload-dialplan')) as { contexts: number };
      io.out(`dialplan reloaded: ${r.contexts} contexts\n`);
      return 0;
    }
    const host = createHost();
    const cfg = loadServerConfig(cfgPath, host);
    if (cfg.dialplan.file === null) {
      io.err(`${cfgPath}: no dialplan.file is configured\n`);
      return 1;
    }
    const dp = parseExtensionsConf(cfg.dialplan.file, { registry: host.registry });
    if (context && !dp.contexts.has(context)) {
      io.err(`there is no context [${context}]; contexts: ${[...dp.contexts.keys()].join(', ')}\n`);
      return 1;
    }
    io.out(formatDialplan(dp, context));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) io.err(formatIssue(issue) + '\n');
    return 1;
  }
}
