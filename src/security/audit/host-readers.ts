// The host checks' readers on the real machine: programs run without a shell
// in the C locale (so their output can be parsed) with a time limit, files
// read as they are. Nothing here writes or reaches the network.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, readFile, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecResult, HostReaders } from './host-types.js';

/** sshd, nft and iptables-save live in sbin, which an ordinary user's PATH may lack */
const PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter((p) => p !== '').join(':');

/** the program's absolute path, or null when no PATH directory holds an executable of that name */
async function which(file: string): Promise<string | null> {
  if (file.includes('/')) return file;
  for (const dir of PATH.split(':')) {
    const p = join(dir, file);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here (or a directory this user may not enter): try the next
    }
  }
  return null;
}

export function systemHostReaders(timeoutMs = 20_000): HostReaders {
  return {
    async exec(file, args) {
      // resolved here so that "not installed" is told apart from "cannot be started" (EACCES from a PATH entry)
      const path = await which(file);
      if (path === null) return null;
      return new Promise<ExecResult>((resolve) => {
        execFile(
          path,
          args,
          { env: { ...process.env, PATH, LC_ALL: 'C', LANG: 'C' }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (!err) return resolve({ code: 0, stdout, stderr });
            // a number: the exit status; killed: the time limit; otherwise it could not be started (-1)
            const code = typeof err.code === 'number' ? err.code : err.killed ? null : -1;
            resolve({ code, stdout, stderr: stderr || err.message });
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
