// The modules Palisade runs, in start order (stopped in reverse). Adding a
// feature: its folder, and one line here (docs/architecture.md, "Modules").
import type { WorkerBus } from '../core/worker-bus.js';
import type { LoadedConfig } from '../security/config/load-config.js';
import type { LogRoot } from '../observability/logger.js';
import type { Database } from '../storage/database.js';
import type { Mailer } from '../mail/mailer.js';
import type { LoadedDialplan } from '../dialplan/load-dialplan.js';
import { securityModule } from '../security/security-module.js';
import { voicemailModule } from '../features/voicemail/voicemail-module.js';
import { qualifyModule } from '../sip/ua/qualify-module.js';
import { qualityModule } from '../features/quality/quality-module.js';
import { troubleshootModule } from '../features/troubleshoot/troubleshoot-module.js';
import { queuesModule } from '../features/queues/queues-module.js';
import { campaignsModule } from '../features/campaigns/campaigns-module.js';
import { dblookupModule } from '../dialplan/dblookup-module.js';
import { trunksModule } from '../features/trunks/trunks-module.js';
import { messagingModule } from '../features/messaging/messaging-module.js';
import { presenceModule } from '../features/presence/presence-module.js';
import { xmppModule } from '../features/xmpp/xmpp-module.js';
import { clusterModule } from '../features/cluster/cluster-module.js';
import { officeModule } from '../features/office/office-module.js';
import { iax2Module } from '../features/iax2/iax2-module.js';
import type { DefenceHooks } from './defence-hooks.js';
import type { DndHub } from '../core/dnd.js';
import type { ChatHub } from '../core/chat.js';
import type { TrunkSet } from '../core/trunk-set.js';
import type { TrunkConfig } from '../features/trunks/trunk-config.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { ApiRoutes } from '../core/api-routes.js';
import type { StoredChangeHub } from '../core/stored-changes.js';
import type { DialplanRegistry } from '../dialplan/dialplan-registry.js';
import { consoleModule } from '../features/console/console-module.js';
import type { OriginateRequest, OriginateResult } from '../channel/originate.js';
import type { ExtensionDirectory } from './extension-directory.js';
import { ModuleHost, type HostModule } from './module-host.js';
import type { SipStack } from './sip-stack.js';

/** What a module's start() may use: the core services, built before any module starts. */
export interface HostServices {
  cfg: LoadedConfig;
  /** false in workers other than worker 0 (sip.workers > 1): jobs done once per server (trunk registrations) are not theirs */
  singletons: boolean;
  logs: LogRoot;
  storage: Database;
  mailer: Mailer | null;
  extensions: ExtensionDirectory;
  dialplan: LoadedDialplan | null;
  /** an extension, or a number the dialplan serves itself (IVR, voicemail) */
  isInternalNumber(n: string): boolean;
  defences: DefenceHooks;
  transport: SipStack['transport'];
  tm: SipStack['tm'];
  location: SipStack['location'];
  events: SipStack['events'];
  pipeline: SipStack['pipeline'];
  /** digest authentication for a module's own SIP routes (MESSAGE, PUBLISH): same challenge, same IDS reporting as every request */
  requestAuth: Pick<SipStack['requestAuth'], 'check'>;
  /** Dial() technologies beyond SIP extensions (trunks, IAX2): src/channel/dial-technology.ts */
  dialTechnologies: SipStack['dialTechnologies'];
  /** what media services draw on (prompts, music on hold, conference rooms), shared by every channel technology */
  mediaServices: SipStack['mediaServices'];
  /** call phases, registrations and device state (busy lamps, presence, queues, the console): src/core/call-events.ts */
  callEvents: SipStack['callEvents'];
  /** the media layer's settings a module may change (quality thresholds); RTP ports for a module's own call legs */
  media: Pick<SipStack['media'], 'setQuality' | 'sessionAt' | 'allocatePair'>;
  /** the SIP layer as channel drivers use it (dialogs, requests, CDR): a module's own SIP call legs (trunks) */
  sipLegs: SipStack['b2bua'];
  /** incoming calls a module admits (a trunk's INVITE) become dialplan channels here */
  channels: Pick<SipStack['channels'], 'accept' | 'take'>;
  /** numbers a module routes itself after the dialplan (outbound and inbound routes): src/channel/call-routers.ts */
  callRouters: SipStack['callRouters'];
  /** transfer services (parking) and calls ringing that may be picked up: src/channel/channel-features.ts */
  channelFeatures: SipStack['channelFeatures'];
  /** do-not-disturb: providers (office, XMPP, admin) and readers (presence) meet here (src/core/dnd.ts) */
  dnd: DndHub;
  /** what a feature shares with the other workers of sip.workers > 1 (src/core/worker-bus.ts) */
  workers: WorkerBus;
  /** messages and published presence between messaging, presence and bridges (XMPP): src/core/chat.ts */
  chat: ChatHub;
  /** the trunks that run now (palisade.yaml's and the API's): the trunks module publishes, the IAX2 module follows (src/core/trunk-set.ts) */
  trunkSet: TrunkSet<TrunkConfig>;
  /** the one control command table (the core's commands are added once every module has started) */
  commands: { run(name: string, args: Record<string, unknown>): unknown; has(name: string): boolean };
  /** the Prometheus registry every module may add to; served at GET /metrics */
  metrics: MetricsRegistry;
  /** what GET /metrics serves: with several workers, every worker's registry merged; absent: this registry's text */
  scrapeMetrics?: () => Promise<string>;
  /** every call record as it is written (B2BUA calls and SIP channels): src/host/sip-stack.ts */
  onCdr: SipStack['onCdr'];
  /** the dialplan's applications and functions (to check an edited extensions.conf as the loader does) */
  registry: DialplanRegistry;
  /** HTTP API resources of modules, served by the console module (register in start(), before it) */
  api: ApiRoutes;
  /** what the API changed in the shared database, for the other nodes of a cluster (src/core/stored-changes.ts) */
  storedChanges: StoredChangeHub;
  /** do-not-disturb and call forwarding: a module installs the policy the B2BUA and the channels consult (src/core/call-diversion.ts) */
  diversion: SipStack['b2bua']['diversion'];
  /** Palisade places a call and runs the answered party in the dialplan (src/channel/originate.ts); null without a dialplan */
  originate: ((r: OriginateRequest) => Promise<OriginateResult>) | null;
}

// the console is last: it serves the HTTP API resources the modules before it registered
export const MODULES: ReadonlyArray<() => HostModule<HostServices>> = [
  securityModule,
  dblookupModule,
  voicemailModule,
  qualifyModule,
  qualityModule,
  troubleshootModule,
  trunksModule,
  iax2Module,
  queuesModule,
  campaignsModule,
  messagingModule,
  presenceModule,
  xmppModule,
  clusterModule,
  officeModule,
  consoleModule,
];

/** A host with every module declared (phase 1): its registry, commands, config sections and CLI commands. */
export function createHost(): ModuleHost<HostServices> {
  return new ModuleHost(MODULES.map((m) => m()));
}
