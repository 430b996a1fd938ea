// `palisade bans list|add ADDRESS [--for 1h] [--reason TEXT]|remove ADDRESS`:
// the IDS ban table of the running server, over its local control socket.
import type { CliEnv } from '../../core/module.js';
import type { LoadedConfig } from '../config/load-config.js';
import { parseCommandArgs } from '../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../admin/control-client.js';
import { formatTable } from '../../admin/table.js';

const USAGE = 'usage: palisade bans list|add ADDRESS [--for 1h] [--reason TEXT]|remove ADDRESS --config FILE\n';

const COLUMNS = ['address', 'expires_in', 'offences', 'manual', 'since', 'reason'];

export async function runBans(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS, for: 'string', reason: 'string' }, USAGE, 2);
  const [sub, address] = positionals;
  if (sub === 'list' && address === undefined) {
    const rows = (await askServer(values, env.loadConfig, 'bans')) as Array<Record<string, unknown>>;
    process.stdout.write(formatTable(rows, 'no bans', COLUMNS));
    return 0;
  }
  if ((sub === 'add' || sub === 'remove') && address) {
    if (sub === 'add') {
      const args: Record<string, unknown> = { address };
      if (values.for !== undefined) args.for = values.for;
      if (values.reason !== undefined) args.reason = values.reason;
      const b = (await askServer(values, env.loadConfig, 'ban-add', args)) as Record<string, unknown>;
      process.stdout.write(`banned ${String(b.address)} for ${String(b.expires_in)} s\n`);
      return 0;
    }
    await askServer(values, env.loadConfig, 'ban-remove', { address });
    process.stdout.write(`unbanned ${address}\n`);
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
