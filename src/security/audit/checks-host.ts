// Checks on the host the audit runs on, after ITSPA's checklist and the
// Elastix hardening guidance: the SSH server, pending security updates, clock
// synchronisation and free disk (the firewall is in checks-firewall.ts). They
// judge HostFacts (gather-host.ts); a source that could not be read makes
// the check "unknown", never passed.
import type { AuditCheck, AuditInput, Finding, Unchecked } from './audit-types.js';
import type { HostFacts, SshSettings, Unreadable } from './host-types.js';
import { listOf } from './raw-config.js';
import { SSHD_DEFAULTS, sshValue } from './sshd-config.js';

const DAY = 86_400_000;
const GIB = 1024 ** 3;
/** package lists older than this may not know of recent security updates */
export const LISTS_STALE_DAYS = 7;

export function unchecked(u: Unreadable, fix: string, findings?: Finding[]): Unchecked {
  return { status: u.state === 'not-installed' ? 'not-installed' : 'unknown', why: u.why, fix, ...(findings?.length ? { findings } : {}) };
}

/** the host facts, or an "unknown" when the audit was given none */
export function hostOf(input: AuditInput): HostFacts | Unchecked {
  return input.host ?? { status: 'unknown', why: 'the host was not read', fix: 'run palisade audit without --no-host on the PBX itself' };
}

const SSH_DROPIN = '/etc/ssh/sshd_config.d/00-hardening.conf';
const sshFix = (lines: string) => `put ${lines} in ${SSH_DROPIN} (read before the rest of sshd_config: the first value wins), then sshd -t && systemctl reload ssh`;

function kbdPasswords(g: SshSettings): boolean {
  const kbd = sshValue(g, 'kbdinteractiveauthentication', sshValue(g, 'challengeresponseauthentication', SSHD_DEFAULTS.kbdinteractiveauthentication!));
  return kbd === 'yes' && sshValue(g, 'usepam', SSHD_DEFAULTS.usepam!) === 'yes';
}

function sshGlobal(g: SshSettings, source: string): Finding[] {
  const out: Finding[] = [];
  const v = (k: string) => sshValue(g, k, SSHD_DEFAULTS[k]!);
  const passwords = v('passwordauthentication') === 'yes';
  const pam = kbdPasswords(g);
  if (v('permitemptypasswords') === 'yes') {
    out.push({
      id: 'ssh-empty-passwords',
      severity: 'critical',
      what: `SSH accepts accounts with an empty password (PermitEmptyPasswords yes, ${source})`,
      fix: sshFix('"PermitEmptyPasswords no"'),
    });
  }
  const root = v('permitrootlogin');
  if (root === 'yes') {
    out.push({
      id: 'ssh-root-login',
      severity: passwords || pam ? 'critical' : 'high',
      what: `root may log in over SSH${passwords || pam ? ' with a password' : ''} (PermitRootLogin yes, ${source}): one guessed password owns the PBX`,
      fix: sshFix('"PermitRootLogin no"') + '; log in as a named user with a key and use sudo',
    });
  } else if (root === 'prohibit-password' || root === 'without-password') {
    out.push({
      id: 'ssh-root-login',
      severity: 'info',
      what: `root may log in over SSH with a key (PermitRootLogin ${root}${g.has('permitrootlogin') ? '' : ', the default'})`,
      fix: sshFix('"PermitRootLogin no"') + ' once every administrator has a named account',
    });
  }
  if (passwords) {
    out.push({
      id: 'ssh-password-auth',
      severity: 'high',
      what: `SSH accepts passwords (PasswordAuthentication yes${g.has('passwordauthentication') ? '' : ', the default'}, ${source}): open to the password guessing every public address sees`,
      fix: sshFix('"PasswordAuthentication no" and "KbdInteractiveAuthentication no"') + ", after installing each administrator's key (ssh-copy-id)",
    });
  } else if (pam) {
    out.push({
      id: 'ssh-password-auth',
      severity: 'medium',
      what: `SSH may still ask for passwords through PAM (KbdInteractiveAuthentication yes with UsePAM yes, ${source})`,
      fix: sshFix('"KbdInteractiveAuthentication no"'),
    });
  }
  const ports = g.get('port') ?? [SSHD_DEFAULTS.port!];
  if (ports.some((p) => p.trim() === '22')) {
    out.push({
      id: 'ssh-port-22',
      severity: 'low',
      what: 'SSH listens on port 22, where every scanner knocks first (the logs fill with guessing)',
      fix: sshFix('"Port 2222" (any unused port)') + ', and open that port in the firewall before closing 22',
    });
  }
  if (!g.has('allowusers') && !g.has('allowgroups')) {
    out.push({
      id: 'ssh-no-allow-list',
      severity: 'low',
      what: 'no AllowUsers or AllowGroups: every account with a shell may log in over SSH',
      fix: sshFix('"AllowGroups sshusers"') + ' and add the administrators to that group (groupadd sshusers; usermod -aG sshusers NAME)',
    });
  }
  return out;
}

/** Match blocks that loosen what the global settings close, judged as if their condition were met */
function sshMatches(facts: Extract<HostFacts['ssh'], { state: 'read' }>): Finding[] {
  const out: Finding[] = [];
  const g = facts.global;
  for (const m of facts.matches) {
    const loosened: string[] = [];
    let severity: Finding['severity'] = 'medium';
    if (sshValue(m.settings, 'permitemptypasswords', 'no') === 'yes' && sshValue(g, 'permitemptypasswords', 'no') !== 'yes') {
      loosened.push('PermitEmptyPasswords yes');
      severity = 'critical';
    }
    if (sshValue(m.settings, 'permitrootlogin', 'no') === 'yes' && sshValue(g, 'permitrootlogin', SSHD_DEFAULTS.permitrootlogin!) !== 'yes') loosened.push('PermitRootLogin yes');
    if (sshValue(m.settings, 'passwordauthentication', 'no') === 'yes' && sshValue(g, 'passwordauthentication', SSHD_DEFAULTS.passwordauthentication!) !== 'yes') {
      loosened.push('PasswordAuthentication yes');
    }
    if (loosened.length === 0) continue;
    out.push({
      id: 'ssh-match-loosens',
      severity,
      what: `Match ${m.criteria} (${m.where}) sets ${loosened.join(', ')}: whoever matches gets in that way`,
      fix: `remove ${loosened.join(', ')} from that Match block, or narrow it to a trusted Address, then sshd -t && systemctl reload ssh`,
    });
  }
  return out;
}

export const hostSsh: AuditCheck = {
  id: 'host-ssh',
  title: 'SSH server: root login, passwords, port, allowed users',
  run(input) {
    const host = hostOf(input);
    if ('status' in host) return host;
    const f = host.ssh;
    if (f.state !== 'read') {
      return unchecked(
        f,
        f.state === 'not-installed'
          ? 'nothing to do while the PBX is managed from its console; if an SSH server runs elsewhere (a container, another path), audit it there'
          : 'run palisade audit as root (sudo), which may read sshd_config and run sshd -T',
      );
    }
    return [...sshGlobal(f.global, f.source), ...sshMatches(f)];
  },
};

export const hostUpdates: AuditCheck = {
  id: 'host-updates',
  title: 'pending security updates of the operating system',
  run(input) {
    const host = hostOf(input);
    if ('status' in host) return host;
    const u = host.updates;
    if (u.state !== 'read')
      return unchecked(u, "on Debian/Ubuntu run the audit where apt-get works; elsewhere check with the distribution's tool (dnf updateinfo list --security)");
    const out: Finding[] = [];
    if (u.security.length > 0) {
      out.push({
        id: 'security-updates-pending',
        severity: 'high',
        what: `${u.security.length} package(s) have security updates not installed: ${listOf(u.security, 8)}`,
        fix: 'apt-get update && apt-get upgrade, then restart what uses them (needrestart lists it) or reboot for a new kernel',
      });
    }
    const age = u.listsTime === null ? null : (input.now - u.listsTime) / DAY;
    if (age === null || age > LISTS_STALE_DAYS) {
      out.push({
        id: 'package-lists-stale',
        severity: 'medium',
        what:
          age === null
            ? 'the package lists have never been downloaded: pending security updates cannot be known'
            : `the package lists were last refreshed ${Math.floor(age)} days ago: security updates published since are not counted`,
        fix: 'apt-get update (unattended-upgrades does it daily), then run the audit again',
      });
    }
    if (u.automatic === false) {
      out.push({
        id: 'automatic-updates-off',
        severity: 'low',
        what: 'security updates are not installed automatically (unattended-upgrades is not installed or not enabled)',
        fix: 'apt-get install unattended-upgrades && dpkg-reconfigure -plow unattended-upgrades',
      });
    }
    return out;
  },
};

export const hostClock: AuditCheck = {
  id: 'host-clock',
  title: 'system clock synchronised (NTP)',
  run(input) {
    const host = hostOf(input);
    if ('status' in host) return host;
    const c = host.clock;
    if (c.state !== 'read') return unchecked(c, 'install chrony (apt-get install chrony) so the clock is kept and can be checked (chronyc tracking)');
    if (c.synchronised) return [];
    return [
      {
        id: 'clock-not-synchronised',
        severity: 'medium',
        what: `the system clock is not synchronised (${c.source}): CDR times, security-log times fail2ban compares, and TLS certificate checks go wrong`,
        fix: 'apt-get install chrony (or timedatectl set-ntp true for systemd-timesyncd) and check with chronyc tracking',
      },
    ];
  },
};

const size = (b: number) => (b >= GIB ? `${(b / GIB).toFixed(1)} GiB` : `${Math.round(b / 1024 ** 2)} MiB`);

export const hostDisk: AuditCheck = {
  id: 'host-disk',
  title: 'free disk for voicemail, logs and the database',
  run(input) {
    const host = hostOf(input);
    if ('status' in host) return host;
    const byDevice = new Map<number, { total: number; available: number; uses: string[] }>();
    const failed: string[] = [];
    for (const d of host.disks) {
      if (d.result.state !== 'read') {
        failed.push(`${d.what}: ${d.result.why}`);
        continue;
      }
      const e = byDevice.get(d.result.device) ?? { total: d.result.total, available: d.result.available, uses: [] };
      e.uses.push(`${d.what} (${d.path})`);
      byDevice.set(d.result.device, e);
    }
    const out: Finding[] = [];
    for (const e of byDevice.values()) {
      if (e.total <= 0) continue;
      const pct = (100 * e.available) / e.total;
      if (pct >= 10 && e.available >= GIB) continue;
      out.push({
        id: 'disk-space-low',
        severity: pct < 2 ? 'high' : 'medium',
        what: `only ${size(e.available)} (${pct.toFixed(1)} %) free on the filesystem holding ${listOf(e.uses)}: when it fills, messages, CDRs and the security log (fail2ban's input) are lost`,
        fix: 'free space (old voicemail, journalctl --vacuum-size=200M, rotated logs) or grow the filesystem; keep at least 10 % and 1 GiB free',
      });
    }
    if (failed.length > 0) {
      return { status: 'unknown', why: failed.join('; '), fix: 'run palisade audit as the service user or root, which may read those folders', findings: out };
    }
    return out;
  },
};
