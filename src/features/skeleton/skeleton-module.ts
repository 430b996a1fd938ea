// The skeleton module: the smallest complete module, to copy when adding a
// feature (as FreeSWITCH's mod_skel). It is not in src/host/modules.ts, so
// a running Palisade does not have it; its test runs it in a host. One
// folder gives a config section, a dialplan application and function, a
// control command and a start/stop (docs/architecture.md, "Modules").
//
//   skeleton:                          exten => 100,1,Skeleton(GREETING)
//     greeting: hello                   same => n,Playback(${GREETING})
//                                       same => n,NoOp(${SKELETON()})
//   palisade control command: skeleton → { greeting, runs }
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { LogRoot } from '../../observability/logger.js';

export interface SkeletonConfig {
  greeting: string;
}

/** `skeleton:` in palisade.yaml; problems carry file:line:col, unknown keys get a hint */
export function readSkeleton(m: MapReader): SkeletonConfig {
  const greeting = m.string('greeting', 'hello', { pattern: /^[a-z0-9-]{1,40}$/, expect: 'expected a prompt name such as hello' });
  m.done();
  return { greeting };
}

/** What the module needs of the running server (the host hands in a superset). */
export interface SkeletonServices {
  cfg: { sections: Readonly<Record<string, unknown>> };
  logs: LogRoot;
}

export function skeletonModule(): PalisadeModule<ModuleDeclarations<DialplanApp, DialplanFunction, MapReader>, SkeletonServices> {
  let greeting = 'hello';
  let runs = 0;
  return {
    name: 'skeleton',
    declare(d) {
      d.configSection('skeleton', (section) => readSkeleton(section));
      d.app({
        name: 'Skeleton',
        synopsis: 'Set a variable to the configured greeting: Skeleton(VAR)',
        async run(call, args) {
          runs++;
          call.vars.set(args[0] || 'SKELETON', greeting);
        },
      });
      d.func({ name: 'SKELETON', synopsis: 'The configured greeting: ${SKELETON()}', read: () => greeting });
      d.command('skeleton', () => ({ greeting, runs }));
    },
    start(s) {
      const c = s.cfg.sections.skeleton as SkeletonConfig | undefined;
      greeting = c?.greeting ?? 'hello';
      s.logs.get('skeleton').info('skeleton-started', { greeting });
    },
    stop() {
      runs = 0;
    },
  };
}
