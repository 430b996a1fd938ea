// `palisade secret generate [--count N]` and `palisade pin generate
// [--length N] [--mailbox M] [--count N]`: strong values to paste into the
// configuration, instead of anything a person would make up.
import { generatePin, generateSecret } from '../security/passwords/index.js';
import { parseCommandArgs } from '../admin/cli-args.js';

function count(value: string | undefined): number {
  const n = Number(value ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('--count must be 1..1000');
  return n;
}

export function runSecretGenerate(argv: string[]): number {
  const { values } = parseCommandArgs(argv, { count: 'string' }, 'usage: palisade secret generate [--count N]\n');
  const n = count(values.count);
  for (let i = 0; i < n; i++) process.stdout.write(generateSecret() + '\n');
  return 0;
}

export function runPinGenerate(argv: string[]): number {
  const { values } = parseCommandArgs(argv, { length: 'string', mailbox: 'string', count: 'string' }, 'usage: palisade pin generate [--length N] [--mailbox M] [--count N]\n');
  const length = Number(values.length ?? '6');
  if (!Number.isInteger(length) || length < 4 || length > 12) throw new Error('--length must be 4..12');
  const mailbox = values.mailbox;
  if (mailbox !== undefined && !/^[0-9]{1,15}$/.test(mailbox)) throw new Error('--mailbox must be the mailbox number (digits)');
  const n = count(values.count);
  for (let i = 0; i < n; i++) process.stdout.write(generatePin(length, mailbox) + '\n');
  return 0;
}
