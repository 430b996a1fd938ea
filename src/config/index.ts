// The whole configuration is loaded by security/config/load-config.ts (loadConfig,
// parseConfig), which runs these readers with the security module's sections.
export { readConfigFile, readConfigText } from './load-config.js';
export type { ConfigHooks } from './load-config.js';
export { ConfigError, formatIssue } from './config-error.js';
export type { ConfigIssue } from './config-error.js';
export { parseListen, formatListen } from './listen-point.js';
export type * from './config-types.js';
