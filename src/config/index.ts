export { loadConfig, parseConfig } from './load-config.js';
export { ConfigError, formatIssue } from './config-error.js';
export type { ConfigIssue } from './config-error.js';
export { parseListen, formatListen } from './listen-point.js';
export type * from './config-types.js';
