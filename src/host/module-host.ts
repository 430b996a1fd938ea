// The module host (docs/architecture.md, "Modules"): runs each module's
// declare phase into single instances — one dialplan registry (handed to
// the parser and the engine), one control command table, one set of
// `status` fields, one table of config section readers, one CLI command
// table — then starts the modules in list order and stops them in reverse.
import type { CliCommand, CommandHandler, ModuleDeclarations, PalisadeModule } from '../core/module.js';
import type { PalisadeConfig } from '../config/config-types.js';
import type { SectionReader } from '../config/load-config.js';
import type { LoadedConfig } from '../security/config/load-config.js';
import type { MapReader } from '../config/yaml-reader.js';
import type { DialplanApp } from '../dialplan/app-types.js';
import type { DialplanFunction } from '../dialplan/funcs/func-types.js';
import { DialplanRegistry } from '../dialplan/dialplan-registry.js';
import { CommandTable } from './command-table.js';

export type HostDeclarations = ModuleDeclarations<DialplanApp, DialplanFunction, MapReader, PalisadeConfig, LoadedConfig>;

/** A module as the host takes it; `Services` is what start() receives. */
export type HostModule<Services> = PalisadeModule<HostDeclarations, Services>;

/** the top-level sections read by src/config/load-config.ts and, through its hooks, by src/security/config/ */
const CORE_SECTIONS = new Set([
  'sip',
  'rtp',
  'storage',
  'control',
  'log',
  'registrar',
  'auth',
  'calls',
  'mail',
  'extensions',
  'voicemail',
  'dialplan',
  'tls',
  'prompts',
  'security',
  'admin',
  'numbering',
  'rates',
  'fraud',
]);

export class ModuleHost<Services> {
  readonly registry = DialplanRegistry.builtin();
  readonly commands = new CommandTable();
  readonly sections = new Map<string, SectionReader>();
  readonly statusFields = new Map<string, () => unknown>();
  /** status paths ("messaging", "security.ids") each worker counts for itself */
  readonly countedStatus: string[] = [];
  readonly cli = new Map<string, CliCommand<LoadedConfig>>();
  private readonly started: HostModule<Services>[] = [];

  constructor(readonly modules: readonly HostModule<Services>[]) {
    const names = new Set<string>();
    for (const m of modules) {
      if (names.has(m.name)) throw new Error(`module "${m.name}" is listed twice`);
      names.add(m.name);
      m.declare?.(this.declarations(m.name));
    }
  }

  private declarations(owner: string): HostDeclarations {
    return {
      configSection: (key: string, read: (section: MapReader, config: PalisadeConfig) => unknown) => {
        if (CORE_SECTIONS.has(key) || this.sections.has(key)) throw new Error(`config section "${key}" of module ${owner} is taken`);
        this.sections.set(key, read);
      },
      app: (app: DialplanApp) => {
        if (this.registry.findApp(app.name)) throw new Error(`dialplan application ${app.name} of module ${owner} exists already`);
        this.registry.registerApp(app.name, app);
      },
      func: (fn: DialplanFunction) => {
        if (this.registry.findFunction(fn.name)) throw new Error(`dialplan function ${fn.name} of module ${owner} exists already`);
        this.registry.registerFunction(fn);
      },
      command: (name: string, run: CommandHandler) => this.commands.add(name, run, `module ${owner}`),
      status: (key: string, read: () => unknown, counted?: true | readonly string[]) => {
        if (this.statusFields.has(key)) throw new Error(`status field "${key}" of module ${owner} is taken`);
        this.statusFields.set(key, read);
        if (counted === true) this.countedStatus.push(key);
        else if (counted) for (const m of counted) this.countedStatus.push(`${key}.${m}`);
      },
      cli: (cmd: CliCommand<LoadedConfig>) => {
        if (this.cli.has(cmd.name)) throw new Error(`palisade ${cmd.name} of module ${owner} exists already`);
        this.cli.set(cmd.name, cmd);
      },
    };
  }

  /** the modules' `status` fields, read now */
  status(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, read] of this.statusFields) out[k] = read();
    return out;
  }

  /** one module's status field, or undefined when it has none or is not running */
  statusField<T>(key: string): T | undefined {
    try {
      return this.statusFields.get(key)?.() as T | undefined;
    } catch {
      return undefined;
    }
  }

  /** phase 2, in list order; a module that fails to start stops those started before it */
  async start(services: Services, runs: (name: string) => boolean = () => true): Promise<void> {
    for (const m of this.modules) {
      // several workers: a module that runs once per server starts only in worker 0 (src/host/workers/)
      if (!runs(m.name)) continue;
      try {
        await m.start?.(services);
      } catch (err) {
        await this.stop();
        throw err;
      }
      this.started.push(m);
    }
  }

  /** in reverse order of starting */
  async stop(): Promise<void> {
    while (this.started.length > 0) await this.started.pop()!.stop?.();
  }
}
