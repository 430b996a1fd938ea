// The module interface (docs/architecture.md, "Modules"): a feature is a
// folder that declares what it adds and a host (src/host/) collects it, as
// Asterisk's load_module() registers applications and Kamailio's modules
// export a table. Types only: this file sits at rank 0, so what a module
// registers (a dialplan application, a config reader, the services it runs
// with) is a type parameter that the module names from its own layer and
// the host binds to the real types.

/** A control command (the CLI's control socket today, the HTTP API later): arguments in, a JSON-able answer out. */
export type CommandHandler = (args: Record<string, unknown>) => unknown;

/** What the command line hands a module's command: the one configuration loader (every module's sections known). */
export interface CliEnv<Loaded = unknown> {
  loadConfig(path: string): Loaded;
}

/** A `palisade NAME ...` command a module adds to the command line. */
export interface CliCommand<Loaded = unknown> {
  /** the first word after `palisade` */
  readonly name: string;
  /** the lines `palisade help` shows for it, each ending in \n */
  readonly usage: string;
  /** argv after NAME; resolves with the exit status */
  run(argv: string[], env: CliEnv<Loaded>): Promise<number> | number;
}

/**
 * Phase 1, declare: what the module adds, before any configuration is read
 * and before anything runs. `palisade check` and `palisade dialplan show`
 * run only this phase, so they know every module's applications and
 * sections without starting a server.
 */
export interface ModuleDeclarations<App = never, Func = never, Reader = never, Config = never, Loaded = unknown> {
  /**
   * A top-level configuration section, `key:` in palisade.yaml, read by
   * `read` with file:line errors; the loader refuses unknown keys with a
   * hint that knows this one. The value reaches start() as sections[key].
   */
  configSection(key: string, read: (section: Reader, config: Config) => unknown): void;
  /** a dialplan application (the parser then accepts its name) */
  app(app: App): void;
  /** a dialplan function, ${NAME(...)} */
  func(fn: Func): void;
  /** a control command; unknown names are refused with `unknown command "NAME"` */
  command(name: string, run: CommandHandler): void;
  /**
   * A field of the `status` command's answer. `counted`: what each worker
   * process counts for itself (with sip.workers > 1 the answer sums it over
   * the workers): `true` for the whole field, or the names of its members
   * that are; the rest is state every worker holds alike (worker 0's shown).
   */
  status(key: string, read: () => unknown, counted?: true | readonly string[]): void;
  /** a `palisade` command-line command */
  cli(cmd: CliCommand<Loaded>): void;
}

/**
 * A module. One object per host (modules are listed as factories), so the
 * state it builds in start() is its own. Services: the running services
 * the module needs, named structurally; the host hands it a superset.
 */
export interface PalisadeModule<Decl = ModuleDeclarations, Services = never> {
  /** short and unique: voicemail, security, qualify */
  readonly name: string;
  declare?(d: Decl): void;
  /**
   * Phase 2, start: the configuration is loaded and the core services exist
   * (nothing listens yet). The module builds its service, registers SIP
   * event packages and request-pipeline stages; the host starts modules in
   * list order and stops them in reverse.
   */
  start?(services: Services): Promise<void> | void;
  stop?(): Promise<void> | void;
}
