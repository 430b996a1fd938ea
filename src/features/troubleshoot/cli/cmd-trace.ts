// `palisade trace CALL-ID|EXTENSION|#N [--messages] [--json]`: the SIP ladder
// of a kept call (both legs of a bridged call); `palisade trace --list`: the
// kept calls; `palisade trace --extension N --on [--payload]|--off`: keep
// every call of an extension while on (src/features/troubleshoot).
import { parseCommandArgs, stdio, UsageError, type CliIo } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import type { CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';
import { formatTable } from '../../../admin/table.js';

const USAGE = `usage: palisade trace CALL-ID|EXTENSION|#N [--messages] [--json] --config FILE
       palisade trace --list [--json] --config FILE
       palisade trace --extension N --on [--payload]|--off --config FILE
`;

const OPTIONS = {
  ...CONTROL_OPTIONS,
  list: 'boolean',
  messages: 'boolean',
  json: 'boolean',
  extension: 'string',
  on: 'boolean',
  off: 'boolean',
  payload: 'boolean',
} as const;

export async function runTrace(argv: string[], env: CliEnv<LoadedConfig>, io: CliIo = stdio): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, 1);
  const key = positionals[0];
  if (values.extension !== undefined) {
    if (key !== undefined || values.on === values.off) throw new UsageError('--extension takes exactly one of --on and --off', USAGE);
    if (values.payload && !values.on) throw new UsageError('--payload goes with --on', USAGE);
    const r = (await askServer(values, env.loadConfig, 'trace-extension', { extension: values.extension, on: values.on === true, payload: values.payload === true })) as Record<
      string,
      unknown
    >;
    io.out(
      r.tracing ? `tracing every call of ${values.extension}${r.payload ? ' (RTP payloads too)' : ''}\n` : `tracing of ${values.extension} off (failed calls are still kept)\n`,
    );
    return 0;
  }
  if (values.on || values.off || values.payload) throw new UsageError('--on, --off and --payload go with --extension N', USAGE);
  if (values.list) {
    if (key !== undefined) throw new UsageError('--list takes no call', USAGE);
    const r = (await askServer(values, env.loadConfig, 'trace-list')) as { traces: Record<string, unknown>[]; extensions: Record<string, unknown>[] };
    if (values.json) {
      io.out(JSON.stringify(r, null, 2) + '\n');
      return 0;
    }
    io.out(formatTable(r.traces, 'no calls kept', ['id', 'start', 'users', 'reason', 'sip', 'rtp', 'call_ids']));
    if (r.extensions.length) io.out(`traced extensions: ${r.extensions.map((e) => String(e.extension) + (e.payload ? ' (payload)' : '')).join(', ')}\n`);
    return 0;
  }
  if (key === undefined) throw new UsageError('which call? a Call-ID, an extension (its newest kept call) or #N from --list', USAGE);
  const r = (await askServer(values, env.loadConfig, 'trace', { call: key, messages: values.messages === true })) as Record<string, unknown>;
  if (values.json) {
    const { text: _text, ...rest } = r;
    io.out(JSON.stringify(rest, null, 2) + '\n');
  } else io.out(String(r.text));
  return 0;
}
