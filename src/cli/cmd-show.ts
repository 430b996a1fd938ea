// `palisade status` and `palisade show registrations|calls|hints`: ask the running
// server over its local control socket and print a table.
import { parseCommandArgs } from '../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from './control-client.js';
import { formatTable } from '../admin/table.js';

const SHOW_USAGE = 'usage: palisade show registrations|calls|hints|voicemail --config FILE\n';

/** what `show X` asks the server for, and what it prints when there is none */
const SHOW: Record<string, { cmd: string; empty: string }> = {
  registrations: { cmd: 'registrations', empty: 'no registrations' },
  calls: { cmd: 'calls', empty: 'no active calls' },
  hints: { cmd: 'hints', empty: 'no extensions' },
  voicemail: { cmd: 'voicemail-list', empty: 'no mailboxes' },
};

export async function runStatus(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, CONTROL_OPTIONS, 'usage: palisade status --config FILE\n');
  const s = (await askServer(values, 'status')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(s)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  return 0;
}

export async function runShow(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CONTROL_OPTIONS, SHOW_USAGE, 1);
  const what = Object.hasOwn(SHOW, positionals[0] ?? '') ? SHOW[positionals[0]!] : undefined;
  if (!what) {
    process.stderr.write(SHOW_USAGE);
    return 2;
  }
  const rows = (await askServer(values, what.cmd)) as Record<string, unknown>[];
  process.stdout.write(formatTable(rows, what.empty));
  return 0;
}
