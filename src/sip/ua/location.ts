// The location service (RFC 3261 §10, §16.5): AOR -> registered contacts.
//
// In memory: one Map from AOR to a small array of bindings; expiry is a
// periodic sweep over that map (no timer per binding), so 10,000 AORs with a
// few contacts each cost a few MB and one pass every sweep interval.
// Durable copy: every change is written through LocationPersistence in the
// background (the REGISTER answer never waits for the database); writes for
// one binding are chained so they land in order. restore() reloads on start.
import type { SipUri } from '../../sip-message/types.js';
import { parseUri } from '../../sip-message/uri.js';
import { ownString } from '../../core/own-string.js';
import type { Remote, TransportKind } from '../../transport/types.js';
import type { LocationPersistence, StoredBinding } from '../../storage/location-types.js';

export interface Binding {
  aor: string;
  /** Contact URI text as registered */
  contactUri: string;
  /** contactUri parsed, for RFC 3261 §19.1.4 comparison */
  uri: SipUri;
  /** full Contact header value as registered (display name, params) */
  contactHeader: string;
  expiresAt: number; // epoch ms
  /**
   * where the REGISTER came from. Requests for this contact go here, not to
   * a private address in the Contact (RFC 3581 §4 symmetric response routing,
   * applied to requests as NAT traversal needs).
   */
  received: Remote;
  callId: string;
  cseq: number;
  userAgent: string;
  q: number;
  instanceId: string | null;
  regId: number | null;
  /**
   * the REGISTER's Path (RFC 3327), in order: the proxies that hold the
   * phone's connection. Requests to the phone carry it as a pre-loaded Route
   * set and go to its first hop. Empty without.
   */
  path: string[];
  registeredAt: number; // first REGISTER that created this binding (ms)
  updatedAt: number; // last REGISTER that refreshed it (ms)
  /** qualify state: null until the first OPTIONS answer or timeout */
  reachable: boolean | null;
  lastRtt: number | null; // ms
  lastSeen: number; // last REGISTER or OPTIONS answer (ms)
}

/** what a REGISTER supplies for one binding */
export type BindingInput = Omit<Binding, 'registeredAt' | 'updatedAt' | 'reachable' | 'lastRtt' | 'lastSeen' | 'path'> & { path?: string[] };

/** how long a refresh that moved only the expiry may wait before storage has it */
export const REFRESH_WRITE_MS = 1000;

export type RemoveCause = 'unregistered' | 'expired' | 'replaced';

/**
 * A change to the bindings. `remote`: another node of a cluster made it
 * (adopt/drop), so this node neither wrote it nor should act on it as its
 * own, and `from` says who brought it ('cluster', or 'workers': another
 * worker of this node); `previousContact`: the contact URI an update replaced (same
 * +sip.instance/reg-id, new contact); `refreshOnly`: the update changed
 * nothing a look-up uses but the expiry (the same contact, received address,
 * Path, q and instance), as an ordinary re-REGISTER does.
 */
export type LocationEvent =
  | { type: 'added'; binding: Binding; remote?: boolean; from?: string }
  | { type: 'updated'; binding: Binding; previousContact?: string; refreshOnly?: boolean; remote?: boolean; from?: string }
  | { type: 'removed'; binding: Binding; cause: RemoveCause; remote?: boolean; from?: string }
  | { type: 'reachability'; binding: Binding };

export interface LocationServiceOptions {
  persistence?: LocationPersistence;
  clock?: () => number; // epoch ms
  /** how often expired bindings are swept (default 10 s) */
  sweepIntervalMs?: number;
  /** background persistence failure (the in-memory state stays authoritative) */
  onPersistError?: (err: unknown, op: 'save' | 'remove' | 'removeExpired' | 'load') => void;
}

export class LocationService {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly listeners = new Set<(e: LocationEvent) => void>();
  private readonly persistence: LocationPersistence | undefined;
  private readonly clock: () => number;
  private readonly sweepIntervalMs: number;
  private readonly onPersistError: (err: unknown, op: 'save' | 'remove' | 'removeExpired' | 'load') => void;
  private readonly writes = new Map<string, Promise<void>>();
  /** refreshes (expiry only) not yet written, by aor and contact */
  private readonly refreshes = new Map<string, Binding>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private bindingCount = 0;
  /** background persistence failures so far */
  persistErrors = 0;

  constructor(opts: LocationServiceOptions = {}) {
    this.persistence = opts.persistence;
    this.clock = opts.clock ?? Date.now;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 10_000;
    this.onPersistError = opts.onPersistError ?? (() => {});
  }

  /** subscribe to binding changes; returns the unsubscribe function */
  on(listener: (e: LocationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** live bindings of an AOR, highest q first, then most recently refreshed */
  lookup(aor: string): Binding[] {
    const list = this.byAor.get(aor);
    if (!list) return [];
    const now = this.clock();
    const out = list.filter((b) => b.expiresAt > now);
    if (out.length > 1) out.sort((a, b) => b.q - a.q || b.updatedAt - a.updatedAt);
    return out;
  }

  /** how many live bindings an AOR holds (no array, no sort: the registration path asks this per REGISTER) */
  liveCount(aor: string): number {
    const list = this.byAor.get(aor);
    if (!list) return 0;
    const now = this.clock();
    let n = 0;
    for (const b of list) if (b.expiresAt > now) n++;
    return n;
  }

  /**
   * The contacts a call should ring: the live ones, minus those that stopped
   * answering qualify — unless none answers, then all of them (better to try).
   */
  lookupForCall(aor: string): Binding[] {
    const all = this.lookup(aor);
    const answering = all.filter((b) => b.reachable !== false);
    return answering.length > 0 ? answering : all;
  }

  /** number of bindings held (expired ones disappear at the next sweep) */
  count(): number {
    return this.bindingCount;
  }

  aorCount(): number {
    return this.byAor.size;
  }

  all(): Binding[] {
    const out: Binding[] = [];
    for (const list of this.byAor.values()) for (const b of list) out.push(b);
    return out;
  }

  /** iterate without copying (the qualify scheduler walks every binding each tick) */
  *each(): IterableIterator<Binding> {
    for (const list of this.byAor.values()) yield* list;
  }

  /**
   * Add a binding, or refresh `existing` (same contact, or same
   * +sip.instance/reg-id with a new contact URI) keeping its qualify state.
   */
  upsert(input: BindingInput, existing?: Binding): Binding {
    const now = this.clock();
    let list = this.byAor.get(input.aor);
    if (!list) {
      list = [];
      this.byAor.set(input.aor, list);
    }
    const i = existing ? list.indexOf(existing) : -1;
    if (i >= 0) {
      const old = list[i]!;
      const b = makeBinding(input, old.registeredAt, now, old.reachable, old.lastRtt, now, old);
      list[i] = b;
      if (old.contactUri !== b.contactUri) {
        this.persistRemove(old);
        this.persistSave(b);
        this.emit({ type: 'updated', binding: b, previousContact: old.contactUri });
        return b;
      }
      const refreshOnly = sameButExpiry(old, b);
      if (refreshOnly) this.persistLater(b);
      else this.persistSave(b);
      this.emit({ type: 'updated', binding: b, refreshOnly });
      return b;
    }
    const b = makeBinding(input, now, now, null, null, now);
    list.push(b);
    this.bindingCount++;
    this.persistSave(b);
    this.emit({ type: 'added', binding: b });
    return b;
  }

  remove(b: Binding, cause: RemoveCause): boolean {
    const list = this.byAor.get(b.aor);
    const i = list ? list.indexOf(b) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.byAor.delete(b.aor);
    this.bindingCount--;
    this.persistRemove(b);
    this.emit({ type: 'removed', binding: b, cause });
    return true;
  }

  /**
   * A binding another node of a cluster registered (or refreshed): held here
   * for look-ups so a call placed through this node finds the phone. Not
   * written to storage (its node did) and announced with `remote: true`.
   * `replaces`: the contact URI it took the place of. Returns the binding,
   * or undefined when the stored form does not parse or has expired.
   */
  adopt(s: StoredBinding, replaces?: string, from = 'cluster'): Binding | undefined {
    const now = this.clock();
    if (s.expiresAt <= now) return undefined;
    const fresh = fromStored(s, now);
    if (!fresh) return undefined;
    let list = this.byAor.get(s.aor);
    if (!list) {
      list = [];
      this.byAor.set(s.aor, list);
    }
    const i = list.findIndex((x) => x.contactUri === s.contactUri || (replaces !== undefined && x.contactUri === replaces));
    if (i >= 0) {
      const old = list[i]!;
      const b = makeBinding(fresh, old.registeredAt, now, old.reachable, old.lastRtt, now, old);
      list[i] = b;
      this.emit({ type: 'updated', binding: b, previousContact: old.contactUri !== b.contactUri ? old.contactUri : undefined, remote: true, from });
      return b;
    }
    list.push(fresh);
    this.bindingCount++;
    this.emit({ type: 'added', binding: fresh, remote: true, from });
    return fresh;
  }

  /** another node removed a binding (unregistered, replaced): forgotten here without a storage write */
  drop(aor: string, contactUri: string, cause: RemoveCause, from = 'cluster'): boolean {
    const list = this.byAor.get(aor);
    const i = list ? list.findIndex((x) => x.contactUri === contactUri) : -1;
    if (!list || i < 0) return false;
    const [b] = list.splice(i, 1);
    if (list.length === 0) this.byAor.delete(aor);
    this.bindingCount--;
    this.emit({ type: 'removed', binding: b!, cause, remote: true, from });
    return true;
  }

  /**
   * Reloads every binding from storage (a cluster node that lost its broker
   * for a while catches up this way): bindings storage no longer holds are
   * dropped, the others adopted. Bindings of this node are in storage too.
   *
   * A binding changed within `graceMs` of the load is kept even when the
   * rows lack it: another node answers a REGISTER, announces it on the
   * broker at once and writes it to storage a little later, so a load in
   * between would otherwise forget a live registration (a CI run saw one of
   * forty phones lost that way).
   */
  async resync(graceMs = 5000): Promise<{ adopted: number; dropped: number }> {
    if (!this.persistence) return { adopted: 0, dropped: 0 };
    await this.flush();
    const since = this.clock() - graceMs;
    const rows = await this.persistence.loadAll();
    const keep = new Set(rows.map((r) => bindingKey(r.aor, r.contactUri)));
    let dropped = 0;
    for (const b of this.all()) {
      if (b.updatedAt >= since || keep.has(bindingKey(b.aor, b.contactUri))) continue;
      if (this.drop(b.aor, b.contactUri, 'expired')) dropped++;
    }
    let adopted = 0;
    for (const r of rows) {
      const have = this.byAor.get(r.aor)?.find((x) => x.contactUri === r.contactUri);
      if (have && have.expiresAt >= r.expiresAt) continue;
      if (this.adopt(r)) adopted++;
    }
    return { adopted, dropped };
  }

  /** record an OPTIONS keep-alive outcome */
  markQualify(b: Binding, ok: boolean, rtt: number): void {
    const changed = b.reachable !== ok;
    b.reachable = ok;
    if (ok) {
      b.lastRtt = rtt;
      b.lastSeen = this.clock();
    }
    if (changed) this.emit({ type: 'reachability', binding: b });
  }

  /** drop expired bindings; returns how many */
  sweep(): number {
    const now = this.clock();
    let n = 0;
    for (const [aor, list] of this.byAor) {
      for (let i = list.length - 1; i >= 0; i--) {
        const b = list[i]!;
        if (b.expiresAt > now) continue;
        this.refreshes.delete(bindingKey(b.aor, b.contactUri));
        list.splice(i, 1);
        this.bindingCount--;
        n++;
        this.emit({ type: 'removed', binding: b, cause: 'expired' });
      }
      if (list.length === 0) this.byAor.delete(aor);
    }
    // one bulk delete in storage rather than one per binding
    if (n > 0 && this.persistence) {
      const p = this.persistence;
      this.enqueue('\u0000expired', () => p.removeExpired(now).then(() => undefined), 'removeExpired');
    }
    return n;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** load persisted bindings at startup; expired rows are skipped and purged */
  async restore(): Promise<number> {
    if (!this.persistence) return 0;
    let rows: StoredBinding[];
    try {
      rows = await this.persistence.loadAll();
    } catch (err) {
      this.persistErrors++;
      this.onPersistError(err, 'load');
      return 0;
    }
    const now = this.clock();
    let loaded = 0;
    for (const s of rows) {
      if (s.expiresAt <= now) continue;
      const b = fromStored(s, now);
      if (!b) continue;
      let list = this.byAor.get(b.aor);
      if (!list) {
        list = [];
        this.byAor.set(b.aor, list);
      }
      if (list.some((x) => x.contactUri === b.contactUri)) continue;
      list.push(b);
      this.bindingCount++;
      loaded++;
      this.emit({ type: 'added', binding: b });
    }
    const p = this.persistence;
    this.enqueue('\u0000expired', () => p.removeExpired(now).then(() => undefined), 'removeExpired');
    return loaded;
  }

  /** resolves when every background write issued so far has settled (refreshes still waiting are written first) */
  async flush(): Promise<void> {
    this.writeRefreshes();
    while (this.writes.size > 0) await Promise.all([...this.writes.values()]);
  }

  private emit(e: LocationEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a faulty listener must not break registration
      }
    }
  }

  /**
   * A refresh that moved only the expiry is written within
   * REFRESH_WRITE_MS, the latest one per binding: a phone re-registering
   * often costs one row write a second, not one per REGISTER. What storage
   * holds meanwhile is the same binding with its previous expiry, which a
   * restart (or another node's resync, whose grace is longer) still takes.
   */
  private persistLater(b: Binding): void {
    if (!this.persistence) return;
    this.refreshes.set(bindingKey(b.aor, b.contactUri), b);
    if (!this.refreshTimer) {
      this.refreshTimer = setTimeout(() => this.writeRefreshes(), REFRESH_WRITE_MS);
      this.refreshTimer.unref();
    }
  }

  private writeRefreshes(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    if (this.refreshes.size === 0) return;
    const due = [...this.refreshes.values()];
    this.refreshes.clear();
    for (const b of due) this.persistSave(b);
  }

  private persistSave(b: Binding): void {
    const p = this.persistence;
    if (!p) return;
    const key = bindingKey(b.aor, b.contactUri);
    this.refreshes.delete(key);
    const row = toStored(b);
    this.enqueue(key, () => p.save(row), 'save');
  }

  private persistRemove(b: Binding): void {
    const p = this.persistence;
    if (!p) return;
    const key = bindingKey(b.aor, b.contactUri);
    this.refreshes.delete(key);
    this.enqueue(key, () => p.remove(b.aor, b.contactUri), 'remove');
  }

  private enqueue(key: string, op: () => Promise<void>, name: 'save' | 'remove' | 'removeExpired'): void {
    const prev = this.writes.get(key) ?? Promise.resolve();
    const next: Promise<void> = prev.then(op).catch((err: unknown) => {
      this.persistErrors++;
      this.onPersistError(err, name);
    });
    this.writes.set(key, next);
    void next.then(() => {
      if (this.writes.get(key) === next) this.writes.delete(key);
    });
  }
}

// One object literal with every field in a fixed order gives all bindings
// one hidden class (a spread would not), which keeps 30,000 of them compact.
/**
 * A binding as held: its strings its own (see ownString()), and, on a refresh of
 * the same contact, those of the binding it replaces (the same text, copied
 * once, parsed once).
 */
/** whether two bindings of one contact differ in nothing a look-up or a route uses */
function sameButExpiry(a: Binding, b: Binding): boolean {
  return (
    a.contactHeader === b.contactHeader &&
    a.q === b.q &&
    a.instanceId === b.instanceId &&
    a.regId === b.regId &&
    a.received.transport === b.received.transport &&
    a.received.address === b.received.address &&
    a.received.port === b.received.port &&
    a.received.flow === b.received.flow &&
    a.path.length === b.path.length &&
    a.path.every((p, i) => p === b.path[i])
  );
}

function makeBinding(i: BindingInput, registeredAt: number, updatedAt: number, reachable: boolean | null, lastRtt: number | null, lastSeen: number, prev?: Binding): Binding {
  const same = prev !== undefined && prev.contactUri === i.contactUri;
  let contactUri = i.contactUri;
  let uri = i.uri;
  if (same) {
    contactUri = prev.contactUri;
    uri = prev.uri;
  } else {
    contactUri = ownString(i.contactUri);
    try {
      uri = parseUri(contactUri);
    } catch {
      /* the registrar parsed this text already: keep its parse */
    }
  }
  return {
    aor: prev !== undefined && prev.aor === i.aor ? prev.aor : ownString(i.aor),
    contactUri,
    uri,
    contactHeader: prev !== undefined && prev.contactHeader === i.contactHeader ? prev.contactHeader : ownString(i.contactHeader),
    expiresAt: i.expiresAt,
    received: i.received,
    callId: prev !== undefined && prev.callId === i.callId ? prev.callId : ownString(i.callId),
    cseq: i.cseq,
    userAgent: prev !== undefined && prev.userAgent === i.userAgent ? prev.userAgent : ownString(i.userAgent),
    q: i.q,
    instanceId: i.instanceId === null ? null : ownString(i.instanceId),
    regId: i.regId,
    path: i.path === undefined || i.path.length === 0 ? [] : i.path.map(ownString),
    registeredAt,
    updatedAt,
    reachable,
    lastRtt,
    lastSeen,
  };
}

/** 'udp:127.0.0.1:5062', 'tcp:[::1]:5060' (the StoredBinding.received format) */
/**
 * Where requests for a binding go. Over UDP, a phone whose Contact names the
 * address it sent from is not behind NAT and gets requests at its Contact
 * port; otherwise (a private address in Contact) requests go back to the
 * address and port the REGISTER came from. Stream transports reuse the
 * phone's own connection.
 */
export function requestTarget(b: Binding): Remote {
  const r = b.received;
  // RFC 3327: through the proxy on the Path (the REGISTER came from it, so that is where it is)
  if (b.path.length > 0) return pathTarget(b.path[0]!) ?? r;
  const u = b.uri;
  const sameHost = u.host === r.address && u.port !== undefined;
  if (r.transport === 'udp') {
    if (sameHost && u.port !== r.port) return { transport: 'udp', address: r.address, port: u.port! };
    return r;
  }
  // stream: the phone's own connection while it is open; if it has gone,
  // a new connection to where the Contact says the phone listens
  return sameHost ? { transport: r.transport, address: r.address, port: u.port!, flow: r.flow } : r;
}

/** the first hop of a route set: an IP literal in the URI (no DNS on the call path); undefined for a name */
export function pathTarget(route: string): Remote | undefined {
  let uri: SipUri;
  try {
    const lt = route.indexOf('<');
    const gt = route.indexOf('>', lt + 1);
    uri = parseUri(lt >= 0 && gt > lt ? route.slice(lt + 1, gt) : route.trim());
  } catch {
    return undefined;
  }
  const host = uri.host;
  if (!/^[0-9.]+$/.test(host) && host.indexOf(':') < 0) return undefined;
  const t = (uri.params.transport ?? '').toLowerCase();
  const sips = uri.scheme === 'sips';
  const transport: TransportKind = t === 'tcp' ? (sips ? 'tls' : 'tcp') : t === 'tls' || sips ? 'tls' : t === 'ws' || t === 'wss' ? t : 'udp';
  return { transport, address: host, port: uri.port ?? (transport === 'tls' ? 5061 : 5060) };
}

export function formatRemote(r: Remote): string {
  const host = r.address.indexOf(':') >= 0 ? `[${r.address}]` : r.address;
  return `${r.transport}:${host}:${r.port}`;
}

const KINDS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

export function parseRemote(s: string): Remote | undefined {
  const c = s.indexOf(':');
  const lastColon = s.lastIndexOf(':');
  if (c < 1 || lastColon <= c) return undefined;
  const transport = s.slice(0, c);
  if (!KINDS.has(transport)) return undefined;
  let address = s.slice(c + 1, lastColon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const port = Number(s.slice(lastColon + 1));
  if (address === '' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { transport: transport as TransportKind, address, port };
}

/** one binding's key in maps of bindings: its AOR and contact URI */
export function bindingKey(aor: string, contactUri: string): string {
  return aor + '\u0000' + contactUri;
}

export function toStored(b: Binding): StoredBinding {
  return {
    aor: b.aor,
    contactUri: b.contactUri,
    contactHeader: b.contactHeader,
    expiresAt: b.expiresAt,
    received: formatRemote(b.received),
    callId: b.callId,
    cseq: b.cseq,
    userAgent: b.userAgent,
    q: b.q,
    instanceId: b.instanceId,
    regId: b.regId,
    ...(b.path.length > 0 ? { path: b.path } : {}),
  };
}

function fromStored(s: StoredBinding, now: number): Binding | undefined {
  const received = parseRemote(s.received);
  if (!received) return undefined;
  let uri: SipUri;
  try {
    uri = parseUri(s.contactUri);
  } catch {
    return undefined;
  }
  // A stream connection did not survive the restart: flow is left unset so
  // the next request opens a new connection (or waits for the phone's re-REGISTER).
  const input: BindingInput = {
    aor: s.aor,
    contactUri: s.contactUri,
    uri,
    contactHeader: s.contactHeader,
    expiresAt: s.expiresAt,
    received,
    callId: s.callId,
    cseq: s.cseq,
    userAgent: s.userAgent,
    q: s.q,
    instanceId: s.instanceId,
    regId: s.regId,
    path: s.path ?? [],
  };
  return makeBinding(input, now, now, null, null, now);
}
