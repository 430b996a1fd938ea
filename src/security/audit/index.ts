// `palisade audit`: the configuration (and running server) against the checklist of docs/configuration.md (Security audit).
export { runAudit, formatReport, hasCritical, CHECKS, SEVERITY_WEIGHT } from './run-audit.js';
export { gatherAuditInput } from './gather-input.js';
export { addressScope } from './checks-exposure.js';
export type { AuditInput, AuditReport, Finding, Severity, AuditCheck, AuditedFile } from './audit-types.js';
