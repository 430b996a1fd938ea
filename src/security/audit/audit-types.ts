// What `palisade audit` works on and what it reports (docs/configuration.md, Security audit).
export type Severity = 'critical' | 'high' | 'medium' | 'low';

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
}

export interface AuditReport {
  score: number;
  findings: Finding[];
  /** ids of the checks that ran and found nothing */
  passed: string[];
  /** whether the running server was asked */
  live: boolean;
  configPath: string;
}

export interface AuditCheck {
  id: string;
  /** one line: what the check looks at */
  title: string;
  run(input: AuditInput): Finding[];
}
