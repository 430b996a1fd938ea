// `palisade status` and `palisade show registrations|calls|hints`: ask the running
// server over its local control socket and print a table.
import { parseCommandArgs } from '../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from './control-client.js';
import { formatTable } from '../admin/table.js';

const SHOW_USAGE = 'usage: palisade show registrations|calls|hints|voicemail|trunks|workers|call ID|NAME [ARG] --config FILE\n';

/** what `show X` asks the server for, and what it prints when there is none */
const SHOW: Record<string, { cmd: string; empty: string }> = {
  registrations: { cmd: 'registrations', empty: 'no registrations' },
  calls: { cmd: 'calls', empty: 'no active calls' },
  hints: { cmd: 'hints', empty: 'no extensions' },
  voicemail: { cmd: 'voicemail-list', empty: 'no mailboxes' },
  trunks: { cmd: 'trunks', empty: 'no trunks' },
  workers: { cmd: 'workers', empty: 'no workers' },
};

export async function runStatus(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, CONTROL_OPTIONS, 'usage: palisade status --config FILE\n');
  const s = (await askServer(values, 'status')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(s)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  return 0;
}

export async function runShow(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CONTROL_OPTIONS, SHOW_USAGE, 2);
  const name = positionals[0] ?? '';
  const what = Object.hasOwn(SHOW, name) ? SHOW[name] : undefined;
  if (what && positionals.length === 1) {
    const rows = (await askServer(values, what.cmd)) as Record<string, unknown>[];
    process.stdout.write(formatTable(rows, what.empty));
    return 0;
  }
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    process.stderr.write(SHOW_USAGE);
    return 2;
  }
  // a module's view: `show NAME [ARG]` asks the server's `show-NAME` command (e.g. show call ID, show trunks)
  const r = await askServer(values, `show-${name}`, positionals[1] === undefined ? {} : { arg: positionals[1] });
  process.stdout.write(formatView(r));
  return 0;
}

/** an array prints as a table; an object as `key: value` lines, its arrays of rows as tables under their name */
function formatView(r: unknown): string {
  if (Array.isArray(r)) return formatTable(r as Record<string, unknown>[], 'none');
  if (r === null || typeof r !== 'object') return `${String(r)}\n`;
  let out = '';
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
    if (Array.isArray(v)) out += `${k}:\n${v.length ? formatTable(v as Record<string, unknown>[], '') : '  none\n'}`;
    else if (v !== null && typeof v === 'object') out += `${formatView(v)}`;
    else out += `${k}: ${String(v)}\n`;
  }
  return out;
}
