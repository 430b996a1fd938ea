// The host's boundary, for main.ts and the command line.
import type { PalisadeConfig } from '../config/config-types.js';
import { loadConfig, type LoadedConfig } from '../security/config/load-config.js';
import { loadDialplan, type LoadedDialplan } from '../dialplan/load-dialplan.js';
import { createHost } from './modules.js';

export { createHost, MODULES, type HostServices } from './modules.js';
export type { ModuleHost, HostModule, HostDeclarations } from './module-host.js';

/** palisade.yaml as the server reads it: the core sections and every module's. Throws ConfigError. */
export function loadServerConfig(path: string, host = createHost()): LoadedConfig {
  return loadConfig(path, { sections: host.sections });
}

/** The configured dialplan checked against every module's applications and functions (null without dialplan.file). Throws ConfigError. */
export function checkDialplan(cfg: PalisadeConfig, host = createHost()): LoadedDialplan | null {
  return loadDialplan(cfg, undefined, { registry: host.registry });
}
