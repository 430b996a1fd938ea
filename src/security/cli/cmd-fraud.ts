// `palisade fraud import FILE --config FILE`: add known fraud numbers or
// prefixes (one per line; # comments; the first CSV column) to the database,
// normalised to E.164 digits with the configured number plan; a running
// server reloads them at once. Any malformed line aborts the import.
import type { CliEnv } from '../../core/module.js';
import type { LoadedConfig } from '../config/load-config.js';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { controlRequest } from '../../admin/control-socket.js';
import { openStorage } from '../../storage/database.js';
import { ReputationRepo } from '../../storage/reputation-repo.js';
import { FraudList, parseFraudFile } from '../fraud/fraud-list.js';
import { NumberPlan } from '../fraud/number-plan.js';
import { parseCommandArgs } from '../../admin/cli-args.js';

const USAGE = 'usage: palisade fraud import FILE --config FILE\n';

export async function runFraud(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { config: 'string' }, USAGE, 2);
  const [sub, file] = positionals;
  const cfgPath = values.config;
  if (sub !== 'import' || !file || !cfgPath) {
    process.stderr.write(USAGE);
    return 2;
  }
  const cfg = env.loadConfig(cfgPath);
  const list = new FraudList(new NumberPlan(cfg.guard.numbering));
  const { prefixes, rejected } = parseFraudFile(readFileSync(file, 'utf8'), list);
  if (rejected.length > 0) {
    process.stderr.write(`palisade: ${file}: lines ${rejected.slice(0, 20).join(', ')} are not numbers of at least 3 digits; nothing imported\n`);
    return 1;
  }
  const db = await openStorage(cfg.storage);
  let added: number;
  try {
    added = await new ReputationRepo(db).addFraudNumbers(prefixes, basename(file));
  } finally {
    await db.close();
  }
  let live = 'server not running; loaded at next start';
  try {
    const r = (await controlRequest(cfg.control.socket, 'fraud-reload')) as { fraud_numbers: number };
    live = `running server now blocks ${r.fraud_numbers} prefixes`;
  } catch {
    /* not running */
  }
  process.stdout.write(`imported ${added} new fraud prefixes (${prefixes.length} read); ${live}\n`);
  return 0;
}
