// The application registry: name → implementation, case-insensitive like
// Asterisk. The built-in applications register themselves on first use;
// other modules (voicemail, queues) add theirs with registerApp() before the
// dialplan is loaded, so the parser accepts their names.
import type { DialplanApp } from './app-types.js';
import { BUILTIN_APPS } from './apps/builtin-apps.js';

const apps = new Map<string, DialplanApp>();
let builtinsLoaded = false;

function ensureBuiltins(): void {
  if (builtinsLoaded) return;
  builtinsLoaded = true;
  for (const a of BUILTIN_APPS) if (!apps.has(a.name.toLowerCase())) apps.set(a.name.toLowerCase(), a);
}

/** Adds (or replaces) an application. `name` is how the dialplan writes it. */
export function registerApp(name: string, impl: Omit<DialplanApp, 'name'> & { name?: string }): void {
  ensureBuiltins();
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`application name ${JSON.stringify(name)} must be letters, digits and _`);
  apps.set(name.toLowerCase(), { name, synopsis: impl.synopsis, sensitiveArgs: impl.sensitiveArgs, run: impl.run.bind(impl) });
}

export function findApp(name: string): DialplanApp | undefined {
  ensureBuiltins();
  return apps.get(name.toLowerCase());
}

export function appNames(): string[] {
  ensureBuiltins();
  return [...apps.values()].map((a) => a.name).sort();
}
