// `palisade cdr [--limit N] [--src X] [--dst X] [--disposition D] [--flagged] [--json]`:
// the newest call records of the running server with their media quality
// (loss, jitter, MOS per direction, flags), over the local control socket.
import { parseCommandArgs, stdio, type CliIo } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import type { CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';
import { formatTable } from '../../../admin/table.js';

const USAGE = 'usage: palisade cdr [--limit N] [--src NUMBER] [--dst NUMBER] [--disposition ANSWERED|BUSY|...] [--flagged] [--json] --config FILE\n';

const OPTIONS = { ...CONTROL_OPTIONS, limit: 'string', src: 'string', dst: 'string', disposition: 'string', flagged: 'boolean', json: 'boolean' } as const;

export async function runCdr(argv: string[], env: CliEnv<LoadedConfig>, io: CliIo = stdio): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, USAGE, 0);
  const args: Record<string, unknown> = { limit: values.limit ?? 20 };
  for (const k of ['src', 'dst', 'disposition'] as const) if (values[k] !== undefined) args[k] = values[k];
  if (values.flagged) args.flagged = true;
  const rows = (await askServer(values, env.loadConfig, 'cdr', args)) as Array<Record<string, unknown>>;
  io.out(values.json ? JSON.stringify(rows, null, 2) + '\n' : formatTable(rows, 'no call records'));
  return 0;
}
