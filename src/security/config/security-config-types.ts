// The security module's sections of palisade.yaml, read by read-security.ts
// and read-security-ids.ts beside this file. They live with security/, not in
// config/config-types.ts: config/ is rank 3 and may not import security
// types (docs/architecture.md, Layers).
import type { ExtensionConfig } from '../../config/config-types.js';
import type { CallClass, NumberingConfig } from '../fraud/number-plan.js';

// The IDS's own settings are typed beside it (ids/ids-config.ts) so that ids/
// need not import this folder, which imports ids/ (docs/architecture.md,
// Layers: no two folders import each other).
import type { AlertsConfig, IdsConfig, SecurityLogConfig } from '../ids/ids-config.js';
export type { AlertsConfig, IdsConfig, SecurityLogConfig };

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
    /** days without a call after which a profile is dropped; 0 = never */
    profileMaxAgeDays: number;
  };
}

/** the security sections read by read-security.ts */
export interface SecuritySections {
  security: SecurityGuardConfig;
  admin: AdminConfig;
  /** the number plan's own shape (src/security/fraud/number-plan.ts) */
  numbering: NumberingConfig;
  /** E.164 (or dialled) prefix → price per minute */
  rates: Record<string, number>;
  fraud: FraudConfig;
}

/** an extension with its call gate settings (read from its own map by readExtensionPolicy) */
export type PolicedExtension = ExtensionConfig & { policy: ExtensionPolicyConfig };
