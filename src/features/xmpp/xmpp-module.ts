// The xmpp module: Palisade's extensions as the XMPP users of a Prosody
// server beside it. It serves the authentication link Prosody's
// mod_auth_dovecot asks (dovecot-auth.ts), so one account and one password
// policy cover phone and chat, and reports every chat login to the security
// log. The `xmpp:` section; the `xmpp` field of `status`.
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { LogRoot } from '../../observability/logger.js';
import type { SecurityEventSink } from '../../core/security-event.js';
import { securityEvent } from '../../security/ids/event-levels.js';
import { readXmpp, type XmppConfig } from './read-xmpp.js';
import { DovecotAuthServer } from './dovecot-auth.js';
import type { XmppBridge } from './xmpp-bridge.js';
import type { ChatHub } from '../../core/chat.js';
import type { DeviceState } from '../../core/call-events.js';

/** What the xmpp module needs of the running server (the host hands in a superset). */
export interface XmppModuleServices {
  cfg: PalisadeConfig;
  logs: LogRoot;
  extensions: { get(n: string): { name: string; ha1: { md5?: string; sha256?: string } } | undefined };
  defences: { securityEvents: SecurityEventSink };
  chat: Pick<ChatHub, 'send' | 'publish' | 'onDelivered'>;
  callEvents: { deviceState(ext: string): DeviceState; onDeviceState(fn: (ext: string, s: DeviceState) => void): () => void };
  dnd: { isDnd(ext: string): boolean; onChange(fn: (ext: string, on: boolean) => void): () => void };
}

export function xmppModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader, PalisadeConfig>, XmppModuleServices> {
  let auth: DovecotAuthServer | null = null;
  let bridge: XmppBridge | null = null;
  const offs: Array<() => void> = [];
  return {
    name: 'xmpp',
    declare(d) {
      d.configSection('xmpp', (section, config) => readXmpp(section, config.baseDir));
      d.status('xmpp', () => (auth || bridge ? { auth: auth ? { ...auth.stats } : null, bridge: bridge ? { ...bridge.stats } : null } : null));
    },
    async start(s) {
      const cfg = s.cfg.sections.xmpp as XmppConfig | undefined;
      if (!cfg) return;
      const log = s.logs.get('xmpp');
      if (cfg.component && cfg.domain) {
        // the XMPP client library is loaded only where a bridge is configured
        const { XmppBridge } = await import('./xmpp-bridge.js');
        const b = new XmppBridge({
          service: `xmpp://${cfg.component.host}:${cfg.component.port}`,
          domain: cfg.component.domain,
          userDomain: cfg.domain,
          secret: cfg.component.secret,
          chat: s.chat,
          isExtension: (n) => s.extensions.get(n) !== undefined,
          nameOf: (n) => s.extensions.get(n)?.name ?? '',
          deviceState: (ext) => s.callEvents.deviceState(ext),
          isDnd: (ext) => s.dnd.isDnd(ext),
          log,
        });
        offs.push(s.callEvents.onDeviceState((ext) => b.stateChanged(ext)));
        offs.push(s.dnd.onChange((ext) => b.stateChanged(ext)));
        // Prosody may start after Palisade: the component's own reconnect keeps trying
        b.start().catch((err: Error) => log.warn('xmpp-bridge-not-connected', { error: err.message }));
        bridge = b;
      }
      if (!cfg.authSocket) return;
      const server = new DovecotAuthServer({
        realm: s.cfg.sip.realm,
        ha1Of: (user) => s.extensions.get(user)?.ha1,
        maxFailures: cfg.maxFailures,
        outcome: (o) => {
          if (o.ok) {
            log.info('xmpp-login', { user: o.user });
            return;
          }
          log.warn('xmpp-login-failed', { user: o.user, reason: o.reason });
          // Prosody does not pass the client's address on this link: the event names the account (security log,
          // alerts), and the per-account limit above slows a guesser down; the address is Prosody's to limit
          s.defences.securityEvents.emit(
            securityEvent(o.reason === 'unknown' ? 'InvalidAccountID' : 'InvalidPassword', {
              service: 'XMPP',
              account: o.user,
              detail: `chat login through Prosody (${o.reason})`,
            }),
          );
        },
      });
      await server.listen(cfg.authSocket);
      auth = server;
      log.info('xmpp-auth-listening', { socket: cfg.authSocket });
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      await bridge?.stop();
      bridge = null;
      await auth?.close();
      auth = null;
    },
  };
}
