// `palisade audit`: the configuration (and running server) against the checklist of docs/configuration.md (Security audit).
export { runAudit, formatReport, hasCritical, CHECKS, HOST_CHECKS, SEVERITY_WEIGHT } from './run-audit.js';
export { gatherAuditInput } from './gather-input.js';
export { gatherHostFacts } from './gather-host.js';
export { systemHostReaders } from './host-readers.js';
export { addressScope } from './checks-exposure.js';
export type { AuditInput, AuditReport, Finding, Severity, AuditCheck, AuditedFile, Unchecked } from './audit-types.js';
export type { HostFacts, HostReaders, ExecResult } from './host-types.js';
