// Reads the host the audit runs on (docs/operations.md, Host checks): the
// SSH server's configuration, pending security updates from the local
// package lists, the firewall ruleset, clock synchronisation and free disk
// space. Every source goes through HostReaders; each one that cannot be read
// is recorded with the reason, so the checks can say "cannot be read" and
// never mistake silence for a pass. Nothing is changed and nothing is fetched
// from the network.
import { posix } from 'node:path';
import { parseIptablesSave, parseNftJson } from './firewall-rules.js';
import type { ClockFacts, DiskFacts, ExecResult, FirewallFacts, HostFacts, HostReaders, SshFacts, UpdateFacts } from './host-types.js';
import { at, str } from './raw-config.js';
import { parseSshdConfig, parseSshdT } from './sshd-config.js';

const SSHD_CONFIG = '/etc/ssh/sshd_config';
const APT_LISTS = '/var/lib/apt/lists';

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied (${e.path ?? 'file'})`;
  if (e.code === 'ENOENT') return `${e.path ?? 'file'} does not exist`;
  return (e.message ?? String(err)).split('\n')[0]!;
}

/** the first line of what a failed program said */
function failure(cmd: string, r: ExecResult): string {
  const msg = (r.stderr.trim() || r.stdout.trim()).split('\n').find((l) => l.trim() !== '') ?? '';
  return `${cmd} ${r.code === null ? 'timed out' : r.code === -1 ? 'could not be started' : `exited with ${r.code}`}${msg ? `: ${msg.trim()}` : ''}`;
}

export async function gatherSsh(readers: HostReaders): Promise<SshFacts> {
  const t = await readers.exec('sshd', ['-T']);
  let files: Awaited<ReturnType<typeof parseSshdConfig>> | null = null;
  let fileError: unknown = null;
  try {
    files = await parseSshdConfig(SSHD_CONFIG, readers);
  } catch (err) {
    fileError = err;
  }
  if (t && t.code === 0 && /^port /m.test(t.stdout)) {
    return { state: 'read', source: 'sshd -T', global: parseSshdT(t.stdout), matches: files?.matches ?? [] };
  }
  if (files) return { state: 'read', source: files.files.length > 1 ? `${SSHD_CONFIG} and ${files.files.length - 1} included file(s)` : SSHD_CONFIG, ...files };
  if (t === null && (fileError as NodeJS.ErrnoException).code === 'ENOENT') {
    return { state: 'not-installed', why: `no SSH server: sshd is not installed and ${SSHD_CONFIG} does not exist` };
  }
  const tried = [t ? failure('sshd -T', t) : 'sshd is not on the PATH', `${SSHD_CONFIG}: ${reason(fileError)}`];
  return { state: 'unreadable', why: tried.join('; ') };
}

/** "Inst libssl3 [3.0.15-1] (3.0.16-1 Debian-Security:12/stable-security [amd64])" */
export function parseAptSimulation(text: string): { upgradable: string[]; security: string[] } {
  const upgradable: string[] = [];
  const security: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^Inst (\S+)(?: \[[^\]]*\])? \(([^)]*)\)/.exec(line);
    if (!m) continue;
    upgradable.push(m[1]!);
    // the origins offering the new version, e.g. "Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]"
    if (/[-/]security\b|Security:/i.test(m[2]!)) security.push(m[1]!);
  }
  return { upgradable, security };
}

async function listsTime(readers: HostReaders): Promise<number | null> {
  let newest: number | null = null;
  for (const n of await readers.readDir(APT_LISTS)) {
    if (!/(_InRelease|_Release|_Packages(\.\w+)?)$/.test(n)) continue;
    const t = await readers.mtime(posix.join(APT_LISTS, n));
    if (newest === null || t > newest) newest = t;
  }
  return newest;
}

export async function gatherUpdates(readers: HostReaders): Promise<UpdateFacts> {
  // -s simulates: nothing is installed; NoLocking lets it run beside a running apt
  const sim = await readers.exec('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade']);
  if (sim === null) return { state: 'unreadable', why: 'apt-get is not installed: pending updates are read from Debian/Ubuntu package lists only' };
  if (sim.code !== 0) return { state: 'unreadable', why: failure('apt-get -s dist-upgrade', sim) };
  const { upgradable, security } = parseAptSimulation(sim.stdout);
  let time: number | null = null;
  try {
    time = await listsTime(readers);
  } catch (err) {
    return { state: 'unreadable', why: `${APT_LISTS}: ${reason(err)}` };
  }
  let automatic: boolean | null = null;
  const dump = await readers.exec('apt-config', ['dump']);
  if (dump && dump.code === 0) {
    const on = /^APT::Periodic::Unattended-Upgrade "([^"]*)";/m.exec(dump.stdout);
    automatic = !!on && on[1] !== '0' && on[1] !== '' && (await readers.exists('/usr/bin/unattended-upgrade'));
  }
  return { state: 'read', security, upgradable: upgradable.length, listsTime: time, automatic };
}

export async function gatherFirewall(readers: HostReaders): Promise<FirewallFacts> {
  const nft = await readers.exec('nft', ['-j', 'list', 'ruleset']);
  if (nft && nft.code === 0) {
    try {
      return { state: 'read', source: 'nft', ruleset: parseNftJson(nft.stdout) };
    } catch (err) {
      return { state: 'unreadable', why: `nft -j list ruleset: ${reason(err)}` };
    }
  }
  const ipt = await readers.exec('iptables-save', []);
  if (ipt && ipt.code === 0) return { state: 'read', source: 'iptables', ruleset: parseIptablesSave(ipt.stdout) };
  if (nft === null && ipt === null) return { state: 'unreadable', why: 'neither nft nor iptables-save is installed' };
  return { state: 'unreadable', why: [nft && failure('nft -j list ruleset', nft), ipt && failure('iptables-save', ipt)].filter(Boolean).join('; ') };
}

export async function gatherClock(readers: HostReaders): Promise<ClockFacts> {
  const tried: string[] = [];
  const td = await readers.exec('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (td && td.code === 0 && /^(yes|no)$/.test(td.stdout.trim())) return { state: 'read', source: 'timedatectl', synchronised: td.stdout.trim() === 'yes' };
  if (td) tried.push(failure('timedatectl', td));
  const chrony = await readers.exec('chronyc', ['-n', 'tracking']);
  const leap = chrony && chrony.code === 0 ? /^Leap status\s*:\s*(.+)$/m.exec(chrony.stdout) : null;
  if (leap) return { state: 'read', source: 'chronyc tracking', synchronised: leap[1]!.trim() !== 'Not synchronised' };
  if (chrony) tried.push(failure('chronyc tracking', chrony));
  // ntpstat: 0 synchronised, 1 not, 2 state unknown (ntpd not answering)
  const ntp = await readers.exec('ntpstat', []);
  if (ntp && (ntp.code === 0 || ntp.code === 1)) return { state: 'read', source: 'ntpstat', synchronised: ntp.code === 0 };
  if (ntp) tried.push(failure('ntpstat', ntp));
  if (tried.length === 0) return { state: 'unreadable', why: 'none of timedatectl, chronyc or ntpstat is installed' };
  return { state: 'unreadable', why: tried.join('; ') };
}

/** the directories whose filesystems hold what Palisade writes, relative paths against the configuration's folder */
export function diskPaths(raw: Record<string, unknown>, configDir: string): Array<{ what: string; path: string }> {
  const abs = (p: string) => posix.resolve(configDir, p);
  const out = [
    { what: 'voicemail spool', path: abs(str(at(raw, 'voicemail', 'spool_dir')) ?? 'var/voicemail') },
    { what: 'mail spool', path: abs(str(at(raw, 'mail', 'spool_dir')) ?? 'var/mail') },
    { what: 'security log', path: posix.dirname(abs(str(at(raw, 'security', 'log', 'file')) ?? 'var/security.log')) },
    { what: 'system logs', path: '/var/log' },
  ];
  const driver = str(at(raw, 'storage', 'driver')) ?? 'sqlite';
  const db = str(at(raw, 'storage', 'path')) ?? 'var/palisade.db';
  if (driver === 'sqlite' && db !== ':memory:') out.splice(2, 0, { what: 'database', path: posix.dirname(abs(db)) });
  return out;
}

export async function gatherDisks(raw: Record<string, unknown>, configDir: string, readers: HostReaders): Promise<DiskFacts[]> {
  const out: DiskFacts[] = [];
  for (const { what, path } of diskPaths(raw, configDir)) {
    // a spool not created yet will live on the filesystem of its nearest existing parent
    let measured = path;
    while (measured !== '/' && !(await readers.exists(measured))) measured = posix.dirname(measured);
    try {
      out.push({ what, path, measured, result: { state: 'read', ...(await readers.statfs(measured)) } });
    } catch (err) {
      out.push({ what, path, measured, result: { state: 'unreadable', why: `statfs ${measured}: ${reason(err)}` } });
    }
  }
  return out;
}

export async function gatherHostFacts(raw: Record<string, unknown>, configDir: string, readers: HostReaders): Promise<HostFacts> {
  const [ssh, updates, firewall, clock, disks] = await Promise.all([
    gatherSsh(readers),
    gatherUpdates(readers),
    gatherFirewall(readers),
    gatherClock(readers),
    gatherDisks(raw, configDir, readers),
  ]);
  return { ssh, updates, firewall, clock, disks };
}
