// The one entry point that loads and validates the whole palisade.yaml: the
// core sections through config/'s reader, and the security module's own
// sections, secrets and PINs through the hooks below. `palisade check`,
// `palisade start`, the other commands and the test helpers all load here,
// so none of them can skip the credential checks. It lives in security/
// because config/ (rank 3) may not import security/ (rank 5)
// (docs/architecture.md, Layers); a module host above both can call it.
import type { MapReader } from '../../config/yaml-reader.js';
import { readConfigFile, readConfigText, type ConfigHooks } from '../../config/load-config.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import { computeHa1 } from '../../sip/auth/ha1.js';
import { checkPin, checkSecret, generateSecret } from '../passwords/index.js';
import { readAlerts, readIds, readSecurityLog } from './read-security-ids.js';
import { readExtensionPolicy, readSecuritySections } from './read-security.js';
import type { ExtensionPolicyConfig, PolicedExtension, SecurityConfig, SecuritySections } from './security-config-types.js';

/** the security module's part of the configuration */
export interface SecurityConfigs {
  /** ACLs, reputation, number plan, rates, toll-fraud guard */
  guard: SecuritySections;
  /** security log, IDS/IPS, alerts */
  security: SecurityConfig;
}

/** the whole configuration: the core sections, the security sections, and each extension's call gate settings */
export type LoadedConfig = Omit<PalisadeConfig, 'extensions'> & SecurityConfigs & { extensions: PolicedExtension[] };

/**
 * Reads the security module's top-level sections from the root map, in the
 * shape of a module's config reader: `security` (shared by the guard and the
 * IDS readers), `admin`, `numbering`, `rates`, `fraud`. Problems go to the
 * root's issue list with file:line:col and typo hints.
 */
export function readSecurityConfig(root: MapReader, baseDir: string): SecurityConfigs {
  const securityMap = root.child('security');
  const guard = readSecuritySections(root, securityMap);
  const security = {
    log: readSecurityLog(securityMap.child('log'), baseDir),
    ids: readIds(securityMap.child('ids'), baseDir),
    alerts: readAlerts(securityMap.child('alerts')),
  };
  securityMap.done();
  return { guard, security };
}

/** a voicemail.conf PIN through the PIN policy: why it is weak, or null when it passes */
export function weakPin(pin: string, mailbox: string, minLength: number): string | null {
  const v = checkPin(pin, { mailbox, minLength });
  return v.ok ? null : v.reason;
}

export interface LoadOptions {
  /** the other modules' top-level sections by key (the module host collects them); results in cfg.sections */
  sections?: ConfigHooks['sections'];
}

/** the hooks config/'s reader calls, and where their results are collected */
function securityHooks(opts: LoadOptions): { hooks: ConfigHooks; sections: () => SecurityConfigs; policies: ExtensionPolicyConfig[] } {
  let sections: SecurityConfigs | undefined;
  const policies: ExtensionPolicyConfig[] = [];
  const hooks: ConfigHooks = {
    readSections: (root, baseDir) => {
      sections = readSecurityConfig(root, baseDir);
    },
    readExtension: (m, index) => {
      policies[index] = readExtensionPolicy(m);
    },
    extensionSecret: (m, e) => {
      const verdict = checkSecret(e.secret, { kind: 'sip', extension: e.number, name: e.name });
      if (!verdict.ok) {
        const who = e.number ? ` for ${e.number}` : '';
        m.error(
          'secret',
          `${e.path}.secret${who} is too weak (${verdict.reasons.join('; ')}); use a generated one such as ${generateSecret({ extension: e.number, name: e.name })}`,
        );
      }
      // Secrets are kept only as HA1, one per algorithm (sip/auth/ha1.ts).
      if (!e.number) return null;
      return { ha1Md5: computeHa1('MD5', e.number, e.realm, e.secret), ha1Sha256: computeHa1('SHA-256', e.number, e.realm, e.secret) };
    },
    suggestSecret: (number, name) => generateSecret({ extension: number, name }),
    weakPin,
    sections: opts.sections,
  };
  return {
    hooks,
    policies,
    sections: () => {
      if (sections === undefined) throw new Error('the security sections were not read');
      return sections;
    },
  };
}

function assemble(core: PalisadeConfig, h: ReturnType<typeof securityHooks>): LoadedConfig {
  const extensions = core.extensions.map((e, i) => ({ ...e, policy: h.policies[i]! }));
  return { ...core, ...h.sections(), extensions };
}

/** Loads and validates palisade.yaml; every problem is thrown together as one ConfigError. */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadedConfig {
  const h = securityHooks(opts);
  return assemble(readConfigFile(path, h.hooks), h);
}

/** Parses config text; `fileName` names the file in errors and anchors relative paths. */
export function parseConfig(text: string, fileName: string, opts: LoadOptions = {}): LoadedConfig {
  const h = securityHooks(opts);
  return assemble(readConfigText(text, fileName, h.hooks), h);
}
