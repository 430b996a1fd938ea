// The presence module: the `presence` event package (RFC 3856) on the core's
// event server, PUBLISH (RFC 3903), the composition of registrations, call
// state (HostServices.callEvents) and do-not-disturb (HostServices.dnd) into
// PIDF; the `presence:` section, the `presence` command (an extension's
// document) and `presence-dnd` (the administrator's DND switch, one DND
// provider among others: the office module's feature codes, the XMPP bridge).
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { LogRoot } from '../../observability/logger.js';
import type { DeviceState } from '../../core/call-events.js';
import type { DndHub } from '../../core/dnd.js';
import type { WorkerBus } from '../../core/worker-bus.js';
import type { ChatHub } from '../../core/chat.js';
import type { Activity, PresenceDoc } from './pidf.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { MethodRoute } from '../../sip/pipeline/routing-stage.js';
import type { EventRegistry } from '../../sip/events/index.js';
import type { Remote } from '../../transport/types.js';
import { DEFAULT_PRESENCE, readPresence, type PresenceConfig } from './read-presence.js';
import { PresenceService } from './presence-service.js';

/** What the presence module needs of the running server (the host hands in a superset). */
export interface PresenceModuleServices {
  cfg: PalisadeConfig;
  logs: LogRoot;
  events: EventRegistry;
  pipeline: { addRoute(method: string, route: MethodRoute): void };
  requestAuth: { check(req: SipMessage, remote: Remote): { response: SipMessage } | { user: string } };
  extensions: { get(n: string): { context: string } | undefined };
  callEvents: { deviceState(ext: string): DeviceState; onDeviceState(fn: (ext: string, s: DeviceState) => void): () => void };
  dnd: Pick<DndHub, 'register' | 'isDnd' | 'changed' | 'onChange'>;
  chat: Pick<ChatHub, 'setPresenceSink'>;
  /** several workers: publications and the administrator's DND shared with the others */
  workers: Pick<WorkerBus, 'shared' | 'publish' | 'subscribe' | 'onPeer' | 'replay'>;
}

/** the worker bus topics: an extension's newest publication in the sending worker; the administrator's DND */
const PUBLISHED_TOPIC = 'presence.published';
const DND_TOPIC = 'presence.dnd';

/** the running presence service, for a bridge in the same process (XMPP) */
export interface PresenceHandle {
  service: PresenceService;
}

export function presenceModule(): PalisadeModule<ModuleDeclarations<never, never, MapReader>, PresenceModuleServices> {
  let service: PresenceService | null = null;
  const adminDnd = new Set<string>();
  const offs: Array<() => void> = [];
  const need = () => {
    if (!service) throw new Error('presence is not running');
    return service;
  };
  let hub: PresenceModuleServices['dnd'] | null = null;
  let bus: PresenceModuleServices['workers'] | null = null;
  return {
    name: 'presence',
    declare(d) {
      d.configSection('presence', (section) => readPresence(section));
      d.command('presence', (args) => {
        const ext = String(args.extension ?? '');
        return { extension: ext, ...need().compose(ext) };
      });
      d.command('presence-dnd', (args) => {
        need();
        const ext = String(args.extension ?? '');
        const on = args.on === true || args.on === 'on' || args.on === 'true';
        if (on) adminDnd.add(ext);
        else adminDnd.delete(ext);
        hub?.changed(ext);
        bus?.publish(DND_TOPIC, { ext, on });
        return { extension: ext, dnd: hub?.isDnd(ext) ?? false };
      });
      d.status('presence', () => (service ? { ...service.stats } : null), true);
    },
    start(s) {
      const cfg = (s.cfg.sections.presence as PresenceConfig | undefined) ?? DEFAULT_PRESENCE;
      if (!cfg.enabled) return;
      const svc = new PresenceService({
        cfg,
        domain: s.cfg.sip.domain,
        userAgent: s.cfg.sip.userAgent,
        events: s.events,
        authenticate: (req, remote) => s.requestAuth.check(req, remote),
        extensions: s.extensions,
        deviceState: (ext) => s.callEvents.deviceState(ext),
        isDnd: (ext) => s.dnd.isDnd(ext),
        log: s.logs.get('presence'),
      });
      s.events.register(svc);
      s.pipeline.addRoute('PUBLISH', svc.handlePublish);
      s.dnd.register({ name: 'admin', isDnd: (ext) => adminDnd.has(ext) });
      offs.push(s.callEvents.onDeviceState((ext) => svc.changed(ext)));
      offs.push(s.dnd.onChange((ext) => svc.changed(ext)));
      // a bridge's presence (XMPP "away") is published like a PUBLISH from the user's own client
      const bridged = new Map<string, string>();
      s.chat.setPresenceSink((source, ext, p) => {
        const key = `${source}\u0000${ext}`;
        const etag = bridged.get(key);
        if (!p) {
          if (etag) svc.publishFrom(source, ext, null, 0, etag);
          bridged.delete(key);
          return;
        }
        const next = svc.publishFrom(source, ext, { basic: p.open ? 'open' : 'closed', activities: p.activities as Activity[], note: p.note }, cfg.maxExpires, etag);
        if (next) bridged.set(key, next);
      });
      hub = s.dnd;
      service = svc;
      // several workers: a watcher on one sees what a phone published through another
      if (s.workers.shared) {
        const w = s.workers;
        bus = w;
        svc.onPublished = (ext, entry) => w.publish(PUBLISHED_TOPIC, { ext, entry });
        offs.push(
          w.subscribe(PUBLISHED_TOPIC, (body, from) => {
            const m = body as { ext: string; entry: { doc: PresenceDoc; expiresAt: number } | null };
            svc.adoptPublished(m.ext, from, m.entry);
          }),
          w.subscribe(DND_TOPIC, (body) => {
            const m = body as { ext: string; on: boolean };
            if (m.on) adminDnd.add(m.ext);
            else adminDnd.delete(m.ext);
            s.dnd.changed(m.ext);
          }),
          w.onPeer((worker, up) => {
            if (!up) svc.dropWorker(worker);
          }),
          // one that came learns what is published here, and the administrator's DND
          w.replay(PUBLISHED_TOPIC, () => [...svc.publications.extensions()].map((ext) => ({ ext, entry: svc.publications.latestEntry(ext) ?? null }))),
          w.replay(DND_TOPIC, () => [...adminDnd].map((ext) => ({ ext, on: true }))),
        );
      }
    },
    stop() {
      for (const off of offs.splice(0)) off();
      service?.publications.clear();
      service = null;
      bus = null;
    },
  };
}
