// The voicemail module: the VoiceMail and VoiceMailMain applications, the
// MWI event package (message-summary, registered with the event server),
// the voicemail-* control commands and the mailboxes of imported
// extensions. Its configuration section, `voicemail:`, is still read by
// src/config/ (its mailboxes depend on the extensions read there).
import type { WorkerBus } from '../../core/worker-bus.js';
import type { MailboxRef } from './mailbox-store.js';
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import { extensionMailbox } from '../../config/voicemail-conf.js';
import type { LogRoot } from '../../observability/logger.js';
import type { Mailer } from '../../mail/mailer.js';
import type { SecurityEventSink } from '../../core/security-event.js';
import type { PinOutcomeSink } from '../../core/pin-outcome.js';
import type { EventRegistry } from '../../sip/events/index.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { StoredExtension } from '../../storage/extension-repo.js';
import { createVoicemail, voicemailDialplanApps, type VoicemailFeature } from './index.js';
import type { StoredChanges } from '../../core/stored-changes.js';
import type { ApiRoutes } from '../../core/api-routes.js';
import type { Database } from '../../storage/database.js';

/** What the voicemail module needs of the running server (the host hands in a superset). */
export interface VoicemailModuleServices {
  cfg: PalisadeConfig;
  logs: LogRoot;
  mailer: Mailer | null;
  events: EventRegistry;
  defences: { securityEvents: SecurityEventSink; pinOutcome: PinOutcomeSink };
  extensions: {
    onReload(listener: (imported: readonly StoredExtension[]) => Record<string, unknown> | undefined): void;
    load(): Promise<unknown>;
  };
  api: ApiRoutes;
  storage: Database;
  /** a mailbox changed through the API: the other nodes of a cluster read the extensions again */
  storedChanges: StoredChanges;
  /** several workers: a mailbox changed in one lights the lamps whose subscriptions another holds */
  workers: Pick<WorkerBus, 'shared' | 'publish' | 'subscribe'>;
}

/** the worker bus topic of mailbox changes: { context, number } */
const MAILBOX_TOPIC = 'voicemail.mailbox';

export const VOICEMAIL_COMMANDS = ['voicemail-list', 'voicemail-messages', 'voicemail-deposit', 'voicemail-delete', 'voicemail-mark-old'];

export function voicemailModule(): PalisadeModule<ModuleDeclarations<DialplanApp>, VoicemailModuleServices> {
  let feature: VoicemailFeature | null = null;
  let apiAdded = false;
  const offs: Array<() => void> = [];
  return {
    name: 'voicemail',
    declare(d) {
      // declared before the dialplan is parsed; a call reaches the feature
      // once it runs (`palisade check` runs none: VMSTATUS=FAILED)
      for (const app of voicemailDialplanApps(() => feature)) d.app(app as DialplanApp);
      for (const cmd of VOICEMAIL_COMMANDS) {
        d.command(cmd, (args) => {
          if (!feature) throw new Error('voicemail is not running');
          return feature.command(cmd, args);
        });
      }
    },
    async start(s) {
      const { cfg, mailer } = s;
      if (!apiAdded) {
        const owners = {
          get: (n: string) => s.storage.extensions.get(n),
          put: (rec: Parameters<typeof s.storage.extensions.upsertMany>[0][number]) => s.storage.extensions.upsertMany([rec]),
          // the other nodes of a cluster read the extensions (and their mailboxes) again too
          reload: async () => {
            const r = await s.extensions.load();
            s.storedChanges.changed('extensions');
            return r;
          },
          configured: (n: string) => cfg.extensions.some((e) => e.number === n),
        };
        s.api.addLazy(async () => (await import('./voicemail-api.js')).voicemailApi(() => feature?.service ?? null, owners), 'voicemail');
        apiAdded = true;
      }
      const vm = createVoicemail(cfg.voicemail, {
        // the spool has the mail (and a copy of the WAV) on disk once send() returns
        mail: mailer ? { enqueue: async (m) => void (await mailer.send(m)) } : null,
        log: s.logs.get('voicemail'),
        extensionEmail: (n) => cfg.extensions.find((e) => e.number === n)?.email ?? null,
        security: s.defences.securityEvents,
        pinOutcome: s.defences.pinOutcome,
        events: s.events,
        domain: cfg.sip.domain,
      });
      // imported extensions with voicemail get the mailbox of their number
      s.extensions.onReload((imported) => {
        const at = { file: `${cfg.storage.driver} database`, line: 0, col: 0 };
        vm.service.setImportedMailboxes(imported.filter((r) => r.voicemail).map((r) => extensionMailbox(r, r.voicemailPin ?? '', at)));
        return { mailboxes: vm.service.mailboxes().length };
      });
      await vm.start();
      if (s.workers.shared) {
        const w = s.workers;
        vm.service.onChange((box) => w.publish(MAILBOX_TOPIC, { context: box.context, number: box.number }));
        offs.push(w.subscribe(MAILBOX_TOPIC, (body) => void vm.mwi.onMailboxChange(body as MailboxRef, true)));
      }
      feature = vm;
    },
    stop() {
      for (const off of offs.splice(0)) off();
      feature?.stop();
    },
  };
}
