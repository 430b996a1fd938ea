// Runs every check of the audit checklist (docs/configuration.md, Security
// audit) and scores the result: 100 minus a weight per finding (critical 30,
// high 15, medium 6, low 2), never below 0.
import type { AuditCheck, AuditInput, AuditReport, Finding, Severity } from './audit-types.js';
import { configLoads, plaintextSecrets, weakAdminPasswords, weakPins, weakSecrets } from './checks-credentials.js';
import { callLimits, localNetworks, publicWithoutAcl, registrationAcls, serverHeader, tollFraud, unusedListeners } from './checks-exposure.js';
import { alertsEmail, backups, filePermissions, securityLog, tlsCertificate, tlsSrtp } from './checks-operations.js';

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
];

export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 30, high: 15, medium: 6, low: 2 };
const ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function runAudit(input: AuditInput, checks: readonly AuditCheck[] = CHECKS): AuditReport {
  const findings: Finding[] = [];
  const passed: string[] = [];
  for (const c of checks) {
    let f: Finding[];
    try {
      f = c.run(input);
    } catch (err) {
      // one broken check must not hide the others
      f = [{ id: c.id, severity: 'medium', what: `the check "${c.title}" failed: ${(err as Error).message}`, fix: 'report this as a bug' }];
    }
    if (f.length === 0) passed.push(c.id);
    findings.push(...f);
  }
  findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  const score = Math.max(0, 100 - findings.reduce((n, f) => n + SEVERITY_WEIGHT[f.severity], 0));
  return { score, findings, passed, live: input.live !== null, configPath: input.configPath };
}

export function hasCritical(r: AuditReport): boolean {
  return r.findings.some((f) => f.severity === 'critical');
}

export function formatReport(r: AuditReport): string {
  const lines = [`Palisade security audit of ${r.configPath}${r.live ? ' (and the running server)' : ' (server not running: configuration only)'}`, ''];
  if (r.findings.length === 0) lines.push('No findings.');
  for (const f of r.findings) {
    lines.push(`[${f.severity.toUpperCase()}] ${f.id}: ${f.what}`, `    fix: ${f.fix}`);
  }
  lines.push('', `Checks passed: ${r.passed.length ? r.passed.join(', ') : 'none'}`);
  const counts = (['critical', 'high', 'medium', 'low'] as const).map((s) => `${r.findings.filter((f) => f.severity === s).length} ${s}`).join(', ');
  lines.push(`Score: ${r.score}/100 (${counts})`);
  return lines.join('\n') + '\n';
}
