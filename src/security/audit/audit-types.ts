// What `palisade audit` works on and what it reports (docs/configuration.md, Security audit).
import type { HostFacts } from './host-types.js';

/** `info` is worth knowing and costs no points (e.g. root may log in over SSH with a key only) */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface Finding {
  /** stable check id, e.g. "weak-secret" */
  id: string;
  severity: Severity;
  /** what is wrong, naming the objects concerned (never a secret) */
  what: string;
  /** how to fix it */
  fix: string;
}

/** a file whose permissions matter */
export interface AuditedFile {
  path: string;
  /** "configuration", "database", "TLS private key"... */
  what: string;
  /** st_mode & 0o777, null when the file does not exist */
  mode: number | null;
  /** holds secrets: world- (or group-) readable is worse */
  secret: boolean;
}

export interface AuditInput {
  configPath: string;
  /** the YAML as plain data; keys that other parts of Palisade add are read from here defensively */
  raw: Record<string, unknown>;
  /** issues the loader reported (file:line: message), [] when the configuration loads */
  configIssues: string[];
  files: AuditedFile[];
  /** voicemail.conf mailboxes (when voicemail.file is set and readable) */
  mailboxes: Array<{ number: string; pin: string; where: string }>;
  /** the TLS certificate (PEM) when tls.cert is readable */
  tlsCertPem: string | null;
  /** the running server's `status` and `registrations` over the control socket; null when it is not running */
  live: { status: Record<string, unknown>; registrations: Array<Record<string, unknown>> } | null;
  /** for certificate expiry (tests pass a fixed clock) */
  now: number;
  /** Prosody's configuration when xmpp.prosody_config names it (text null: unreadable); absent without an xmpp section */
  prosody?: { path: string; text: string | null; authSocket: string | null };
  /** what was read from the host the audit runs on (SSH, updates, firewall, clock, disks); absent with --no-host */
  host?: HostFacts;
}

/**
 * A check that could not judge: its source cannot be read (`unknown`) or the
 * thing it looks at is not there (`not-installed`). Never counted as passed.
 */
export interface Unchecked {
  status: 'unknown' | 'not-installed';
  /** why, naming the source: "nft list ruleset: Operation not permitted" */
  why: string;
  /** how to let the audit read it, or what to install */
  fix: string;
  /** what could be judged all the same (e.g. one of three disks) */
  findings?: Finding[];
}

export type HostCheckStatus = 'pass' | 'finding' | 'unknown' | 'not-installed';

export interface AuditReport {
  score: number;
  findings: Finding[];
  /** ids of the checks that ran and found nothing */
  passed: string[];
  /** checks that could not judge, with why and how to fix that */
  unchecked: Array<{ id: string; title: string; status: Unchecked['status']; why: string; fix: string }>;
  /** the host checks and how each ended; null when they were skipped (--no-host) */
  host: Array<{ id: string; title: string; status: HostCheckStatus }> | null;
  /** whether the running server was asked */
  live: boolean;
  configPath: string;
}

export interface AuditCheck {
  id: string;
  /** one line: what the check looks at */
  title: string;
  run(input: AuditInput): Finding[] | Unchecked;
}
