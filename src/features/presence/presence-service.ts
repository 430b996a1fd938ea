// Presence (RFC 3856) for extensions: the `presence` event package served by
// the core's event server, PUBLISH (RFC 3903) for the state user agents
// publish themselves, and the composition of what Palisade knows with what
// was published into one PIDF document (RFC 3863):
//   registered (any contact)    → basic open, else closed
//   on a call / ringing         → rpid:on-the-phone, "On the phone" / "Ringing"
//   do not disturb (DndHub)     → rpid:busy, "Do not disturb"
//   published (PUBLISH, XMPP)   → its activities (away...) and note, and open
// Watchers: by default colleagues in the same dialplan context may watch each
// other (`presence.watchers: all` lets every extension watch every other);
// any other SUBSCRIBE is 403 before existence is looked at, so a refused
// watcher learns nothing about which extensions exist.
import { buildResponse } from '../../sip-message/response.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { newToken } from '../../sip/dialog/dialog.js';
import type { EndReason, EventPackage, EventRegistry, SubscriptionInfo } from '../../sip/events/index.js';
import type { ServerTxHandle } from '../../sip/b2bua/types.js';
import type { Remote } from '../../transport/types.js';
import type { Logger } from '../../observability/logger.js';
import type { DeviceState } from '../../core/call-events.js';
import { buildPidf, parsePidf, PIDF_TYPE, type Activity, type PresenceDoc } from './pidf.js';
import { Publications } from './publications.js';
import type { PresenceConfig } from './read-presence.js';

export const PRESENCE_EVENT = 'presence';

export interface PresenceDeps {
  cfg: PresenceConfig;
  domain: string;
  userAgent: string;
  events: EventRegistry;
  authenticate(req: SipMessage, remote: Remote): { response: SipMessage } | { user: string };
  extensions: { get(n: string): { context: string } | undefined };
  deviceState(extension: string): DeviceState;
  isDnd(extension: string): boolean;
  log: Logger;
}

export class PresenceService implements EventPackage {
  readonly name = PRESENCE_EVENT;
  readonly accept = [PIDF_TYPE];
  readonly expires: EventPackage['expires'];
  readonly publications: Publications;
  readonly stats = { publishes: 0, publishRefused: 0, notifiesAsked: 0 };

  /** several workers: what each other worker's publications say per extension (its newest document), by worker */
  private readonly elsewhere = new Map<string, Map<number, { doc: PresenceDoc; expiresAt: number }>>();
  /** several workers: an extension's newest local publication changed (null: none left), for the others */
  onPublished: ((ext: string, entry: { doc: PresenceDoc; expiresAt: number } | null) => void) | null = null;

  constructor(
    private readonly d: PresenceDeps,
    private readonly clock: () => number = Date.now,
  ) {
    this.expires = { min: 60, max: d.cfg.maxExpires, default: 3600 };
    this.publications = new Publications((ext) => {
      this.onPublished?.(ext, this.publications.latestEntry(ext) ?? null);
      this.changed(ext);
    }, clock);
  }

  /** another worker's publications for `ext` (null: none left there); its watchers here get a NOTIFY */
  adoptPublished(ext: string, worker: number, entry: { doc: PresenceDoc; expiresAt: number } | null): void {
    let m = this.elsewhere.get(ext);
    if (entry) {
      if (!m) this.elsewhere.set(ext, (m = new Map()));
      m.set(worker, entry);
    } else {
      m?.delete(worker);
      if (m?.size === 0) this.elsewhere.delete(ext);
    }
    this.changed(ext);
  }

  /** a worker that went: what it published is gone with it */
  dropWorker(worker: number): void {
    for (const [ext, m] of this.elsewhere)
      if (m.delete(worker)) {
        if (m.size === 0) this.elsewhere.delete(ext);
        this.changed(ext);
      }
  }

  /** the newest document published for `ext` here or in another worker, unexpired */
  private published(ext: string): PresenceDoc | undefined {
    let best = this.publications.latestEntry(ext);
    const now = this.clock();
    for (const e of this.elsewhere.get(ext)?.values() ?? []) if (e.expiresAt > now && (!best || e.expiresAt >= best.expiresAt)) best = e;
    return best?.doc;
  }

  // ---- the event package (src/sip/events/event-package.ts)

  /** same context by default; asked before exists(), so an unknown extension is refused like a foreign one */
  authorize(subscriber: string, resource: string): boolean {
    if (subscriber === resource) return this.d.extensions.get(resource) !== undefined;
    const a = this.d.extensions.get(subscriber);
    const b = this.d.extensions.get(resource);
    if (!a || !b) return false;
    return this.d.cfg.watchers === 'all' || a.context === b.context;
  }

  exists(resource: string): boolean {
    return this.d.extensions.get(resource) !== undefined;
  }

  async body(resource: string): Promise<string> {
    return buildPidf(`sip:${resource}@${this.d.domain}`, this.compose(resource));
  }

  subscribed(s: SubscriptionInfo, refresh: boolean): void {
    if (!refresh) this.d.log.info('presence-subscribed', { watcher: s.subscriber, presentity: s.resource, expires: s.expires });
  }

  ended(s: SubscriptionInfo, reason: EndReason): void {
    this.d.log.info('presence-subscription-ended', { watcher: s.subscriber, presentity: s.resource, reason });
  }

  // ---- the compositor

  /** what watchers of `ext` are told now */
  compose(ext: string): PresenceDoc {
    const device = this.d.deviceState(ext);
    const dnd = this.d.isDnd(ext);
    const published = this.published(ext);
    const activities = new Set<Activity>(published?.activities ?? []);
    if (device === 'inuse' || device === 'ringing') activities.add('on-the-phone');
    if (dnd) activities.add('busy');
    const registered = device !== 'unavailable';
    const basic = registered || published?.basic === 'open' ? 'open' : 'closed';
    const note = dnd
      ? 'Do not disturb'
      : device === 'inuse'
        ? 'On the phone'
        : device === 'ringing'
          ? 'Ringing'
          : published?.note || (activities.has('away') ? 'Away' : basic === 'open' ? 'Available' : 'Offline');
    return { basic, activities: [...activities], note };
  }

  /** something about `ext` changed: its watchers get a NOTIFY with the new document */
  changed(ext: string): void {
    this.stats.notifiesAsked++;
    void this.d.events.notify(PRESENCE_EVENT, ext);
  }

  /** a bridge (XMPP) publishes for an extension as a user agent would; null doc removes it */
  publishFrom(source: string, ext: string, doc: PresenceDoc | null, seconds = 3600, etag?: string): string | null {
    if (doc === null) {
      if (etag) this.publications.remove(etag);
      return null;
    }
    return this.publications.put(ext, source, doc, seconds, etag);
  }

  // ---- PUBLISH (RFC 3903 §6, the ESC's processing in its order)

  handlePublish = (tx: ServerTxHandle, req: SipMessage, remote: Remote): boolean => {
    if (req.to.params.tag !== undefined) return false;
    const who = this.d.authenticate(req, remote);
    if ('response' in who) {
      if (who.response.status === 401) tx.respondStateless(who.response);
      else tx.respond(who.response);
      return true;
    }
    const ext = req.ruri.user ?? '';
    // step 1-2: a user agent publishes its own presence only (403 whatever the target, like a refused watcher)
    if (ext !== who.user) return this.refuse(tx, req, 403, 'Forbidden');
    // step 3: "If the ESC does not support the event package ... 489 (Bad Event)"
    const event = (req.get('event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event !== PRESENCE_EVENT) return this.refuse(tx, req, 489, 'Bad Event', [['allow-events', PRESENCE_EVENT]]);
    // step 4: SIP-If-Match names a publication we hold, else 412
    const ifMatch = req.get('sip-if-match')?.trim();
    const current = ifMatch ? this.publications.get(ifMatch) : undefined;
    if (ifMatch && (!current || current.extension !== ext)) return this.refuse(tx, req, 412, 'Conditional Request Failed');
    // step 5: Expires — 423 below our minimum (0 removes), shortened to our maximum
    const asked = req.getInt('expires') ?? 3600;
    if (asked > 0 && asked < this.d.cfg.publishMinExpires) return this.refuse(tx, req, 423, 'Interval Too Brief', [['min-expires', String(this.d.cfg.publishMinExpires)]]);
    const granted = Math.min(asked, this.d.cfg.maxExpires);
    if (granted === 0) {
      // RFC 3903 §4.5: removal needs the entity-tag
      if (!current) return this.refuse(tx, req, 400, 'Missing SIP-If-Match');
      this.publications.remove(current.etag);
      this.stats.publishes++;
      tx.respond(buildResponse(req, 200, 'OK', { toTag: newToken(), server: this.d.userAgent, headers: [['expires', '0']] }));
      return true;
    }
    // step 6: a body of a type we understand; none only for a refresh
    let doc: PresenceDoc | null = null;
    if (req.body.length > 0) {
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== PIDF_TYPE) return this.refuse(tx, req, 415, 'Unsupported Media Type', [['accept', PIDF_TYPE]]);
      if (req.body.length > 16_384) return this.refuse(tx, req, 413, 'Request Entity Too Large');
      doc = parsePidf(req.body.toString('utf8'));
      if (!doc) return this.refuse(tx, req, 400, 'Bad PIDF Document');
    } else if (!current) {
      return this.refuse(tx, req, 400, 'Missing Body');
    }
    const etag = this.publications.put(ext, 'sip', doc, granted, current?.etag);
    if (!etag) return this.refuse(tx, req, 503, 'Service Unavailable', [['retry-after', '60']]);
    this.stats.publishes++;
    this.d.log.info('presence-published', { extension: ext, basic: doc?.basic, activities: doc?.activities.join(','), refresh: doc === null, expires: granted });
    // step 7: 200 with the new entity-tag and the granted Expires
    tx.respond(
      buildResponse(req, 200, 'OK', {
        toTag: newToken(),
        server: this.d.userAgent,
        headers: [
          ['sip-etag', etag],
          ['expires', String(granted)],
        ],
      }),
    );
    return true;
  };

  private refuse(tx: ServerTxHandle, req: SipMessage, status: number, reason: string, headers?: Array<[string, string]>): true {
    this.stats.publishRefused++;
    tx.respond(buildResponse(req, status, reason, { toTag: newToken(), server: this.d.userAgent, headers }));
    return true;
  }
}
