// Checks on operations: security log and IDS, alert mail, backups, TLS and
// SRTP, the certificate, and the permissions of files that hold secrets.
import { X509Certificate } from 'node:crypto';
import type { AuditCheck, Finding } from './audit-types.js';
import { at, extensions, listenPoints, listOf, obj, strings } from './raw-config.js';

export const securityLog: AuditCheck = {
  id: 'security-log-off',
  title: 'security log and intrusion detection',
  run(input) {
    const out: Finding[] = [];
    const log = obj(at(input.raw, 'security', 'log'));
    if (log && (log.enabled === false || log.file === '' || log.file === null)) {
      out.push({
        id: 'security-log-off',
        severity: 'high',
        what: 'the security log is turned off: failed logins and attacks leave no trace for fail2ban or OSSEC',
        fix: 'remove security.log.enabled: false (the log is on by default) and give security.log.file',
      });
    }
    const ids = obj(at(input.raw, 'security', 'ids'));
    if (ids && ids.enabled === false) {
      out.push({
        id: 'ids-off',
        severity: 'high',
        what: 'intrusion detection is turned off: password guessing and floods are never banned',
        fix: 'remove security.ids.enabled: false (on by default)',
      });
    }
    const scanners = obj(ids?.scanners);
    if (scanners && scanners.action === 'off') {
      out.push({ id: 'ids-off', severity: 'medium', what: 'scanner detection is off (security.ids.scanners.action: off)', fix: 'set security.ids.scanners.action: ban' });
    }
    return out;
  },
};

export const alertsEmail: AuditCheck = {
  id: 'alerts-email-missing',
  title: 'security alerts e-mailed to an administrator',
  run(input) {
    if (strings(at(input.raw, 'security', 'alerts', 'to')).length > 0) {
      if (obj(input.raw.mail)) return [];
      return [
        {
          id: 'alerts-email-missing',
          severity: 'medium',
          what: 'security.alerts.to is set but there is no mail: section, so alerts are only logged',
          fix: 'add mail: { from, smtp: { host, port } } for the SMTP relay',
        },
      ];
    }
    return [
      {
        id: 'alerts-email-missing',
        severity: 'medium',
        what: 'no administrator receives security alerts by e-mail (security.alerts.to is not set)',
        fix: 'set security.alerts.to: [admin@example.org] and a mail: section for the SMTP relay',
      },
    ];
  },
};

// Backups: `palisade backup` records when it last ran, and the running
// server reports it (status field `backup`). With the server running, the
// check judges the last backup's age; without it, Palisade cannot see the
// backups, and a standing low reminder of what to back up remains.
const BACKUP_MAX_AGE_DAYS = 7;

export const backups: AuditCheck = {
  id: 'backups-missing',
  title: 'backups of configuration, voicemail and records',
  run(input) {
    const live = obj(input.live?.status?.backup) as { last_at?: number | null } | undefined;
    if (live) {
      const at = typeof live.last_at === 'number' ? live.last_at : null;
      if (at === null) {
        return [
          {
            id: 'backups-missing',
            severity: 'medium',
            what: 'no backup has been made with `palisade backup`: lose the disk and configuration, voicemail and CDRs go with it',
            fix: 'run `palisade backup --config FILE` daily (cron or a systemd timer) and copy the archive off the machine (docs/operations.md, Backups)',
          },
        ];
      }
      const days = (input.now - at) / 86_400_000;
      if (days <= BACKUP_MAX_AGE_DAYS) return [];
      return [
        {
          id: 'backups-stale',
          severity: 'medium',
          what: `the last backup is ${Math.floor(days)} days old (${new Date(at).toISOString().slice(0, 10)})`,
          fix: `run \`palisade backup --config FILE\` at least every ${BACKUP_MAX_AGE_DAYS} days (cron or a systemd timer) and copy the archive off the machine`,
        },
      ];
    }
    const r = input.raw;
    const where = [
      'the database (storage)',
      'voicemail.spool_dir',
      'mail.spool_dir',
      'security.ids.state_file',
      'the configuration directory (YAML, extensions.conf, voicemail.conf, TLS files)',
    ];
    if (obj(r.voicemail) === undefined) where.splice(1, 1);
    return [
      {
        id: 'backups-missing',
        severity: 'low',
        what: 'Palisade cannot see whether backups are made (the server is not running): lose the disk and configuration, voicemail and CDRs go with it',
        fix: `run \`palisade backup --config FILE\` daily, or back up ${where.join(', ')}, and copy them off the machine, as docs/operations.md (Backups) describes`,
      },
    ];
  },
};

export const tlsSrtp: AuditCheck = {
  id: 'tls-not-used',
  title: 'TLS signalling and SRTP media',
  run(input) {
    const out: Finding[] = [];
    const points = listenPoints(input.raw);
    if (!points.some((p) => p.transport === 'tls')) {
      out.push({
        id: 'tls-not-used',
        severity: 'medium',
        what: 'SIP is not offered over TLS: passwords digests, numbers dialled and SRTP keys cross the network readable',
        fix: 'add tls:ADDRESS:5061 to sip.listen with a tls: section (cert, key), and move phones to it',
      });
    }
    const exts = extensions(input.raw);
    const required = exts.filter((e) => e.raw.encryption === 'required');
    if (exts.length > 0 && required.length === 0) {
      out.push({
        id: 'srtp-not-required',
        severity: 'medium',
        what: 'no extension requires encryption: calls may run as plain RTP that anyone on the path can record',
        fix: 'set encryption: required on extensions whose phones do TLS and SRTP (SDES)',
      });
    } else if (required.length > 0 && required.length < exts.length) {
      const plain = exts.filter((e) => e.raw.encryption !== 'required').map((e) => e.number);
      out.push({
        id: 'srtp-not-required',
        severity: 'low',
        what: `extensions not requiring encryption: ${listOf(plain)}`,
        fix: 'set encryption: required where the phones support TLS and SRTP',
      });
    }
    return out;
  },
};

export const tlsCertificate: AuditCheck = {
  id: 'tls-certificate',
  title: 'TLS certificate validity',
  run(input) {
    if (!input.tlsCertPem) return [];
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(input.tlsCertPem);
    } catch {
      return [{ id: 'tls-certificate', severity: 'high', what: 'tls.cert cannot be parsed as an X.509 certificate', fix: 'give a PEM certificate in tls.cert' }];
    }
    const out: Finding[] = [];
    const left = (Date.parse(cert.validTo) - input.now) / 86_400_000;
    if (left < 0) out.push({ id: 'tls-certificate', severity: 'high', what: `the TLS certificate expired on ${cert.validTo}`, fix: 'renew the certificate and reload' });
    else if (left < 30)
      out.push({
        id: 'tls-certificate',
        severity: 'medium',
        what: `the TLS certificate expires in ${Math.floor(left)} days (${cert.validTo})`,
        fix: 'renew the certificate before it expires',
      });
    if (cert.subject === cert.issuer && cert.verify(cert.publicKey)) {
      out.push({
        id: 'tls-certificate',
        severity: 'low',
        what: 'the TLS certificate is self-signed: phones can only trust it if it is installed on each of them',
        fix: 'use a certificate from a CA the phones trust, or provision this certificate as their CA',
      });
    }
    return out;
  },
};

export const filePermissions: AuditCheck = {
  id: 'file-permissions',
  title: 'permissions of the configuration, database and keys',
  run(input) {
    const out: Finding[] = [];
    for (const f of input.files) {
      if (f.mode === null) continue;
      const octal = '0' + f.mode.toString(8);
      if (f.what === 'control socket') {
        // whoever can connect to it can stop the PBX and read its state
        if (f.mode & 0o006)
          out.push({
            id: 'file-permissions',
            severity: 'high',
            what: `control socket ${f.path} is open to every local user (mode ${octal})`,
            fix: `chmod 600 ${f.path}; Palisade creates it 0600`,
          });
        continue;
      }
      if (f.mode & 0o002) {
        out.push({ id: 'file-permissions', severity: 'critical', what: `${f.what} ${f.path} is world-writable (mode ${octal})`, fix: `chmod 600 ${f.path}` });
      } else if (f.mode & 0o004) {
        out.push({
          id: 'file-permissions',
          severity: f.secret ? (f.what === 'TLS private key' ? 'critical' : 'high') : 'medium',
          what: `${f.what} ${f.path} is world-readable (mode ${octal})${f.secret ? ' and holds secrets' : ''}`,
          fix: `chmod 600 ${f.path} (owned by the service user)`,
        });
      } else if (f.mode & 0o040 && f.what === 'TLS private key') {
        out.push({ id: 'file-permissions', severity: 'medium', what: `TLS private key ${f.path} is group-readable (mode ${octal})`, fix: `chmod 600 ${f.path}` });
      }
    }
    return out;
  },
};
