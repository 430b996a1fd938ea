// The dialplan registry: the applications and ${FUNC()} functions a dialplan
// may use, by name, case-insensitive like Asterisk. One instance per running
// server: the module host (src/host/) fills it with the built-in ones and
// every module's (VoiceMail, ...) before extensions.conf is parsed, and hands
// the same instance to the parser (which refuses unknown names) and to the
// engine (which runs them). There is no module-global table.
import type { DialplanApp } from './app-types.js';
import { BUILTIN_APPS } from './apps/builtin-apps.js';
import type { DialplanFunction } from './funcs/func-types.js';
import { BUILTIN_FUNCTIONS } from './funcs/builtin-functions.js';

export type AppImpl = Omit<DialplanApp, 'name'> & { name?: string };

export class DialplanRegistry {
  private readonly apps = new Map<string, DialplanApp>();
  private readonly funcs = new Map<string, DialplanFunction>();

  /** A registry holding what Palisade ships: the built-in applications and functions. */
  static builtin(): DialplanRegistry {
    const r = new DialplanRegistry();
    for (const a of BUILTIN_APPS) r.apps.set(a.name.toLowerCase(), a);
    for (const f of BUILTIN_FUNCTIONS) r.funcs.set(f.name.toLowerCase(), f);
    return r;
  }

  /** Adds (or replaces) an application. `name` is how the dialplan writes it. */
  registerApp(name: string, impl: AppImpl): void {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`application name ${JSON.stringify(name)} must be letters, digits and _`);
    this.apps.set(name.toLowerCase(), { name, synopsis: impl.synopsis, sensitiveArgs: impl.sensitiveArgs, placesNoCall: impl.placesNoCall, run: impl.run.bind(impl) });
  }

  findApp(name: string): DialplanApp | undefined {
    return this.apps.get(name.toLowerCase());
  }

  appNames(): string[] {
    return [...this.apps.values()].map((a) => a.name).sort();
  }

  /** Adds (or replaces) a function, ${NAME(args)} in the dialplan. */
  registerFunction(f: DialplanFunction): void {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) throw new TypeError(`function name ${JSON.stringify(f.name)} must be letters, digits and _`);
    this.funcs.set(f.name.toLowerCase(), f);
  }

  findFunction(name: string): DialplanFunction | undefined {
    return this.funcs.get(name.toLowerCase());
  }

  functionNames(): string[] {
    return [...this.funcs.values()].map((f) => f.name).sort();
  }
}
