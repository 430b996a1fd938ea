// Runs every check of the audit checklist (docs/configuration.md, Security
// audit) and scores the result: 100 minus a weight per finding (critical 30,
// high 15, medium 6, low 2, info 0), never below 0. With host facts in the
// input the host checks run too (docs/operations.md, Host checks); a check
// that cannot read its source is listed as unchecked, never as passed.
import type { AuditCheck, AuditInput, AuditReport, Finding, HostCheckStatus, Severity } from './audit-types.js';
import { hostFirewall } from './checks-firewall.js';
import { hostClock, hostDisk, hostSsh, hostUpdates } from './checks-host.js';
import { configLoads, plaintextSecrets, weakAdminPasswords, weakPins, weakSecrets } from './checks-credentials.js';
import { callLimits, localNetworks, publicWithoutAcl, registrationAcls, serverHeader, tollFraud, unusedListeners } from './checks-exposure.js';
import { alertsEmail, backups, filePermissions, securityLog, tlsCertificate, tlsSrtp } from './checks-operations.js';
import { xmppAuthLink } from './checks-xmpp.js';

export const CHECKS: readonly AuditCheck[] = [
  configLoads,
  weakSecrets,
  plaintextSecrets,
  weakPins,
  weakAdminPasswords,
  publicWithoutAcl,
  localNetworks,
  registrationAcls,
  callLimits,
  tollFraud,
  securityLog,
  alertsEmail,
  backups,
  tlsSrtp,
  tlsCertificate,
  unusedListeners,
  serverHeader,
  filePermissions,
  xmppAuthLink,
];

/** the checks of the machine the audit runs on; they run when the input carries host facts */
export const HOST_CHECKS: readonly AuditCheck[] = [hostSsh, hostUpdates, hostFirewall, hostClock, hostDisk];

export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 30, high: 15, medium: 6, low: 2, info: 0 };
const ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export function runAudit(input: AuditInput, checks: readonly AuditCheck[] = input.host ? [...CHECKS, ...HOST_CHECKS] : CHECKS): AuditReport {
  const findings: Finding[] = [];
  const passed: string[] = [];
  const unchecked: AuditReport['unchecked'] = [];
  const hostIds = new Set(HOST_CHECKS.map((c) => c.id));
  const host: NonNullable<AuditReport['host']> = [];
  for (const c of checks) {
    let status: HostCheckStatus;
    try {
      const r = c.run(input);
      if (Array.isArray(r)) {
        status = r.length === 0 ? 'pass' : 'finding';
        findings.push(...r);
      } else {
        status = r.status;
        unchecked.push({ id: c.id, title: c.title, status: r.status, why: r.why, fix: r.fix });
        findings.push(...(r.findings ?? []));
      }
    } catch (err) {
      // one broken check must not hide the others
      status = 'finding';
      findings.push({ id: c.id, severity: 'medium', what: `the check "${c.title}" failed: ${(err as Error).message}`, fix: 'report this as a bug' });
    }
    if (status === 'pass') passed.push(c.id);
    if (hostIds.has(c.id)) host.push({ id: c.id, title: c.title, status });
  }
  findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  const score = Math.max(0, 100 - findings.reduce((n, f) => n + SEVERITY_WEIGHT[f.severity], 0));
  return { score, findings, passed, unchecked, host: input.host ? host : null, live: input.live !== null, configPath: input.configPath };
}

export function hasCritical(r: AuditReport): boolean {
  return r.findings.some((f) => f.severity === 'critical');
}

export function formatReport(r: AuditReport): string {
  const lines = [`Palisade security audit of ${r.configPath}${r.live ? ' (and the running server)' : ' (server not running: configuration only)'}`, ''];
  if (r.findings.length === 0) lines.push('No findings.');
  // a fix may be several lines (an nft ruleset): continuation lines line up under its text
  const fix = (text: string) => `    fix: ${text.split('\n').join('\n         ')}`;
  for (const f of r.findings) {
    lines.push(`[${f.severity.toUpperCase()}] ${f.id}: ${f.what}`, fix(f.fix));
  }
  for (const u of r.unchecked) {
    lines.push(`[${u.status === 'unknown' ? 'UNKNOWN' : 'NOT INSTALLED'}] ${u.id}: ${u.status === 'unknown' ? 'cannot be read: ' : ''}${u.why}`, fix(u.fix));
  }
  lines.push('', `Checks passed: ${r.passed.length ? r.passed.join(', ') : 'none'}`);
  lines.push(r.host ? `Host checks: ${r.host.map((h) => `${h.id} ${h.status}`).join(', ')}` : 'Host checks: skipped (--no-host)');
  const counts = (['critical', 'high', 'medium', 'low', 'info'] as const).map((s) => `${r.findings.filter((f) => f.severity === s).length} ${s}`).join(', ');
  lines.push(`Score: ${r.score}/100 (${counts}${r.unchecked.length ? `; ${r.unchecked.length} check(s) could not judge` : ''})`);
  return lines.join('\n') + '\n';
}
