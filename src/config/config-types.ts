// The loaded configuration with every default filled in. YAML keys are
// snake_case; these are their camelCase twins. docs/configuration.md is the
// reference for meaning and defaults.
import type { ListenPoint } from '../transport/types.js';
import type { DigestAlgorithm } from '../core/auth.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StorageDriver = 'sqlite' | 'postgres' | 'mysql';

/** Where a value came from, so later checks (e.g. dialplan contexts) can report file:line. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface SipConfig {
  listen: ListenPoint[];
  domain: string;
  realm: string;
  userAgent: string;
  workers: number;
  udpRecvBuffer: number;
}

export interface RtpConfig {
  portMin: number; // even
  portMax: number;
  address: string;
  advertisedAddress: string; // = address unless set for NAT
  timeout: number; // seconds, 0 = off
}

export type StorageConfig = { driver: 'sqlite'; path: string; tablePrefix: string } | { driver: 'postgres' | 'mysql'; url: string; tablePrefix: string };

export interface ControlConfig {
  socket: string; // absolute path
}

export interface LogConfig {
  level: LogLevel;
  levels: Record<string, LogLevel>;
}

export interface RegistrarConfig {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContacts: number;
  qualifyInterval: number; // seconds, 0 = off
}

export interface AuthConfig {
  nonceLifetime: number; // seconds
  algorithms: DigestAlgorithm[]; // order offered in challenges
}

export interface CallsConfig {
  ringTimeout: number; // seconds
  maxDuration: number; // seconds, 0 = unlimited
}

export interface ExtensionConfig {
  number: string;
  name: string;
  /**
   * HA1 = H(number:realm:secret): as given (ha1_md5, ha1_sha256), or computed
   * from `secret` by the security module's reader during the parse
   * (security/config/load-config.ts); config/ neither hashes nor grades secrets
   */
  ha1Md5: string | null;
  ha1Sha256: string | null;
  context: string;
  email: string | null;
  voicemail: boolean;
  directMedia: boolean;
  maxContacts: number;
  /** 'required': calls to and from it must use SRTP over TLS signalling */
  encryption: 'optional' | 'required';
  at: SourcePos;
  contextAt: SourcePos;
}

/** one mailbox line of voicemail.conf */
export interface MailboxConfig {
  context: string;
  number: string;
  /** the PIN as configured ('' = no phone login); a PIN changed by its owner is kept in the spool and wins */
  pin: string;
  name: string;
  email: string | null;
  pager: string | null;
  /** attach the recording to the e-mail (attach=yes, the default) */
  attach: boolean;
  /** delete=yes: remove the message once the e-mail has been handed to the mail spool */
  deleteAfterEmail: boolean;
  at: SourcePos;
}

export interface VoicemailConfig {
  /** voicemail.conf path, null when no mailboxes are configured */
  file: string | null;
  spoolDir: string;
  maxMessageSeconds: number;
  maxMessages: number;
  /** recording stops after this much silence (0 = off) */
  maxSilenceSeconds: number;
  /** null: mail.from */
  emailFrom: string | null;
  emailSubject: string;
  emailBody: string;
  attachFormat: 'wav';
  pinMinLength: number;
  maxLoginAttempts: number;
  /** NOTIFY registered contacts of a mailbox that nobody subscribed to */
  mwiUnsolicited: boolean;
  mwiMaxExpires: number;
  mailboxes: MailboxConfig[];
}

/** dialplan.datasources.NAME: where DBLookup() queries run (read-only) */
export type DialplanDatasourceConfig = { driver: 'sqlite'; path: string; at: SourcePos; createFrom?: string } | { driver: 'postgres' | 'mysql'; url: string; at: SourcePos };

/** dialplan.queries.NAME: SQL written by the administrator, '?' placeholders bound to DBLookup() arguments */
export interface DialplanQueryConfig {
  datasource: string;
  sql: string;
  /** number of '?' placeholders */
  params: number;
  at: SourcePos;
}

export interface DialplanConfig {
  /** absolute path of extensions.conf; null when no dialplan is configured */
  file: string | null;
  fileAt: SourcePos;
  maxSteps: number;
  /** absolute directory for relative Record()/MixMonitor() file names */
  recordings: string;
  digitTimeout: number; // seconds
  lookupTimeout: number; // seconds
  datasources: Record<string, DialplanDatasourceConfig>;
  queries: Record<string, DialplanQueryConfig>;
}

export interface PromptsConfig {
  /** where the generated English prompt set is cached; null = <install dir>/var/prompts/en */
  dir: string | null;
  /** administrator recordings that override generated prompts of the same name */
  customDir: string | null;
  /** generate missing prompts with espeak-ng + sox at start */
  generate: boolean;
}

export interface MailConfig {
  from: string;
  spoolDir: string;
  retrySeconds: number;
  smtp: {
    host: string;
    port: number;
    secure: boolean;
    requireTls: boolean;
    user: string | null;
    password: string | null;
    verifyCertificate: boolean;
  };
}

/**
 * The core sections. The security sections (security, admin, numbering,
 * rates, fraud, and the per-extension call gate keys) are read by the
 * security module itself (security/config/), which config/ may not import
 * (docs/architecture.md, Layers: config is rank 3, security rank 5); the
 * whole configuration is security/config/load-config.ts's LoadedConfig.
 */
export interface PalisadeConfig {
  /** the config file as given, and the directory relative paths resolve against */
  configFile: string;
  baseDir: string;
  sip: SipConfig;
  rtp: RtpConfig;
  storage: StorageConfig;
  control: ControlConfig;
  log: LogConfig;
  registrar: RegistrarConfig;
  auth: AuthConfig;
  calls: CallsConfig;
  extensions: ExtensionConfig[];
  voicemail: VoicemailConfig;
  prompts: PromptsConfig;
  dialplan: DialplanConfig;
  /** null when no mail section is configured */
  mail: MailConfig | null;
  /** certificate for tls: listen points; null when none is configured */
  tls: TlsConfig | null;
  /** the modules' own top-level sections (src/core/module.ts), by key, as their readers returned them */
  sections: Readonly<Record<string, unknown>>;
}

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  caFile: string | null;
  certPem: string;
  keyPem: string;
  caPem: string | null;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  ciphers: string | null;
  verifyClient: boolean;
}
