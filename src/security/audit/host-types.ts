// What the host checks of `palisade audit` read from the machine they run on
// (docs/operations.md, Host checks), and the readers they read it through:
// tests pass readers over prepared files, the CLI passes the system's.
import type { Ruleset } from './firewall-rules.js';

/** the result of running a program; stdout and stderr as text */
export interface ExecResult {
  /** exit status; null when the program was killed (timeout), -1 when it could not be started */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface HostReaders {
  /** runs a program without a shell, in the C locale; null when it is not installed */
  exec(file: string, args: string[]): Promise<ExecResult | null>;
  /** a text file; rejects with the system error (code ENOENT, EACCES...) */
  readFile(path: string): Promise<string>;
  /** the names in a directory; rejects like readFile */
  readDir(path: string): Promise<string[]>;
  /** modification time in ms; rejects like readFile */
  mtime(path: string): Promise<number>;
  /** the filesystem holding path: device id, size and space available to unprivileged users, in bytes */
  statfs(path: string): Promise<{ device: number; total: number; available: number }>;
  /** whether path exists */
  exists(path: string): Promise<boolean>;
}

/** "cannot be read" or "not installed" of one source, with the reason */
export interface Unreadable {
  state: 'unreadable' | 'not-installed';
  why: string;
}

/** one sshd setting: lower-case keyword → its values (one entry per directive for repeatable keywords) */
export type SshSettings = Map<string, string[]>;

export interface SshMatchBlock {
  /** the Match line's criteria, e.g. "User backup" */
  criteria: string;
  settings: SshSettings;
  /** file:line of the Match line */
  where: string;
}

export type SshFacts =
  | Unreadable
  | {
      state: 'read';
      /** "sshd -T" (the effective configuration) or "/etc/ssh/sshd_config" (parsed, Includes followed) */
      source: string;
      /** the settings outside Match blocks; keywords not set are absent (the checks apply sshd's defaults) */
      global: SshSettings;
      /** Match blocks from the files; empty when only sshd -T could be read */
      matches: SshMatchBlock[];
    };

export type UpdateFacts =
  | Unreadable
  | {
      state: 'read';
      /** packages with a newer version from a security suite ("-security" in the origin) */
      security: string[];
      /** all packages an upgrade would change */
      upgradable: number;
      /** newest modification time of the package lists; null when there are none */
      listsTime: number | null;
      /** unattended-upgrades installed and APT::Periodic::Unattended-Upgrade on; null when unknown */
      automatic: boolean | null;
    };

export type FirewallFacts = Unreadable | { state: 'read'; source: 'nft' | 'iptables'; ruleset: Ruleset };

export type ClockFacts = Unreadable | { state: 'read'; source: string; synchronised: boolean };

export interface DiskFacts {
  /** "voicemail spool", "database", ... */
  what: string;
  path: string;
  /** the existing directory measured (path itself or its nearest existing parent) */
  measured: string;
  result: Unreadable | { state: 'read'; device: number; total: number; available: number };
}

export interface HostFacts {
  ssh: SshFacts;
  updates: UpdateFacts;
  firewall: FirewallFacts;
  clock: ClockFacts;
  disks: DiskFacts[];
}
