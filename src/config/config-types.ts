// The loaded configuration with every default filled in. YAML keys are
// snake_case; these are their camelCase twins. docs/configuration.md is the
// reference for meaning and defaults.
import type { ListenPoint } from '../transport/types.js';
import type { DigestAlgorithm } from '../security/auth/ha1.js';

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
  at: SourcePos;
  contextAt: SourcePos;
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
  security: SecurityConfig;
  /** null when no mail section is configured */
  mail: MailConfig | null;
  /** certificate for tls: listen points; null when none is configured */
  tls: TlsConfig | null;
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
