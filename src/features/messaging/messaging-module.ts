// The messaging module: SIP MESSAGE between extensions (message-service.ts),
// the store-and-forward queue (message-store.ts, the module's own table),
// MessageSend() and MESSAGE() in the dialplan, the `messaging:` section, the
// `messages` command and the `messaging` field of `status`.
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { LogRoot } from '../../observability/logger.js';
import type { SecurityEventSink } from '../../core/security-event.js';
import type { Database } from '../../storage/database.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { LoadedDialplan } from '../../dialplan/load-dialplan.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { MethodRoute } from '../../sip/pipeline/routing-stage.js';
import type { Binding } from '../../sip/ua/location.js';
import type { RegistrationEvent } from '../../core/call-events.js';
import type { ChatHub } from '../../core/chat.js';
import type { ClientTransactionHandlers } from '../../sip/transaction/client-transaction.js';
import type { Remote } from '../../transport/types.js';
import { DEFAULT_MESSAGING, readMessaging, type MessagingConfig } from './read-messaging.js';
import { MessageStore, MESSAGING_MIGRATIONS } from './message-store.js';
import { MessageService, type MessageDialplan } from './message-service.js';
import { MessageChannel, NO_MEDIA } from './message-channel.js';
import { appMessageSend, funcMessage } from './app-message-send.js';
import { CidrSet } from '../../core/cidr.js';

/** the IDS's trusted addresses (a proxy in front): the per-address MESSAGE flood rule does not count them */
function trustedSet(list: readonly string[]): ((address: string) => boolean) | undefined {
  if (list.length === 0) return undefined;
  const set = CidrSet.parse(list);
  return (address) => set.has(address);
}

/** What the messaging module needs of the running server (the host hands in a superset). */
export interface MessagingModuleServices {
  cfg: PalisadeConfig & { security: { ids: { trusted: string[] } } };
  logs: LogRoot;
  storage: Database;
  extensions: { get(n: string): { name: string; context: string } | undefined };
  location: { lookup(aor: string): Binding[] };
  callEvents: { onRegistration(fn: (e: RegistrationEvent) => void): () => void };
  tm: { sendRequest(req: SipMessage, remote: Remote, h: ClientTransactionHandlers): unknown };
  pipeline: { addRoute(method: string, route: MethodRoute): void };
  requestAuth: { check(req: SipMessage, remote: Remote): { response: SipMessage } | { user: string } };
  defences: { securityEvents: SecurityEventSink };
  dialplan: LoadedDialplan | null;
  chat: Pick<ChatHub, 'setRouter' | 'delivered'>;
}

/** how often undelivered messages past store_for are looked for */
const EXPIRE_EVERY_MS = 60_000;

export function messagingModule(): PalisadeModule<ModuleDeclarations<DialplanApp, DialplanFunction, MapReader>, MessagingModuleServices> {
  let service: MessageService | null = null;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => void) | undefined;
  let names: MessagingModuleServices['extensions'] | null = null;
  return {
    name: 'messaging',
    declare(d) {
      d.configSection('messaging', (section) => readMessaging(section));
      d.app(appMessageSend(() => (service && names ? { deliver: (m) => service!.deliver(m), nameOf: (n) => names?.get(n)?.name } : null)));
      d.func(funcMessage);
      d.command('messages', async () => {
        if (!service) throw new Error('messaging is not running');
        return { stats: service.stats, waiting: await service.waiting() };
      });
      d.status('messaging', () => (service ? { ...service.stats } : null), true);
    },
    async start(s) {
      const cfg = (s.cfg.sections.messaging as MessagingConfig | undefined) ?? DEFAULT_MESSAGING;
      if (!cfg.enabled) return;
      const log = s.logs.get('messaging');
      await s.storage.migrateModule('messaging', MESSAGING_MIGRATIONS);
      // biome-ignore lint/suspicious/noExplicitAny: the module's table is not in the core's Tables
      const store = new MessageStore(s.storage.kysely as any);
      const waiting = await store.load();
      const dp = s.dialplan;
      const dialplan: MessageDialplan | undefined = dp
        ? {
            has: (context, exten, callerId) => dp.engine.has(context, exten, callerId),
            run: (m, context, remote) => {
              const ch = new MessageChannel(m, context, { transport: remote.transport, address: remote.address, port: remote.port, account: m.from });
              return dp.engine.run(ch, NO_MEDIA).finally(() => void ch.hangup());
            },
          }
        : undefined;
      const svc = new MessageService({
        cfg,
        domain: s.cfg.sip.domain,
        userAgent: s.cfg.sip.userAgent,
        authenticate: (req, remote) => s.requestAuth.check(req, remote),
        extensions: s.extensions,
        location: s.location,
        send: (req, remote) =>
          new Promise<number>((resolve) => {
            s.tm.sendRequest(req, remote, {
              onResponse: (res) => {
                if (res.status >= 200) resolve(res.status);
              },
              onTimeout: () => resolve(408),
              onTransportError: () => resolve(503),
            });
          }),
        store,
        security: s.defences.securityEvents,
        log,
        dialplan,
        floodExempt: trustedSet(s.cfg.security.ids.trusted),
      });
      s.pipeline.addRoute('MESSAGE', svc.handle);
      // bridges (XMPP) send through the same delivery, and hear every message an extension gets
      s.chat.setRouter((m) =>
        svc.deliver({ to: m.to, from: m.from, fromName: m.fromName || (s.extensions.get(m.from)?.name ?? ''), contentType: m.contentType, body: m.body, at: m.at }, m.via),
      );
      svc.addTap((m, via) => {
        s.chat.delivered({ ...m, via });
        return false;
      });
      // a phone that registers (or refreshes) hears what waited for it
      unlisten = s.callEvents.onRegistration((e) => {
        if (e.registered) void svc.registered(e.extension).catch((err: Error) => log.error('message-flush-failed', { to: e.extension, error: err.message }));
      });
      timer = setInterval(() => void svc.expire().catch((err: Error) => log.error('message-expire-failed', { error: err.message })), EXPIRE_EVERY_MS);
      timer.unref();
      await svc.expire();
      names = s.extensions;
      service = svc;
      log.info('messaging-started', { waiting, store_for: cfg.storeForSec, context: cfg.context });
    },
    stop() {
      if (timer) clearInterval(timer);
      unlisten?.();
      service = null;
    },
  };
}
