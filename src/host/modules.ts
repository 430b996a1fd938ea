// The modules Palisade runs, in start order (stopped in reverse). Adding a
// feature: its folder, and one line here (docs/architecture.md, "Modules").
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
import { dblookupModule } from '../dialplan/dblookup-module.js';
import { iax2Module } from '../features/iax2/iax2-module.js';
import type { DefenceHooks } from './defence-hooks.js';
import type { ExtensionDirectory } from './extension-directory.js';
import { ModuleHost, type HostModule } from './module-host.js';
import type { SipStack } from './sip-stack.js';

/** What a module's start() may use: the core services, built before any module starts. */
export interface HostServices {
  cfg: LoadedConfig;
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
  /** Dial() technologies beyond SIP extensions (trunks, IAX2): src/channel/dial-technology.ts */
  dialTechnologies: SipStack['dialTechnologies'];
  /** what media services draw on (prompts, music on hold, conference rooms), shared by every channel technology */
  mediaServices: SipStack['mediaServices'];
  /** call phases, registrations and device state (busy lamps, presence, queues, the console): src/core/call-events.ts */
  callEvents: SipStack['callEvents'];
  /** the media layer's settings a module may change (quality thresholds) */
  media: Pick<SipStack['media'], 'setQuality' | 'sessionAt'>;
}

export const MODULES: ReadonlyArray<() => HostModule<HostServices>> = [
  securityModule,
  dblookupModule,
  voicemailModule,
  qualifyModule,
  qualityModule,
  troubleshootModule,
  iax2Module,
];

/** A host with every module declared (phase 1): its registry, commands, config sections and CLI commands. */
export function createHost(): ModuleHost<HostServices> {
  return new ModuleHost(MODULES.map((m) => m()));
}
