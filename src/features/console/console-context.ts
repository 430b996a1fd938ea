// What the console's API resources work on: the running server's services,
// named structurally (the host hands in a superset, src/host/modules.ts).
import type { LoadedConfig } from '../../security/config/load-config.js';
import type { Database } from '../../storage/database.js';
import type { StoredExtension } from '../../storage/extension-repo.js';
import type { LoadedDialplan } from '../../dialplan/load-dialplan.js';
import type { DialplanRegistry } from '../../dialplan/dialplan-registry.js';
import type { Logger } from '../../observability/logger.js';
import type { ConsoleStore } from './console-store.js';
import type { ConsoleAuth } from './console-auth.js';
import type { HttpConfig } from './read-http.js';

export interface ConsoleContext {
  cfg: LoadedConfig;
  http: HttpConfig;
  storage: Database;
  store: ConsoleStore;
  auth: ConsoleAuth;
  /** the extension directory: reload after a change so it takes effect at once */
  extensions: { load(): Promise<Record<string, unknown>>; has(n: string): boolean; imported(): readonly StoredExtension[] };
  dialplan: LoadedDialplan | null;
  registry: DialplanRegistry;
  commands: { run(name: string, args: Record<string, unknown>): unknown; has(name: string): boolean };
  location: { all(): Array<{ aor: string }> };
  /** the prompt cache: a recording replaced or deleted through the API is played from the next call on */
  prompts: { forget(name?: string): void } | null;
  log: Logger;
}

/** a request's error the API answers with its status and a message (never a stack) */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly errors?: Array<{ field: string; message: string }>,
  ) {
    super(message);
  }
}
