// sshd's configuration as sshd itself reads it, for the SSH host check:
// `sshd -T` output when it can be had (the effective configuration; root
// only), else sshd_config parsed with sshd_config(5)'s rules — "Unless noted
// otherwise, for each parameter, the first obtained value will be used",
// Include expands globs in lexical order at the point it appears (relative
// paths are taken from /etc/ssh), and a Match block lasts until the next Match
// line or the end of its file.
import { posix } from 'node:path';
import type { HostReaders, SshMatchBlock, SshSettings } from './host-types.js';

/** keywords that may be given several times, every directive counting (sshd_config(5)) */
const REPEATABLE = new Set(['port', 'listenaddress', 'allowusers', 'allowgroups', 'denyusers', 'denygroups', 'hostkey', 'acceptenv', 'subsystem', 'setenv']);

/** `sshd -T`: one "keyword value" a line, keywords in lower case */
export function parseSshdT(text: string): SshSettings {
  const out: SshSettings = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), m[2]!.trim()]);
  }
  return out;
}

interface ParseState {
  global: SshSettings;
  matches: SshMatchBlock[];
  files: string[];
  depth: number;
}

function set(settings: SshSettings, key: string, value: string): void {
  const prev = settings.get(key);
  if (prev === undefined) settings.set(key, [value]);
  else if (REPEATABLE.has(key)) prev.push(value);
  // otherwise the first obtained value wins
}

/** glob with * and ? in the last path component, as sshd's Include allows in practice */
async function expandInclude(pattern: string, readers: HostReaders): Promise<string[]> {
  const abs = posix.isAbsolute(pattern) ? pattern : posix.join('/etc/ssh', pattern);
  const dir = posix.dirname(abs);
  const base = posix.basename(abs);
  if (!/[*?[]/.test(base)) return [abs];
  const re = new RegExp(
    '^' +
      base
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]') +
      '$',
  );
  let names: string[];
  try {
    names = await readers.readDir(dir);
  } catch {
    return []; // sshd ignores a glob that matches nothing
  }
  return names
    .filter((n) => re.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => posix.join(dir, n));
}

async function parseFile(path: string, readers: HostReaders, st: ParseState, inMatch: SshMatchBlock | null): Promise<void> {
  if (st.depth > 16) throw new Error(`${path}: Include nested too deeply`);
  const text = await readers.readFile(path); // the caller reports an unreadable file
  st.files.push(path);
  let match = inMatch;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9]+)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.replace(/\s+#.*$/, '').trim();
    if (key === 'match') {
      match = { criteria: value, settings: new Map(), where: `${path}:${i + 1}` };
      st.matches.push(match);
      continue;
    }
    if (key === 'include') {
      for (const pattern of value.split(/\s+/)) {
        for (const f of await expandInclude(pattern, readers)) {
          st.depth++;
          try {
            await parseFile(f, readers, st, match);
          } catch (err) {
            // an Include'd file that vanished between readdir and read is skipped, as sshd would
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          } finally {
            st.depth--;
          }
        }
      }
      continue;
    }
    set(match ? match.settings : st.global, key, value);
  }
}

/** sshd_config and what it includes; rejects when the main file cannot be read */
export async function parseSshdConfig(path: string, readers: HostReaders): Promise<{ global: SshSettings; matches: SshMatchBlock[]; files: string[] }> {
  const st: ParseState = { global: new Map(), matches: [], files: [], depth: 0 };
  await parseFile(path, readers, st, null);
  return { global: st.global, matches: st.matches, files: st.files };
}

/** the first value of a keyword, lower-cased, or sshd's default */
export function sshValue(settings: SshSettings, key: string, dflt: string): string {
  return (settings.get(key)?.[0] ?? dflt).toLowerCase();
}

/** sshd's compiled-in defaults for the keywords the check judges (OpenSSH 7.0 and later) */
export const SSHD_DEFAULTS: Record<string, string> = {
  permitrootlogin: 'prohibit-password',
  passwordauthentication: 'yes',
  kbdinteractiveauthentication: 'yes',
  usepam: 'no',
  permitemptypasswords: 'no',
  port: '22',
};
