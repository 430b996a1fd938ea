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

/** What the quality module needs of the running server (the host hands in a superset). */
export interface QualityModuleServices {
  cfg: PalisadeConfig;
  media: { setQuality(t: QualityThresholds): void };
}

export function qualityModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader>, QualityModuleServices> {
  return {
    name: 'quality',
    declare(d) {
      d.configSection('quality', (section) => readQuality(section));
    },
    start(s) {
      // a configuration read without the host's sections (an embedding test) runs with the defaults
      s.media.setQuality((s.cfg.sections.quality as QualityThresholds | undefined) ?? DEFAULT_QUALITY);
    },
  };
}
