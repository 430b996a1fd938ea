// The trunks module: SIP trunks to providers and to other offices, outbound
// and inbound routes and time conditions (docs/configuration.md "Trunks",
// "Routes"; docs/operations.md "Connecting to a provider and to another
// office"). It owns the `trunks:` and `routes:` sections (the IAX2 module
// reads the type: iax2 entries of `trunks:`), and at start:
//
//   - registers to the far ends of trunks with register: true (trunk-registration.ts)
//   - takes INVITEs from trunks and REGISTERs of dynamic trunks before the
//     core (RoutingStage.claim; trunk-inbound.ts)
//   - adds the PJSIP/SIP Dial() technology for trunks (trunk-technology.ts)
//   - adds the outbound and inbound routes as call routers (route-routers.ts)
//   - declares each trunk's call-gate settings (the trunk principal)
//
// Control commands `trunks` (and `palisade show trunks`) and `trunks-reload`
// (the database's trunks and routes read again); status field `trunks`.
// Trunks made through the API (trunk-api.ts) run beside the file's; the
// list of both is published on the trunk set (src/core/trunk-set.ts), which
// the IAX2 module follows for the type: iax2 ones.
import type { HoldMusicSource } from '../../channel/hold-link.js';
import type { WorkerBus } from '../../core/worker-bus.js';
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { LogRoot } from '../../observability/logger.js';
import type { AuthOutcome } from '../../core/auth.js';
import type { PinOutcome } from '../../core/pin-outcome.js';
import type { CallGateApi, TrunkPolicySettings } from '../../core/call-gate.js';
import type { DialTechnologies, TrunkLinkStatus } from '../../channel/dial-technology.js';
import type { CallRouters } from '../../channel/call-routers.js';
import type { Channel } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { SipChannelFactory } from '../../channel/sip-channel-factory.js';
import type { SipLegHost } from '../../sip/b2bua/leg-host.js';
import type { MethodRoute } from '../../sip/pipeline/routing-stage.js';
import type { SocketPair } from '../../media/rtp/rtp-endpoint.js';
import type { DialplanEngine } from '../../dialplan/engine.js';
import { DialplanEngine as Engine } from '../../dialplan/engine.js';
import { parseExtensionsConfText } from '../../dialplan/parse-extensions-conf.js';
import { formatHost } from '../../transport/address.js';
import type { Remote } from '../../transport/types.js';
import { readTrunks, type TrunkConfig } from './trunk-config.js';
import { readRoutes, type RoutesConfig } from './route-config.js';
import { RouteTable } from './route-table.js';
import { TrunkRegistration } from './trunk-registration.js';
import { TrunkInbound, cleanNumber, dialledNumber, type DynamicBinding } from './trunk-inbound.js';
import { resolveSipTargets } from './sip-target.js';
import { sipTrunkTechnology } from './trunk-technology.js';
import { inboundRouter, outboundRouter } from './route-routers.js';
import { mergeRoutes, RouteStore, ROUTE_STORE_MIGRATIONS, type StoredRouteObjects } from './route-store.js';
import { trunkFromBody, type TrunkBody } from './trunk-store.js';
import type { Logger } from '../../observability/logger.js';
import type { StoredChanges } from '../../core/stored-changes.js';
import type { ApiRoutes } from '../../core/api-routes.js';
import type { Database } from '../../storage/database.js';
import { routeTechnology } from './route-technology.js';
import { inboundHome } from './route-table.js';

export type { TrunkConfig } from './trunk-config.js';

/** What the module needs of the running server (the host hands in a superset). */
export interface TrunksServices {
  cfg: PalisadeConfig & { sections: Readonly<Record<string, unknown>> };
  logs: LogRoot;
  pipeline: { claimRoute(method: string, route: MethodRoute): void };
  transport: { whenListening(): Promise<void> };
  dialTechnologies: DialTechnologies;
  callRouters: CallRouters;
  sipLegs: SipLegHost;
  channels: Pick<SipChannelFactory, 'accept'>;
  media: { allocatePair(): SocketPair };
  /** music on hold, for a trunk's party held by a caller of another technology */
  mediaServices: { moh: HoldMusicSource };
  defences: {
    authOutcome(o: AuthOutcome): void;
    pinOutcome(o: PinOutcome): void;
    callGate: CallGateApi;
    setTrunkPolicies(fn: (name: string) => TrunkPolicySettings | undefined): void;
  };
  isInternalNumber(n: string): boolean;
  dialplan: { engine: DialplanEngine } | null;
  /** routes and time conditions made through the API live here (route-store.ts) */
  storage: Database;
  /** the trunks that run, published for the modules of other technologies (IAX2) */
  trunkSet: { publish(next: readonly TrunkConfig[], setAside: readonly string[]): Promise<void> };
  api: ApiRoutes;
  /** a route changed through the API on one node: the others read the routes again (src/core/stored-changes.ts) */
  storedChanges: StoredChanges;
  /** false in workers other than worker 0: the registrations to far ends are worker 0's alone */
  singletons: boolean;
  /** several workers: dynamic trunks' registrations shared */
  workers: Pick<WorkerBus, 'shared' | 'index' | 'publish' | 'subscribe' | 'replay' | 'steer' | 'homes'>;
}

/** the worker bus topic of a dynamic trunk's binding: { trunk, b } (b null: unregistered) */
const DYNAMIC_TOPIC = 'trunks.dynamic';

interface Running {
  /** the file's trunks, then the database's enabled ones (trunk-store.ts) */
  trunks: TrunkConfig[];
  byName: Map<string, TrunkConfig>;
  table: RouteTable;
  inbound: TrunkInbound;
  registrations: Map<string, TrunkRegistration>;
  /** resolved host addresses per trunk (RFC 3263 order) */
  resolved: Map<string, Remote[]>;
  /** calls in progress per trunk, both directions */
  inUse: Map<string, number>;
  off: Array<() => void>;
  refresh: NodeJS.Timeout | null;
  /** the link state of trunks another technology carries (IAX2) */
  linkOf(name: string): TrunkLinkStatus | undefined;
}

const EMPTY_ROUTES: RoutesConfig = { outbound: [], inbound: [], timeConditions: [] };

export function trunksModule(): PalisadeModule<
  ModuleDeclarations<DialplanApp, DialplanFunction, MapReader, PalisadeConfig & { sections: Record<string, unknown> }>,
  TrunksServices
> {
  let run: Running | null = null;
  let policiesSet = false;
  let apiAdded = false;
  let fileNow: RoutesConfig = EMPTY_ROUTES;
  let storeNow: RouteStore | null = null;
  let stored: StoredRouteObjects = { outbound: [], inbound: [], timeConditions: [], trunks: [] };
  let fileTrunks: TrunkConfig[] = [];
  /** the running trunks swapped for the file's and the database's now (set in start) */
  let applyTrunks: (() => Promise<void>) | null = null;

  const rows = () =>
    (run?.trunks ?? []).map((t) => {
      const link = t.type !== 'sip' ? run!.linkOf(t.name) : undefined;
      if (link) {
        return {
          name: t.name,
          type: t.type,
          host: t.host === 'dynamic' ? `dynamic (${link.address ?? 'not registered'})` : `${t.host}:${t.port}`,
          registration: link.registration,
          server: t.host === 'dynamic' || link.registration === 'none' ? '' : `udp:${link.address ?? t.host}`,
          expires: link.expires,
          registrations: link.registrations,
          failures: link.failures,
          last_error: link.lastError,
          channels: `${link.active}/${t.maxChannels || '-'}`,
        };
      }
      const reg = run!.registrations.get(t.name)?.status;
      const peer = t.host === 'dynamic' ? run!.inbound.binding(t.name) : null;
      return {
        name: t.name,
        type: t.type,
        host: t.host === 'dynamic' ? (peer ? `dynamic (${formatHost(peer.remote.address)}:${peer.remote.port})` : 'dynamic (not registered)') : `${t.host}:${t.port}`,
        registration: reg ? reg.state : t.host === 'dynamic' ? (peer ? 'peer-registered' : 'peer-unregistered') : 'none',
        server: reg?.server ?? '',
        expires: reg?.expires ?? (peer ? Math.max(0, Math.round((peer.expiresAt - Date.now()) / 1000)) : ''),
        registrations: reg?.registrations ?? '',
        failures: reg?.failures ?? '',
        last_error: reg?.lastError ?? '',
        channels: `${run!.inUse.get(t.name) ?? 0}/${t.maxChannels || '-'}`,
      };
    });

  return {
    name: 'trunks',
    declare(d) {
      d.configSection('trunks', (section) => readTrunks(section));
      d.configSection('routes', (section, cfg) => readRoutes(section, () => ((cfg.sections.trunks as TrunkConfig[] | undefined) ?? []).map((t) => t.name)));
      d.command('trunks', () => rows());
      // the database's trunks, routes and time conditions read again (palisade import)
      d.command('trunks-reload', async () => {
        if (!storeNow || !run) return { reloaded: false };
        stored = await storeNow.load();
        await applyTrunks?.();
        return { reloaded: true, trunks: run.trunks.length, outbound_routes: run.table.routes.outbound.length, inbound_routes: run.table.routes.inbound.length };
      });
      d.status('trunks', () => {
        const r = rows();
        return { configured: r.length, registered: r.filter((x) => x.registration === 'registered' || x.registration === 'peer-registered').length };
      });
    },
    async start(s) {
      const log = s.logs.get('trunks');
      fileTrunks = (s.cfg.sections.trunks as TrunkConfig[] | undefined) ?? [];
      const fileRoutes = (s.cfg.sections.routes as RoutesConfig | undefined) ?? EMPTY_ROUTES;
      // the API's routes and time conditions, after the file's (route-store.ts)
      await s.storage.migrateModule('trunks', ROUTE_STORE_MIGRATIONS);
      // biome-ignore lint/suspicious/noExplicitAny: the module's own table
      const routeStore = new RouteStore(s.storage.kysely as any);
      stored = await routeStore.load();
      fileNow = fileRoutes;
      storeNow = routeStore;
      const routes = mergeRoutes(fileRoutes, stored);
      const all = effectiveTrunks(fileTrunks, stored.trunks, log);
      const sipOf = (list: TrunkConfig[]) => list.filter((t) => t.type === 'sip');
      const r: Running = {
        trunks: all,
        byName: new Map(all.map((t) => [t.name, t])),
        table: new RouteTable(routes, all),
        inbound: null as unknown as TrunkInbound,
        registrations: new Map(),
        resolved: new Map(),
        inUse: new Map(),
        off: [],
        refresh: null,
        linkOf: (name) => s.dialTechnologies.trunkStatus(name),
      };
      run = r;
      // the IAX2 module (started after this one) runs the type: iax2 trunks of this list, and follows its changes
      await s.trunkSet.publish(all, setAsideTrunks(fileTrunks, stored.trunks));
      const claimChannel = (name: string): boolean => {
        const t = r.byName.get(name);
        const n = r.inUse.get(name) ?? 0;
        if (t && t.maxChannels > 0 && n >= t.maxChannels) return false;
        r.inUse.set(name, n + 1);
        return true;
      };
      const releaseChannel = (name: string): void => {
        r.inUse.set(name, Math.max(0, (r.inUse.get(name) ?? 0) - 1));
      };
      const resolve = async (t: TrunkConfig): Promise<Remote[]> => {
        const targets = await resolveSipTargets({ host: t.host, port: t.port, portGiven: t.portGiven, transport: t.transport });
        if (targets.length > 0) r.resolved.set(t.name, targets);
        return targets.length > 0 ? targets : (r.resolved.get(t.name) ?? []);
      };
      // host addresses, for recognising the trunk's INVITEs (names again every 5 minutes)
      await Promise.all(
        sipOf(all)
          .filter((t) => t.host !== 'dynamic')
          .map((t) => resolve(t).catch(() => [])),
      );
      r.refresh = setInterval(() => {
        for (const t of sipOf(r.trunks)) if (t.host !== 'dynamic') void resolve(t).catch(() => []);
      }, 300_000);
      r.refresh.unref();

      if (!policiesSet) {
        // the trunk principal of the call gate (one provider per server; the settings of the running configuration)
        s.defences.setTrunkPolicies((name) => {
          const t = run?.trunks.find((x) => x.name === name);
          if (!t) return undefined;
          return {
            permissions: t.callPermissions ?? undefined,
            maxCalls: t.maxChannels,
            dailySpendLimit: t.dailySpendLimit ?? undefined,
            callFrom: t.allowFrom.length > 0 ? t.allowFrom : undefined,
          };
        });
        policiesSet = true;
      }

      const cfg = s.cfg;
      r.inbound = new TrunkInbound(sipOf(all), {
        realm: cfg.sip.realm,
        algorithms: cfg.auth.algorithms,
        // the names a digest-uri may give this server: the domain and every listening address and port
        server: { hosts: [cfg.sip.domain, ...cfg.sip.listen.map((p) => p.address)], ports: cfg.sip.listen.map((p) => p.port) },
        userAgent: cfg.sip.userAgent,
        log,
        authOutcome: (o) => s.defences.authOutcome(o),
        callGate: s.defences.callGate,
        routes: (context, exten, cid) => s.callRouters.has(context, exten, cid),
        accept: (tx, req, remote, caller, dialled, ticket, origin) => void s.channels.accept(tx, req, remote, caller, dialled, ticket, origin),
        claimChannel,
        releaseChannel,
        hostAddresses: (name) => r.resolved.get(name) ?? [],
        now: () => Date.now(),
        minExpires: cfg.registrar.minExpires,
        maxExpires: cfg.registrar.maxExpires,
      });
      // several workers: a dynamic trunk's REGISTER, taken by one worker, is held by every one
      if (s.workers.shared) {
        const w = s.workers;
        r.inbound.onDynamic = (trunk, b) => w.publish(DYNAMIC_TOPIC, { trunk, b });
        r.off.push(
          w.subscribe(DYNAMIC_TOPIC, (body) => {
            const m = body as { trunk: string; b: DynamicBinding | null };
            r.inbound.adoptDynamic(m.trunk, m.b);
          }),
          w.replay(DYNAMIC_TOPIC, () => [...r.inbound.dynamic].map(([trunk, b]) => ({ trunk, b }))),
        );
      }
      s.pipeline.claimRoute('INVITE', r.inbound.onInvite);
      s.pipeline.claimRoute('REGISTER', r.inbound.onRegister);
      // several workers: a DID whose inbound route runs a dialplan that leads to what one worker holds (a queue, a room) goes there
      if (s.workers.shared && s.workers.index !== 0) {
        const w = s.workers;
        r.off.push(
          w.steer((q) => {
            const dp = s.dialplan?.engine.dialplan;
            if (!dp || w.homes.size === 0) return -1;
            // the DID and caller as the trunk's inbound handling reads them (a DID in To, a +49 or tel-ish user cleaned)
            return inboundHome(r.table, dp, w.homes, () => ({
              did: dialledNumber(q.user, q.toUser, (u) => r.inbound.isAccount(u)),
              callerId: cleanNumber(q.fromUser) || 'anonymous',
            }));
          }),
        );
      }

      r.off.push(
        s.dialTechnologies.register(
          sipTrunkTechnology({
            legs: s.sipLegs,
            allocatePair: () => s.media.allocatePair(),
            mediaAddress: cfg.rtp.advertisedAddress,
            log,
            moh: s.mediaServices.moh,
            trunk: (name) => r.byName.get(name),
            route: (name) => r.table.routes.outbound.find((x) => x.name === name),
            isTrunkContext: (c) => r.table.isTrunkContext(c),
            targets: async (t) => {
              if (t.host !== 'dynamic') return { targets: await resolve(t) };
              const b = r.inbound.binding(t.name);
              if (!b) return { targets: [] };
              // a registered peer: the INVITE goes where its REGISTER came from, to its Contact's host
              return { targets: [b.remote], requestUri: () => b.contactUri };
            },
            callGate: s.defences.callGate,
            claimChannel,
            releaseChannel,
          }),
        ),
        // Dial(ROUTE/<number>): through the outbound routes onto the trunks above
        s.dialTechnologies.register(routeTechnology({ table: () => r.table, trunks: s.dialTechnologies, log })),
      );

      const trunkChannels = new WeakMap<Channel, string>();
      const vmEngine = (() => {
        const engine = s.dialplan?.engine;
        if (!engine?.registry.findApp('VoiceMail')) return null;
        const dp = parseExtensionsConfText('[palisade-route-voicemail]\nexten => _X.,1,VoiceMail(${EXTEN},u)\n same => n,Hangup()\n', 'routes.inbound (voicemail)', {
          registry: engine.registry,
        });
        return new Engine(dp, { registry: engine.registry });
      })();
      const routerDeps = {
        table: () => r.table,
        log,
        isInternal: (n: string) => s.isInternalNumber(n),
        trunkType: (name: string) => r.byName.get(name)?.type,
        trunkOf: (ch: Channel) => trunkChannels.get(ch) ?? (ch.peer.account === undefined ? trunkNameOf(ch.name, r.trunks) : null),
        runDialplan: async (ch: Channel, media: ChannelMedia, start: { context: string; exten: string; priority: string }) => {
          const engine = s.dialplan?.engine;
          if (!engine) return void (await ch.hangup('unallocated'));
          await engine.run(ch, media, start);
        },
        voicemail: async (ch: Channel, media: ChannelMedia, mailbox: string) => {
          if (!vmEngine) return void (await ch.hangup('unallocated'));
          await vmEngine.run(ch, media, { context: 'palisade-route-voicemail', exten: mailbox, priority: '1' });
        },
        pinOutcome: (o: PinOutcome) => s.defences.pinOutcome(o),
        ringTimeoutMs: cfg.calls.ringTimeout * 1000,
      };
      r.off.push(s.callRouters.add(outboundRouter(routerDeps)), s.callRouters.add(inboundRouter(routerDeps)));

      let listening = false;
      const registration = (t: TrunkConfig) =>
        new TrunkRegistration(t, {
          sendRequest: (req, remote, h) => s.sipLegs.sendRequest(req, remote, h),
          localFor: (remote) => s.sipLegs.localFor(remote),
          userAgent: cfg.sip.userAgent,
          resolve: () => resolve(t),
          log,
          setTimer: (ms, fn) => {
            const h = setTimeout(fn, ms);
            h.unref();
            return { cancel: () => clearTimeout(h) };
          },
          now: () => Date.now(),
        });
      // several workers: only the one that runs once-per-server jobs registers (src/host/workers/)
      for (const t of sipOf(all)) if (t.register && s.singletons) r.registrations.set(t.name, registration(t));
      // the first REGISTERs leave once the transport listens (modules start before it)
      void s.transport.whenListening().then(() => {
        listening = true;
        if (run === r) for (const reg of r.registrations.values()) reg.start();
      });
      // the API changed a trunk: a new or changed registering trunk (re)registers, a gone or
      // disabled one unregisters, routes see the trunks now; calls in progress keep their trunk
      applyTrunks = async () => {
        if (run !== r) return;
        const old = new Map(r.trunks.map((t) => [t.name, JSON.stringify(t)]));
        const next = effectiveTrunks(fileTrunks, stored.trunks, log);
        const changed = (t: TrunkConfig) => old.get(t.name) !== JSON.stringify(t);
        r.trunks = next;
        r.byName = new Map(next.map((t) => [t.name, t]));
        r.inbound.setTrunks(sipOf(next));
        for (const name of [...r.resolved.keys()]) {
          const t = r.byName.get(name);
          if (!t || changed(t)) r.resolved.delete(name);
        }
        for (const [name, reg] of [...r.registrations]) {
          const t = r.byName.get(name);
          if (t?.register && !changed(t)) continue;
          reg.stop(true);
          r.registrations.delete(name);
          const why = t ? 'changed' : stored.trunks.some((b) => b.name === name && b.disabled) ? 'disabled' : 'removed';
          log.info('trunk-registration-stopped', { trunk: name, why });
        }
        await Promise.all(
          sipOf(next)
            .filter((t) => t.host !== 'dynamic' && changed(t))
            .map((t) => resolve(t).catch(() => [])),
        );
        for (const t of sipOf(next)) {
          if (!t.register || !s.singletons || r.registrations.has(t.name)) continue;
          const reg = registration(t);
          r.registrations.set(t.name, reg);
          if (listening) reg.start();
        }
        // the IAX2 module's trunks follow (it (re)registers, releases, forgets) before routes see them
        await s.trunkSet.publish(next, setAsideTrunks(fileTrunks, stored.trunks));
        r.table = new RouteTable(mergeRoutes(fileNow, stored), r.trunks);
        log.info('trunks-changed', { trunks: next.length, database: next.length - fileTrunks.length });
      };
      if (!apiAdded) {
        /** the database's routes and time conditions again, into the running table */
        const reread = async () => {
          if (!storeNow) return stored;
          stored = await storeNow.load();
          if (run) run.table = new RouteTable(mergeRoutes(fileNow, stored), run.trunks);
          log.info('routes-changed', { outbound: run?.table.routes.outbound.length, inbound: run?.table.routes.inbound.length });
          return stored;
        };
        // another node of the cluster changed them
        s.storedChanges.onChanged('routes', reread);
        s.storedChanges.onChanged('trunks', async () => {
          if (!storeNow) return;
          stored = await storeNow.load();
          await applyTrunks?.();
        });
        // registered once; the handlers work on the running state
        const apiDeps = {
          get store() {
            return storeNow!;
          },
          get file() {
            return fileNow;
          },
          trunkNames: () => (run?.trunks ?? []).map((t) => t.name),
          trunkRows: () => rows(),
          fileTrunks: () => fileTrunks,
          applyTrunks: async () => {
            stored = await storeNow!.load();
            await applyTrunks?.();
            s.storedChanges.changed('trunks');
          },
          stored: () => stored,
          rebuild: async () => {
            const now = await reread();
            s.storedChanges.changed('routes');
            return now;
          },
        };
        s.api.addLazy(async () => {
          const [{ routeApi }, { trunkApi }] = await Promise.all([import('./route-api.js'), import('./trunk-api.js')]);
          return [...routeApi(apiDeps), ...trunkApi(apiDeps)];
        }, 'trunks');
        apiAdded = true;
      }
      log.info('trunks-started', {
        trunks: all.length,
        sip: sipOf(all).length,
        database: all.length - fileTrunks.length,
        outbound_routes: routes.outbound.length,
        inbound_routes: routes.inbound.length,
      });
    },
    stop() {
      applyTrunks = null;
      if (!run) return;
      for (const reg of run.registrations.values()) reg.stop(true);
      for (const off of run.off) off();
      if (run.refresh) clearInterval(run.refresh);
      run = null;
    },
  };
}

/**
 * The database's trunks set aside (`disabled: true`), by name: they do not
 * run, but an edit brings each back as the same trunk (what the defences
 * learned of it stays). One shadowed by a file trunk of its name is the
 * file's.
 */
function setAsideTrunks(file: readonly TrunkConfig[], bodies: readonly TrunkBody[]): string[] {
  const names = new Set(file.map((t) => t.name.toLowerCase()));
  return bodies.filter((b) => b.disabled && !names.has(b.name.toLowerCase())).map((b) => b.name);
}

/**
 * The trunks that run: the file's, then the database's that are enabled,
 * read as the file's are. A database trunk with a file trunk's name is
 * left out (the file wins; the API refuses to make one, but the file may
 * gain the name later), as is one that no longer reads (logged).
 */
function effectiveTrunks(file: readonly TrunkConfig[], bodies: readonly TrunkBody[], log: Logger): TrunkConfig[] {
  const names = new Set(file.map((t) => t.name.toLowerCase()));
  const out = [...file];
  for (const b of bodies) {
    if (b.disabled) continue;
    if (names.has(b.name.toLowerCase())) {
      log.warn('trunk-shadowed', { trunk: b.name, why: 'palisade.yaml has a trunk of this name; the file trunk is used' });
      continue;
    }
    const c = trunkFromBody(b);
    if ('errors' in c) {
      log.warn('trunk-invalid', { trunk: b.name, errors: c.errors.map((e) => e.message) });
      continue;
    }
    names.add(b.name.toLowerCase());
    out.push(c.trunk);
  }
  return out;
}

/** SIP/office-b-0000000a (or IAX2/office-b-0000000a for an IAX2 trunk) → office-b, when that is a trunk's name of that type */
function trunkNameOf(channelName: string, trunks: readonly TrunkConfig[]): string | null {
  const slash = channelName.indexOf('/');
  const tech = channelName.slice(0, slash);
  const type = tech === 'SIP' ? 'sip' : tech === 'IAX2' ? 'iax2' : null;
  if (!type) return null;
  const base = channelName.slice(slash + 1, channelName.lastIndexOf('-'));
  return trunks.some((t) => t.name === base && t.type === type) ? base : null;
}
