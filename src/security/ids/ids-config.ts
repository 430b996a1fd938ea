// The settings of the intrusion defences: `security.log` (the security log),
// `security.ids` (rules and bans) and `security.alerts`, as read by
// security/config/read-security-ids.ts (docs/configuration.md, `security`).
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
