// The console module (issue 10; docs/operations.md, "Web console and API"):
// the REST API under /api/v1 with its OpenAPI 3.1 document, the web console
// at /, the live event stream and GET /metrics, on the `http:` section's
// listen points. Accounts, API tokens, the change log and disabled
// extensions are its own tables. It serves the API resources other
// modules registered (HostServices.api, src/core/api-routes.ts), so it is
// listed last. `palisade admin ...` manages the accounts.
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { LoadedConfig } from '../../security/config/load-config.js';
import type { LogRoot } from '../../observability/logger.js';
import { Counter, Gauge, type MetricsRegistry } from '../../observability/metrics.js';
import type { Database } from '../../storage/database.js';
import type { StoredExtension } from '../../storage/extension-repo.js';
import type { LoadedDialplan } from '../../dialplan/load-dialplan.js';
import type { DialplanRegistry } from '../../dialplan/dialplan-registry.js';
import type { StoredChanges } from '../../core/stored-changes.js';
import type { ApiRoute, ApiRoutes } from '../../core/api-routes.js';
import type { AuthOutcome } from '../../core/auth.js';
import type { SecurityEvent, SecurityEventSink } from '../../core/security-event.js';
import type { CallEvent, RegistrationEvent, DeviceState } from '../../core/call-events.js';
import { Acl } from '../../security/acl/acl.js';
import { readHttp, type HttpConfig } from './read-http.js';
import { ConsoleStore } from './console-store.js';
import { ConsoleAuth } from './console-auth.js';
import { EventHub } from './event-hub.js';
import type { HttpAppDeps } from './http-app.js';
import type { ConsoleContext } from './console-context.js';
import { ADMIN_USAGE, runAdmin } from './cli/cmd-admin.js';
import { BACKUP_USAGE, runBackup, runRestore } from './cli/cmd-backup.js';

/** What the console module needs of the running server (the host hands in a superset). */
export interface ConsoleModuleServices {
  cfg: LoadedConfig;
  logs: LogRoot;
  storage: Database;
  extensions: { load(): Promise<Record<string, unknown>>; has(n: string): boolean; imported(): readonly StoredExtension[] };
  dialplan: LoadedDialplan | null;
  registry: DialplanRegistry;
  commands: { run(name: string, args: Record<string, unknown>): unknown; has(name: string): boolean };
  location: { all(): Array<{ aor: string }> };
  defences: {
    authOutcome(o: AuthOutcome): void;
    onAuthOutcome(sink: (o: AuthOutcome) => void): void;
    onSecurityEvent(sink: SecurityEventSink): void;
    packetGate: { admit(address: string, transport: 'tcp'): boolean };
  };
  callEvents: {
    onCall(fn: (e: CallEvent) => void, o?: { everyWorker?: boolean }): () => void;
    onRegistration(fn: (e: RegistrationEvent) => void): () => void;
    onDeviceState(fn: (extension: string, state: DeviceState) => void): () => void;
  };
  metrics: MetricsRegistry;
  /** every worker's metrics merged (sip.workers > 1) */
  scrapeMetrics?: () => Promise<string>;
  api: ApiRoutes;
  /** the media services channels play from (the prompt cache the prompts API refreshes) */
  mediaServices?: { prompts: { forget(name?: string): void } };
  /** an extension changed through the API: the other nodes of a cluster read the extensions again */
  storedChanges: StoredChanges;
}

/**
 * The console's own resources, loaded with their schemas when the HTTP API
 * is served (a server without `http:` does not carry the schema library).
 */
async function consoleRoutes(ctx: ConsoleContext): Promise<ApiRoute[]> {
  const [ext, live, records, admin, fraud, prompts] = await Promise.all([
    import('./routes-extensions.js'),
    import('./routes-live.js'),
    import('./routes-records.js'),
    import('./routes-admin.js'),
    import('./routes-fraud.js'),
    import('./routes-prompts.js'),
  ]);
  return [...ext.extensionRoutes(ctx), ...live.liveRoutes(ctx), ...records.recordRoutes(ctx), ...admin.adminRoutes(ctx), ...fraud.fraudRoutes(ctx), ...prompts.promptRoutes(ctx)];
}

/** dist/console, built by `npm run build` beside the compiled server */
export function consoleBuildDir(): string {
  return fileURLToPath(new URL('../../../console', import.meta.url));
}

function securityView(ev: SecurityEvent): Record<string, unknown> {
  return { type: ev.type, level: ev.level, time: ev.time, service: ev.service, remote: ev.remote?.address, account: ev.account, detail: ev.detail };
}

export function consoleModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader, PalisadeConfig, LoadedConfig>, ConsoleModuleServices> {
  let apps: FastifyInstance[] = [];
  let auth: ConsoleAuth | null = null;
  let banTimer: NodeJS.Timeout | null = null;
  let store: ConsoleStore | null = null;
  /** the last `palisade backup`, for the audit (status field `backup`) */
  let lastBackup: { at: number; file: string } | null = null;
  const readLastBackup = async () => {
    const v = await store?.setting('last_backup');
    lastBackup = v ? (JSON.parse(v) as { at: number; file: string }) : null;
  };
  const offs: Array<() => void> = [];
  return {
    name: 'console',
    declare(d) {
      d.configSection('http', (section, config) => readHttp(section, config.tls !== null));
      d.command('console-reload', async () => {
        await readLastBackup();
        if (!auth) return { reloaded: false };
        await auth.load();
        return { reloaded: true, accounts: auth.accountCount };
      });
      d.status('http', () => ({ listening: apps.length, accounts: auth?.accountCount ?? 0 }));
      d.status('backup', () => ({ last_at: lastBackup?.at ?? null, file: lastBackup?.file ?? null }));
      d.cli({ name: 'admin', usage: ADMIN_USAGE, run: runAdmin });
      d.cli({ name: 'backup', usage: BACKUP_USAGE, run: runBackup });
      d.cli({ name: 'restore', usage: '', run: runRestore });
    },
    async start(s) {
      const http = s.cfg.sections.http as HttpConfig | null | undefined;
      const log = s.logs.get('http');
      s.api.seal('the console module');
      store = new ConsoleStore(s.storage);
      await store.migrate();
      await readLastBackup();
      if (!http) return;
      auth = new ConsoleAuth(store!, http.sessionMinutes * 60_000, (o) => s.defences.authOutcome(o));
      await auth.load();
      if (auth.accountCount === 0) log.warn('console-no-account', { fix: 'palisade admin add NAME --role admin --config FILE' });

      const hub = new EventHub();
      // ---- metrics of the console itself, and the media quality of recent calls
      const refusedCounter = new Counter({
        name: 'palisade_http_refused_total',
        help: 'HTTP requests and connections refused, by reason',
        labelNames: ['reason'],
        registers: [s.metrics],
      });
      new Gauge({
        name: 'palisade_event_stream_clients',
        help: 'Clients on the live event stream',
        registers: [s.metrics],
        collect() {
          this.set(hub.size);
        },
      });
      const quality = new Gauge({
        name: 'palisade_rtp_recent',
        help: 'Mean RTP figures over calls that started in the last 5 minutes (from the CDR)',
        labelNames: ['figure'],
        registers: [s.metrics],
      });
      const scrapeQuality = async () => {
        const rows = await s.storage.kysely
          .selectFrom('cdr')
          .select(['rtp_a_rx_loss_pct', 'rtp_a_rx_jitter_mean_ms', 'rtp_b_rx_loss_pct', 'rtp_b_rx_jitter_mean_ms'])
          .where('start', '>=', Date.now() - 300_000)
          .limit(10_000)
          .execute();
        const mean = (vals: unknown[]) => {
          const v = vals.filter((x) => x !== null && x !== undefined).map(Number);
          return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
        };
        quality.set({ figure: 'loss_pct' }, mean(rows.flatMap((r) => [r.rtp_a_rx_loss_pct, r.rtp_b_rx_loss_pct])));
        quality.set({ figure: 'jitter_ms' }, mean(rows.flatMap((r) => [r.rtp_a_rx_jitter_mean_ms, r.rtp_b_rx_jitter_mean_ms])));
      };
      (quality as unknown as { collect: () => Promise<void> }).collect = scrapeQuality;

      // ---- the live event stream
      // the console runs in worker 0: it shows the calls of every worker
      offs.push(s.callEvents.onCall((e) => hub.publish('call', e, ['admin', 'operator']), { everyWorker: true }));
      offs.push(s.callEvents.onRegistration((e) => hub.publish('registration', e, ['admin', 'operator'])));
      offs.push(s.callEvents.onDeviceState((extension, state) => hub.publish('device', { extension, state }, ['admin', 'operator'])));
      s.defences.onSecurityEvent({ emit: (ev) => hub.publish('security', securityView(ev)) });
      s.defences.onAuthOutcome((o) => {
        if (o.ok || o.reason === 'missing' || o.reason === 'stale') return;
        hub.publish('security', {
          type: o.reason === 'unknown-user' ? 'InvalidAccountID' : 'InvalidPassword',
          time: Date.now(),
          service: o.service ?? 'SIP',
          remote: o.remote.address,
          account: o.account,
          detail: o.reason,
        });
      });
      // bans come and go inside the IDS: compared every 2 s while someone watches
      let lastBans = new Set<string>();
      banTimer = setInterval(() => {
        if (hub.size === 0 || !s.commands.has('bans')) return;
        void Promise.resolve()
          .then(() => s.commands.run('bans', {}) as Array<{ address: string; reason?: string }>)
          .then((bans) => {
            const now = new Set(bans.map((b) => b.address));
            for (const b of bans) if (!lastBans.has(b.address)) hub.publish('ban', b);
            for (const a of lastBans) if (!now.has(a)) hub.publish('unban', { address: a });
            lastBans = now;
          })
          .catch(() => undefined);
      }, 2000);
      banTimer.unref();

      const ctx: ConsoleContext = {
        cfg: s.cfg,
        http,
        storage: s.storage,
        store: store!,
        auth,
        extensions: {
          has: (n) => s.extensions.has(n),
          imported: () => s.extensions.imported(),
          // written to the database and read again here: the other nodes read them again too
          load: async () => {
            const r = await s.extensions.load();
            s.storedChanges.changed('extensions');
            return r;
          },
        },
        dialplan: s.dialplan,
        registry: s.registry,
        commands: s.commands,
        location: s.location,
        prompts: s.mediaServices?.prompts ?? null,
        log,
      };
      const acl = new Acl(s.cfg.guard.admin.acl);
      const deps: HttpAppDeps = {
        auth,
        routes: [...(await consoleRoutes(ctx)), ...(await s.api.load('the console module'))],
        allows: (a) => acl.allows(a),
        admitted: (a) => s.defences.packetGate.admit(a, 'tcp'),
        logChange: async (c) => {
          await store!.logChange(c);
          // the live stream carries each change (the console's lists refresh; who may read the change log sees it)
          hub.publish('change', { at: Date.now(), actor: c.actor, role: c.role, action: c.action, target: c.target }, ['admin', 'auditor']);
        },
        metrics: s.metrics,
        scrapeMetrics: s.scrapeMetrics,
        events: hub,
        consoleDir: consoleBuildDir(),
        origins: http.origins,
        log,
        refused: (reason) => refusedCounter.inc({ reason }),
        tls: s.cfg.tls ? { key: s.cfg.tls.keyPem, cert: s.cfg.tls.certPem } : null,
      };
      for (const l of http.listen) {
        // fastify and its plugins are loaded only where the HTTP API listens
        const { buildHttpApp } = await import('./http-app.js');
        const app = await buildHttpApp(deps, l);
        await app.listen({ host: l.address, port: l.port });
        apps.push(app);
        const host = l.address.includes(':') ? `[${l.address}]` : l.address;
        log.info('http-listening', { url: `${l.tls ? 'https' : 'http'}://${host}:${l.port}/` });
      }
    },
    async stop() {
      if (banTimer) clearInterval(banTimer);
      for (const off of offs.splice(0)) off();
      const closing = apps;
      apps = [];
      await Promise.all(closing.map((a) => a.close()));
      auth = null;
    },
  };
}
