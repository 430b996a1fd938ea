// `palisade bans list|add ADDRESS [--for 1h] [--reason TEXT]|remove ADDRESS`:
// the IDS ban table of the running server, over its local control socket.
import { loadConfig } from '../config/load-config.js';
import { controlRequest } from '../admin/control-socket.js';
import { option } from './main.js';

const USAGE = 'usage: palisade bans list|add ADDRESS [--for 1h] [--reason TEXT]|remove ADDRESS --config FILE\n';

function socketPath(argv: string[]): string {
  const explicit = option(argv, '--socket');
  if (explicit) return explicit;
  const cfgPath = option(argv, '--config');
  if (!cfgPath) throw new Error('--config FILE (or --socket PATH) is required');
  return loadConfig(cfgPath).control.socket;
}

export async function runBans(argv: string[]): Promise<number> {
  const [sub, address] = argv;
  if (sub === 'list') {
    const rows = (await controlRequest(socketPath(argv), 'bans')) as Array<Record<string, unknown>>;
    if (rows.length === 0) {
      process.stdout.write('no bans\n');
      return 0;
    }
    const cols = ['address', 'expires_in', 'offences', 'manual', 'since', 'reason'];
    const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
    const line = (vals: string[]) => vals.map((v, i) => v.padEnd(w[i]!)).join('  ').trimEnd() + '\n';
    process.stdout.write(line(cols) + rows.map((r) => line(cols.map((c) => String(r[c] ?? '')))).join(''));
    return 0;
  }
  if ((sub === 'add' || sub === 'remove') && address && !address.startsWith('--')) {
    if (sub === 'add') {
      const args: Record<string, unknown> = { address };
      const dur = option(argv, '--for');
      if (dur !== undefined) args.for = dur;
      const reason = option(argv, '--reason');
      if (reason !== undefined) args.reason = reason;
      const b = (await controlRequest(socketPath(argv), 'ban-add', args)) as Record<string, unknown>;
      process.stdout.write(`banned ${String(b.address)} for ${String(b.expires_in)} s\n`);
      return 0;
    }
    await controlRequest(socketPath(argv), 'ban-remove', { address });
    process.stdout.write(`unbanned ${address}\n`);
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
