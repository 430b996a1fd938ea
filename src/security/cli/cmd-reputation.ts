// `palisade reputation show ADDRESS|USER --config FILE`: the score the
// running server holds for an address or an extension, over the control
// socket; `reputation reset` sets it back to 5 (a fixed phone's address).
import type { CliEnv } from '../../core/module.js';
import type { LoadedConfig } from '../config/load-config.js';
import { parseCommandArgs } from '../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../admin/control-client.js';

const USAGE = 'usage: palisade reputation show|reset ADDRESS|USER --config FILE\n';

export async function runReputation(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CONTROL_OPTIONS, USAGE, 2);
  const [sub, subject] = positionals;
  if ((sub !== 'show' && sub !== 'reset') || !subject) {
    process.stderr.write(USAGE);
    return 2;
  }
  const r = (await askServer(values, env.loadConfig, sub === 'show' ? 'reputation' : 'reputation-reset', { subject })) as Record<string, unknown>;
  for (const [k, v] of Object.entries(r)) process.stdout.write(`${k}: ${String(v)}\n`);
  return 0;
}
