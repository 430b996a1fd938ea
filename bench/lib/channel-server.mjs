// Palisade with a bench dialplan, for bench/channel-bench.mjs: every call to
// 7000 is answered by a channel that plays a prompt and then echoes the
// caller's audio until the caller hangs up. Run: node channel-server.mjs CONFIG
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { loadConfig } = await import(join(ROOT, 'dist', 'src', 'config', 'load-config.js'));
const { startPalisade } = await import(join(ROOT, 'dist', 'src', 'main.js'));

const cfg = loadConfig(process.argv[2]);
const dialplan = {
  has: (_context, exten) => exten === '7000',
  run: async (ch) => {
    await ch.answer();
    await ch.play(['vm-intro']);
    await ch.echo(0);
  },
};
const app = await startPalisade(cfg, { dialplan });
const stop = () => app.stop('signal').then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
