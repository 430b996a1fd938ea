// The loaded configuration with every default filled in. YAML keys are
// snake_case; these are their camelCase twins. docs/configuration.md is the
// reference for meaning and defaults.
import type { ListenPoint } from '../transport/types.js';
import type { DigestAlgorithm } from '../security/auth/ha1.js';
import type { CallClass, NumberingConfig } from '../security/fraud/number-plan.js';
import type { QualityThresholds } from '../media/quality/call-quality.js';

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

export type StorageConfig =
  | { driver: 'sqlite'; path: string; tablePrefix: string }
  | { driver: 'postgres' | 'mysql'; url: string; tablePrefix: string };

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
  /** HA1 = H(number:realm:secret), computed at load when a secret is given */
  ha1Md5: string | null;
  ha1Sha256: string | null;
  context: string;
  email: string | null;
  voicemail: boolean;
  directMedia: boolean;
  maxContacts: number;
  /** 'required': calls to and from it must use SRTP over TLS signalling */
  encryption: 'optional' | 'required';
  /** call gate and ACL settings; null = the fraud.defaults value */
  policy: ExtensionPolicyConfig;
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
export type DialplanDatasourceConfig =
  | { driver: 'sqlite'; path: string; at: SourcePos; createFrom?: string }
  | { driver: 'postgres' | 'mysql'; url: string; at: SourcePos };

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
  /** ACLs, reputation, number plan, rates, toll-fraud guard */
  guard: SecuritySections;
  prompts: PromptsConfig;
  security: SecurityConfig;
  dialplan: DialplanConfig;
  /** null when no mail section is configured */
  mail: MailConfig | null;
  /** certificate for tls: listen points; null when none is configured */
  tls: TlsConfig | null;
  /** media quality thresholds and the one-way-audio watch (src/config/read-quality.ts) */
  quality: QualityThresholds;
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

// ---- security: security log, IDS/IPS, alerts (read by read-security-ids.ts)
export interface SecurityLogConfig {
  /** absolute path; null = no security log file */
  file: string | null;
  format: 'asterisk' | 'json' | 'both';
  minLevel: number;
}

export interface IdsConfig {
  enabled: boolean;
  /** addresses / CIDRs never banned */
  trusted: string[];
  authFailures: { threshold: number; window: number };
  registeredThreshold: number;
  badRequests: { threshold: number; window: number };
  /** packets per second from one address before it is banned; 0 = off */
  floodRate: number;
  scanners: { action: 'ban' | 'drop' | 'log' | 'off'; userAgents: string[] };
  ban: { time: number; factor: number; max: number; forgetAfter: number };
  /** absolute path of the persisted ban table */
  stateFile: string;
  nftables: { enabled: boolean; family: string; table: string; set: string; set6: string };
}

export interface AlertsConfig {
  to: string[];
  level: number;
  /** seconds the first alert waits to collect others */
  delay: number;
  /** seconds between two mails at least */
  interval: number;
}

export interface SecurityConfig {
  log: SecurityLogConfig;
  ids: IdsConfig;
  alerts: AlertsConfig;
}

/** per-extension (later per-trunk) call gate settings; null = the default */
export interface ExtensionPolicyConfig {
  callPermissions: CallClass[] | null;
  maxCalls: number | null;
  callsPerMinute: number | null;
  maxOutboundCalls: number | null;
  dailySpendLimit: number | null;
  registerFrom: string[] | null;
  callFrom: string[] | null;
}

export interface AclConfig {
  permit: string[];
  deny: string[];
}

export interface SecurityGuardConfig {
  /** global ACL applied to every SIP request */
  acl: AclConfig;
  /** where internal users' calls may come from */
  localNetworks: string[];
  reputation: {
    halfLife: number;
    authCreditInterval: number;
    goodCallSeconds: number;
    shortCallSeconds: number;
    shortCallBurst: number;
    shortCallWindow: number;
    /** addresses whose reputation is tracked but never refused */
    exempt: string[];
  };
}

export interface AdminConfig {
  /** for the management interfaces (the future HTTP API); the control socket is a 0600 Unix socket */
  acl: AclConfig;
}

export interface FraudConfig {
  /** known fraud numbers/prefixes from the configuration (E.164 digits after normalisation) */
  numbers: string[];
  /** settings for extensions that set none themselves (and imported extensions) */
  defaults: {
    callPermissions: CallClass[];
    maxCalls: number;
    callsPerMinute: number;
    maxOutboundCalls: number;
    dailySpendLimit: number;
  };
  anomaly: {
    mode: 'off' | 'flag' | 'block';
    minCalls: number;
    destDigits: number;
    hourShare: number;
    freqFactor: number;
    freqMin: number;
    longCallMin: number;
  };
}

/** the security sections read by src/config/read-security.ts */
export interface SecuritySections {
  security: SecurityGuardConfig;
  admin: AdminConfig;
  /** the number plan's own shape (src/security/fraud/number-plan.ts) */
  numbering: NumberingConfig;
  /** E.164 (or dialled) prefix → price per minute */
  rates: Record<string, number>;
  fraud: FraudConfig;
}
