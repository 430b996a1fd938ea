// The host checks' readers on the real machine: programs run without a shell
// in the C locale (so their output can be parsed) with a time limit, files
// read as they are. Nothing here writes or reaches the network.
import { execFile } from 'node:child_process';
import { access, readdir, readFile, stat, statfs } from 'node:fs/promises';
import type { ExecResult, HostReaders } from './host-types.js';

/** sshd, nft and iptables-save live in sbin, which an ordinary user's PATH may lack */
const PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter((p) => p !== '').join(':');

export function systemHostReaders(timeoutMs = 20_000): HostReaders {
  return {
    exec(file, args) {
      return new Promise<ExecResult | null>((resolve) => {
        execFile(
          file,
          args,
          { env: { ...process.env, PATH, LC_ALL: 'C', LANG: 'C' }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null);
            const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? null : 1) : 0;
            resolve({ code, stdout, stderr: stderr || (err && code !== 0 && !stderr ? err.message : '') });
          },
        );
      });
    },
    readFile: (path) => readFile(path, 'utf8'),
    readDir: (path) => readdir(path),
    mtime: async (path) => (await stat(path)).mtimeMs,
    async statfs(path) {
      const [fs, st] = await Promise.all([statfs(path), stat(path)]);
      return { device: st.dev, total: fs.blocks * fs.bsize, available: fs.bavail * fs.bsize };
    },
    exists: (path) =>
      access(path).then(
        () => true,
        () => false,
      ),
  };
}
