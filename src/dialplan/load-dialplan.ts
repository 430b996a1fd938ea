// The composition root's entry point into the dialplan: parse the configured
// extensions.conf, check every extension's context exists (docs/configuration.md,
// `extensions`: an error at load, with the YAML position) and build the
// engine. In the server the dblookup module (dblookup-module.ts) owns the
// DBLookup data sources; a caller without the host (a test, `palisade
// check`) gets them opened here unless it passes `datasources`. `reload()` swaps in a freshly parsed dialplan for new
// calls; calls in progress keep theirs.
import { existsSync, mkdirSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import type { PalisadeConfig } from '../config/config-types.js';
import type { DialplanLog } from './app-types.js';
import { DataSources } from './datasources.js';
import { DialplanRegistry } from './dialplan-registry.js';
import { DialplanEngine, type EngineOptions } from './engine.js';
import { checkExtensionContexts, parseExtensionsConf } from './parse-extensions-conf.js';

/** dialplan.datasources and dialplan.queries opened read-only, null when none are configured. Throws ConfigError (a query that does not prepare). */
export function openDataSources(cfg: PalisadeConfig): DataSources | null {
  const d = cfg.dialplan;
  if (Object.keys(d.datasources).length === 0) return null;
  return DataSources.open({ datasources: d.datasources, queries: d.queries, timeoutMs: d.lookupTimeout * 1000 });
}

export interface LoadedDialplan {
  engine: DialplanEngine;
  /** the data sources opened by loadDialplan itself (null when the caller passed its own, as the server does) */
  datasources: DataSources | null;
  /** re-reads extensions.conf (and re-checks contexts); throws ConfigError and keeps the old one on error */
  reload(cfg?: PalisadeConfig): { contexts: number };
  close(): Promise<void>;
}

/**
 * null when the configuration names no dialplan file. Throws ConfigError.
 * `extra.registry`: the applications and functions the parser accepts and the
 * engine runs (the host's one registry); default: the built-in ones only.
 * `extra.datasources`: given (null included), the data sources are not
 * opened here — the server passes null and the dblookup module attaches them.
 */
export function loadDialplan(cfg: PalisadeConfig, log?: DialplanLog, extra: Partial<EngineOptions> = {}): LoadedDialplan | null {
  const d = cfg.dialplan;
  if (d.file === null) return null;
  const file = d.file;
  if (!existsSync(file)) {
    throw ConfigError.at(
      d.fileAt.file,
      d.fileAt.line,
      d.fileAt.col,
      `dialplan.file ${file} does not exist; expected an extensions.conf (relative paths are relative to this file)`,
    );
  }
  const registry = extra.registry ?? DialplanRegistry.builtin();
  const dp = parseExtensionsConf(file, { registry });
  checkExtensionContexts(dp, cfg.extensions);
  const datasources = 'datasources' in extra ? null : openDataSources(cfg);
  try {
    mkdirSync(d.recordings, { recursive: true });
  } catch {
    // reported when a Record() first needs it; not a reason to refuse to start
  }
  const engine = new DialplanEngine(dp, {
    maxSteps: d.maxSteps,
    log,
    datasources,
    recordingsDir: d.recordings,
    digitTimeoutMs: d.digitTimeout * 1000,
    ...extra,
    registry,
  });
  return {
    engine,
    datasources,
    reload(next = cfg) {
      const fresh = parseExtensionsConf(next.dialplan.file ?? file, { registry });
      checkExtensionContexts(fresh, next.extensions);
      engine.reload(fresh);
      return { contexts: fresh.contexts.size };
    },
    async close() {
      await datasources?.close();
    },
  };
}
