// `palisade backup [--out FILE] --config FILE` (while the server runs) and
// `palisade restore FILE --config FILE` (with the server stopped):
// src/features/console/backup.ts. The backup's time is recorded in the
// database; the running server reports it to the audit.
import { resolve } from 'node:path';
import type { CliEnv } from '../../../core/module.js';
import type { LoadedConfig } from '../../../security/config/load-config.js';
import { parseCommandArgs } from '../../../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../../../admin/control-client.js';
import { openStorage } from '../../../storage/database.js';
import { ConsoleStore } from '../console-store.js';
import { BackupError, makeBackup, restoreBackup } from '../backup.js';

export const BACKUP_USAGE =
  '  backup [--out FILE.tar.gz] --config FILE\n                                 configuration, database, dialplan, voicemail, prompts in one archive (safe while calls run)\n' +
  '  restore FILE.tar.gz --config FILE\n                                 put a backup back (the server must be stopped)\n';

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export async function runBackup(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS, out: 'string' }, `usage:\n${BACKUP_USAGE}`, 0);
  if (!values.config || positionals.length > 0) {
    process.stderr.write(`usage:\n${BACKUP_USAGE}`);
    return 2;
  }
  const cfg = env.loadConfig(values.config);
  const out = resolve(values.out ?? resolve(cfg.baseDir, 'var', 'backups', `palisade-${stamp(Date.now())}.tar.gz`));
  const storage = await openStorage(cfg.storage);
  try {
    const store = new ConsoleStore(storage);
    await store.migrate();
    const r = await makeBackup(cfg, storage, out);
    await store.setSetting('last_backup', JSON.stringify({ at: Date.now(), file: out }));
    process.stdout.write(`backup written to ${out} (${r.bytes} bytes, database and ${r.parts - (cfg.storage.driver === 'sqlite' ? 1 : 0)} file(s) and folder(s))\n`);
  } catch (err) {
    if (err instanceof BackupError) {
      process.stderr.write(`palisade backup: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await storage.close();
  }
  await askServer(values, env.loadConfig, 'console-reload', {}, 2000).catch(() => undefined);
  return 0;
}

export async function runRestore(argv: string[], env: CliEnv<LoadedConfig>): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS }, `usage:\n${BACKUP_USAGE}`, 1);
  if (!values.config || positionals.length !== 1) {
    process.stderr.write(`usage:\n${BACKUP_USAGE}`);
    return 2;
  }
  const cfg = env.loadConfig(values.config);
  const running = await askServer(values, env.loadConfig, 'status', {}, 2000).then(
    () => true,
    () => false,
  );
  if (running) {
    process.stderr.write('palisade restore: the server is running; stop it first (a restore replaces its database and files)\n');
    return 1;
  }
  try {
    const m = await restoreBackup(resolve(positionals[0]!), cfg, () => openStorage(cfg.storage));
    process.stdout.write(`restored the backup of ${new Date(m.createdAt).toISOString()}: database, ${m.files.length + m.dirs.length} file(s) and folder(s)\n`);
    return 0;
  } catch (err) {
    if (err instanceof BackupError) {
      process.stderr.write(`palisade restore: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
