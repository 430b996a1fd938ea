// The quality module: the `quality:` section (src/features/quality/
// read-quality.ts) and its thresholds handed to the media layer, which
// measures every relayed and channel stream (src/media/quality), judges
// calls against them (`call-quality-poor`, `one-way-audio` log events) and
// fills the CDR's rtp_* columns. docs/media-quality.md has the figures.
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import { DEFAULT_QUALITY, type QualityThresholds } from '../../media/quality/call-quality.js';
import { readQuality } from './read-quality.js';
import type { Cdr } from '../../core/cdr.js';
import type { CdrQuery } from '../../storage/cdr-repo.js';
import { callDetail, cdrListArgs, cdrListRow } from './cdr-view.js';
import { runCdr } from './cli/cmd-cdr.js';
import { addQualityMetrics } from './quality-metrics.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import type { CdrInput } from '../../core/cdr.js';

/** What the quality module needs of the running server (the host hands in a superset). */
export interface QualityModuleServices {
  cfg: PalisadeConfig;
  media: { setQuality(t: QualityThresholds): void };
  storage: { cdr: { query(q: CdrQuery): Promise<Cdr[]>; flush(): Promise<void> } };
  /** Prometheus histograms of every call's figures, when the server has a registry (GET /metrics) */
  metrics?: MetricsRegistry;
  onCdr?(fn: (rec: CdrInput) => void): () => void;
}

export function qualityModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader>, QualityModuleServices> {
  let cdrs: QualityModuleServices['storage']['cdr'] | null = null;
  let offCdr: (() => void) | undefined;
  const repo = () => {
    if (!cdrs) throw new Error('the server is starting');
    return cdrs;
  };
  return {
    name: 'quality',
    declare(d) {
      d.configSection('quality', (section) => readQuality(section));
      // the CDR listing with each call's media figures (`palisade cdr`)
      d.command('cdr', async (args) => {
        const a = cdrListArgs(args);
        const r = repo();
        await r.flush();
        const rows = await r.query({ limit: a.limit ?? 20, src: a.src, dst: a.dst, disposition: a.disposition, flagged: a.flagged, from: a.since });
        return rows.map(cdrListRow);
      });
      // one call by its uniqueid (`palisade show call ID`)
      d.command('show-call', async (args) => {
        const id = String(args.arg ?? args.id ?? '');
        if (!id) throw new Error('which call? its uniqueid, as `palisade cdr` lists it');
        const r = repo();
        await r.flush();
        const [c] = await r.query({ uniqueid: id, limit: 1 });
        if (!c) throw new Error(`no call record ${id}`);
        return callDetail(c);
      });
      d.cli({
        name: 'cdr',
        usage:
          '  cdr [--limit N] [--src N] [--dst N] [--disposition D] [--flagged] --config FILE\n                                 the newest call records with their media quality\n',
        run: runCdr,
      });
    },
    start(s) {
      cdrs = s.storage.cdr;
      if (s.metrics && s.onCdr) offCdr = s.onCdr(addQualityMetrics(s.metrics));
      // a configuration read without the host's sections (an embedding test) runs with the defaults
      s.media.setQuality((s.cfg.sections.quality as QualityThresholds | undefined) ?? DEFAULT_QUALITY);
    },
    stop() {
      offCdr?.();
    },
  };
}
