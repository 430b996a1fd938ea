// `palisade status` and `palisade show registrations|calls`: ask the running
// server over its local control socket and print a table.
import { loadConfig } from '../config/load-config.js';
import { controlRequest } from '../admin/control-socket.js';
import { option } from './main.js';

function socketPath(argv: string[]): string {
  const explicit = option(argv, '--socket');
  if (explicit) return explicit;
  const cfgPath = option(argv, '--config');
  if (!cfgPath) throw new Error('--config FILE (or --socket PATH) is required');
  return loadConfig(cfgPath).control.socket;
}

function table(rows: Record<string, unknown>[], empty: string): string {
  if (rows.length === 0) return empty + '\n';
  const cols = Object.keys(rows[0]!);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(w[i]!)).join('  ').trimEnd() + '\n';
  return line(cols) + rows.map((r) => line(cols.map((c) => String(r[c] ?? '')))).join('');
}

export async function runStatus(argv: string[]): Promise<number> {
  const s = (await controlRequest(socketPath(argv), 'status')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(s)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  return 0;
}

export async function runShow(argv: string[]): Promise<number> {
  const what = argv[0];
  if (what === 'registrations') {
    const rows = (await controlRequest(socketPath(argv), 'registrations')) as Record<string, unknown>[];
    process.stdout.write(table(rows, 'no registrations'));
    return 0;
  }
  if (what === 'calls') {
    const rows = (await controlRequest(socketPath(argv), 'calls')) as Record<string, unknown>[];
    process.stdout.write(table(rows, 'no active calls'));
    return 0;
  }
  if (what === 'voicemail') {
    const rows = (await controlRequest(socketPath(argv), 'voicemail-list')) as Record<string, unknown>[];
    process.stdout.write(table(rows, 'no mailboxes'));
    return 0;
  }
  process.stderr.write('usage: palisade show registrations|calls|voicemail --config FILE\n');
  return 2;
}
