// The dblookup module: owns the DBLookup() data sources (dialplan.datasources,
// dialplan.queries) in a running server. It opens them read-only at start,
// attaches them to the dialplan engine, and closes them at stop. The keys are
// read with the rest of the dialplan: section (src/config/read-dialplan.ts),
// so their errors keep file:line; the DBLookup application stays built in
// (apps/app-dblookup.ts) because a dialplan parsed without the host (tests,
// embedders) may use it too.
import type { ModuleDeclarations, PalisadeModule } from '../core/module.js';
import type { PalisadeConfig } from '../config/config-types.js';
import type { DataSources } from './datasources.js';
import type { DialplanEngine } from './engine.js';
import { openDataSources } from './load-dialplan.js';

export interface DbLookupModuleServices {
  cfg: PalisadeConfig;
  dialplan: { engine: Pick<DialplanEngine, 'useDataSources'> } | null;
}

export function dblookupModule(): PalisadeModule<ModuleDeclarations, DbLookupModuleServices> {
  let sources: DataSources | null = null;
  let engine: Pick<DialplanEngine, 'useDataSources'> | null = null;
  return {
    name: 'dblookup',
    start(s) {
      if (!s.dialplan) return;
      sources = openDataSources(s.cfg);
      engine = s.dialplan.engine;
      engine.useDataSources(sources);
    },
    async stop() {
      engine?.useDataSources(null);
      engine = null;
      await sources?.close();
      sources = null;
    },
  };
}
