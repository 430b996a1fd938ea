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
// Control command `trunks` (and `palisade show trunks`); status field `trunks`.
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
import { TrunkInbound } from './trunk-inbound.js';
import { resolveSipTargets } from './sip-target.js';
import { sipTrunkTechnology } from './trunk-technology.js';
import { inboundRouter, outboundRouter } from './route-routers.js';
import { mergeRoutes, RouteStore, ROUTE_STORE_MIGRATIONS, type StoredRouteObjects } from './route-store.js';
import { routeApi } from './route-api.js';
import type { ApiRoutes } from '../../core/api-routes.js';
import type { Database } from '../../storage/database.js';
import { routeTechnology } from './route-technology.js';

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
  api: ApiRoutes;
}

interface Running {
  trunks: TrunkConfig[];
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
  let stored: StoredRouteObjects = { outbound: [], inbound: [], timeConditions: [] };

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
      d.status('trunks', () => {
        const r = rows();
        return { configured: r.length, registered: r.filter((x) => x.registration === 'registered' || x.registration === 'peer-registered').length };
      });
    },
    async start(s) {
      const log = s.logs.get('trunks');
      const all = (s.cfg.sections.trunks as TrunkConfig[] | undefined) ?? [];
      const trunks = all.filter((t) => t.type === 'sip');
      const fileRoutes = (s.cfg.sections.routes as RoutesConfig | undefined) ?? EMPTY_ROUTES;
      // the API's routes and time conditions, after the file's (route-store.ts)
      await s.storage.migrateModule('trunks', ROUTE_STORE_MIGRATIONS);
      // biome-ignore lint/suspicious/noExplicitAny: the module's own table
      const routeStore = new RouteStore(s.storage.kysely as any);
      stored = await routeStore.load();
      fileNow = fileRoutes;
      storeNow = routeStore;
      const routes = mergeRoutes(fileRoutes, stored);
      const byName = new Map(all.map((t) => [t.name, t]));
      const r: Running = {
        trunks: all,
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
      const claimChannel = (name: string): boolean => {
        const t = byName.get(name);
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
      await Promise.all(trunks.filter((t) => t.host !== 'dynamic').map((t) => resolve(t).catch(() => [])));
      r.refresh = setInterval(() => {
        for (const t of trunks) if (t.host !== 'dynamic') void resolve(t).catch(() => []);
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
      r.inbound = new TrunkInbound(trunks, {
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
      s.pipeline.claimRoute('INVITE', r.inbound.onInvite);
      s.pipeline.claimRoute('REGISTER', r.inbound.onRegister);

      r.off.push(
        s.dialTechnologies.register(
          sipTrunkTechnology({
            legs: s.sipLegs,
            allocatePair: () => s.media.allocatePair(),
            mediaAddress: cfg.rtp.advertisedAddress,
            log,
            trunk: (name) => byName.get(name),
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
        trunkType: (name: string) => byName.get(name)?.type,
        trunkOf: (ch: Channel) => trunkChannels.get(ch) ?? (ch.peer.account === undefined ? trunkNameOf(ch.name, all) : null),
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

      for (const t of trunks) {
        if (!t.register) continue;
        const reg = new TrunkRegistration(t, {
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
        r.registrations.set(t.name, reg);
      }
      // the first REGISTERs leave once the transport listens (modules start before it)
      void s.transport.whenListening().then(() => {
        if (run === r) for (const reg of r.registrations.values()) reg.start();
      });
      if (!apiAdded) {
        // registered once; the handlers work on the running state
        for (const route of routeApi({
          get store() {
            return storeNow!;
          },
          get file() {
            return fileNow;
          },
          trunkNames: () => (run?.trunks ?? []).map((t) => t.name),
          trunkRows: () => rows(),
          stored: () => stored,
          rebuild: async () => {
            stored = await storeNow!.load();
            if (run) run.table = new RouteTable(mergeRoutes(fileNow, stored), run.trunks);
            log.info('routes-changed', { outbound: run?.table.routes.outbound.length, inbound: run?.table.routes.inbound.length });
            return stored;
          },
        }))
          s.api.add(route, 'trunks');
        apiAdded = true;
      }
      log.info('trunks-started', { trunks: all.length, sip: trunks.length, outbound_routes: routes.outbound.length, inbound_routes: routes.inbound.length });
    },
    stop() {
      if (!run) return;
      for (const reg of run.registrations.values()) reg.stop(true);
      for (const off of run.off) off();
      if (run.refresh) clearInterval(run.refresh);
      run = null;
    },
  };
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
