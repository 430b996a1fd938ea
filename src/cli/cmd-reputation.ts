// `palisade reputation show ADDRESS|USER --config FILE`: the score the
// running server holds for an address or an extension, over the control
// socket; `reputation reset` sets it back to 5 (a fixed phone's address).
import { loadConfig } from '../config/load-config.js';
import { controlRequest } from '../admin/control-socket.js';
import { option } from './main.js';

export async function runReputation(argv: string[]): Promise<number> {
  const [sub, subject] = argv;
  if ((sub !== 'show' && sub !== 'reset') || !subject || subject.startsWith('--')) {
    process.stderr.write('usage: palisade reputation show|reset ADDRESS|USER --config FILE\n');
    return 2;
  }
  const socket = option(argv, '--socket') ?? loadConfig(option(argv, '--config') ?? fail()).control.socket;
  const r = (await controlRequest(socket, sub === 'show' ? 'reputation' : 'reputation-reset', { subject })) as Record<string, unknown>;
  for (const [k, v] of Object.entries(r)) process.stdout.write(`${k}: ${String(v)}\n`);
  return 0;
}

function fail(): never {
  throw new Error('--config FILE (or --socket PATH) is required');
}
