// The IDS/IPS: turns security events into bans and enforces bans in the
// packet path. Rules (docs/configuration.md, `security.ids`):
// - auth failures (InvalidPassword, InvalidAccountID, FailedACL,
//   ReplayAttempt, ReputationReject): more than `threshold` distinct failed requests from one
//   address within `window` → ban. A retransmission of the same request
//   (same Call-ID and CSeq) counts once, and stale-nonce rechallenges are not
//   failures at all, so a registered phone is not banned by its own
//   retransmissions; an address with a live authenticated registration needs
//   `registeredThreshold` failures instead;
// - malformed requests (RequestBadFormat) likewise with their own threshold;
// - a known scanner's user agent → ban at once (or just drop / log);
// - a packet flood over `floodPacketsPerSecond` from one address → ban;
// - a Flood event another part reports (a MESSAGE flood or spam pattern,
//   src/features/messaging/) → ban at once.
// The ban time grows with each repeat offence; trusted addresses are never
// banned. `admit` is the transport's packet gate: one Map lookup per packet,
// plus one counter for the flood rule.
import type { SecurityEvent, SecurityEventSink } from '../../core/security-event.js';
import type { TransportKind } from '../../transport/types.js';
import { securityEvent } from './event-levels.js';
import { BanTable, type Ban, type BanPolicy } from './ban-table.js';
import { CidrSet } from '../../core/cidr.js';
import { ScannerMatcher } from './scanner-agents.js';

export type ScannerAction = 'ban' | 'drop' | 'log' | 'off';

export interface IdsOptions {
  trusted: readonly string[];
  authFailures: { threshold: number; windowSec: number };
  /** failures tolerated from an address with a live authenticated registration */
  registeredThreshold: number;
  badRequests: { threshold: number; windowSec: number };
  /** 0 = no flood rule */
  floodPacketsPerSecond: number;
  scanners: { action: ScannerAction; userAgents: readonly string[] };
  ban: BanPolicy;
  stateFile?: string;
  /**
   * several workers share one ban table (docs/operations.md, "One machine,
   * every core"): only worker 0 writes the state file, the others read it at
   * start and leave it alone
   */
  stateReadOnly?: boolean;
}

export interface IdsHooks {
  /** where Ban / Unban / Flood / ScannerDetected events go (the bus) */
  sink: SecurityEventSink;
  /** whether an authenticated registration currently comes from this address */
  isRegisteredAddress?: (address: string) => boolean;
  /** a ban took effect (close TCP flows, mirror into nftables); `remote`: another node made it */
  onBan?: (ban: Ban, remote: boolean) => void;
  /** a ban ended: `shared` when an administrator lifted it here (the other nodes lift it too) */
  onUnban?: (ban: Ban, shared: boolean) => void;
  onError?: (err: Error) => void;
  clock?: () => number;
}

// ReputationReject too: an address whose reputation fell under 5 is refused
// before authentication, so a guesser's later tries never reach digest and
// would otherwise never add up to a ban (addresses phones register from are
// exempt from that refusal, so a phone is not banned by it).
const AUTH_FAILURES = new Set(['InvalidPassword', 'InvalidAccountID', 'FailedACL', 'ReplayAttempt', 'ReputationReject']);
/** bounds on per-address state, so spoofed sources cannot exhaust memory */
const MAX_TRACKED = 100_000;
const MAX_FLOOD_TRACKED = 200_000;

interface Window {
  times: number[];
  keys: Set<string>;
}

export class IdsEngine {
  readonly bans: BanTable;
  readonly trusted: CidrSet;
  private readonly scanners: ScannerMatcher;
  private readonly clock: () => number;
  private failures = new Map<string, Window>();
  private badRequests = new Map<string, Window>();
  private rate = new Map<string, number>();
  private rateStart = 0;
  private sweepTimer?: NodeJS.Timeout;
  readonly stats = { dropped: 0, bansIssued: 0, bansAdopted: 0, floodsDetected: 0, scannersDetected: 0 };

  constructor(
    private readonly opts: IdsOptions,
    private readonly hooks: IdsHooks,
  ) {
    this.clock = hooks.clock ?? Date.now;
    this.trusted = CidrSet.parse(opts.trusted);
    this.scanners = new ScannerMatcher(opts.scanners.action === 'off' ? [] : opts.scanners.userAgents);
    this.bans = new BanTable(opts.ban, opts.stateFile, (err) => hooks.onError?.(err), !opts.stateReadOnly);
  }

  /** loads persisted bans and starts the expiry sweep; returns the number of bans restored */
  start(): number {
    const n = this.bans.load(this.clock());
    for (const b of this.bans.list(this.clock())) this.announceBan(b, false);
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    return n;
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.bans.saveNow();
  }

  /**
   * The packet gate (called before any parsing): false drops the packet.
   * RFC-agnostic by design: it sees only the source address.
   */
  admit(address: string, transport: TransportKind = 'udp'): boolean {
    const active = this.bans.active;
    if (active.size !== 0) {
      const b = active.get(address);
      if (b !== undefined) {
        if (b.until > this.clock()) {
          this.stats.dropped++;
          return false;
        }
        this.expireOne(b);
      }
    }
    const limit = this.opts.floodPacketsPerSecond;
    if (limit > 0) {
      const now = this.clock();
      if (now - this.rateStart >= 1000 || this.rate.size >= MAX_FLOOD_TRACKED) {
        this.rate = new Map();
        this.rateStart = now;
      }
      const n = (this.rate.get(address) ?? 0) + 1;
      this.rate.set(address, n);
      if (n > limit && n === limit + 1 && !this.trusted.has(address)) {
        this.stats.floodsDetected++;
        // banned before the event goes out, so handle() sees the address banned and does not ban it twice
        this.ban(address, `flood: more than ${limit} packets/s`);
        this.hooks.sink.emit(securityEvent('Flood', { time: now, remote: { transport, address, port: 0 }, detail: `more than ${limit} packets/s` }));
        return false;
      }
    }
    return true;
  }

  /** whether an address is banned right now (for TCP accept and the CLI) */
  isBanned(address: string): boolean {
    const b = this.bans.active.get(address);
    return b !== undefined && b.until > this.clock();
  }

  /** the scanner rule, run by the request gate on a parsed request's User-Agent; true = drop silently */
  checkUserAgent(userAgent: string | undefined, ev: Omit<Partial<SecurityEvent>, 'type'>): boolean {
    const hit = this.scanners.match(userAgent);
    if (hit === undefined) return false;
    this.stats.scannersDetected++;
    this.hooks.sink.emit(securityEvent('ScannerDetected', { ...ev, detail: `user agent matches "${hit}"`, extra: { userAgent: (userAgent ?? '').slice(0, 128) } }));
    const action = this.opts.scanners.action;
    const address = ev.remote?.address;
    if (action === 'ban' && address !== undefined) this.ban(address, `scanner: ${hit}`);
    return action === 'ban' || action === 'drop';
  }

  /** the event-bus subscriber: counts failures and bans past a threshold */
  handle(ev: SecurityEvent): void {
    const address = ev.remote?.address;
    if (address === undefined) return;
    if (AUTH_FAILURES.has(ev.type)) {
      const registered = this.hooks.isRegisteredAddress?.(address) ?? false;
      const threshold = registered ? this.opts.registeredThreshold : this.opts.authFailures.threshold;
      this.count(this.failures, ev, address, threshold, this.opts.authFailures.windowSec, 'auth failures');
    } else if (ev.type === 'Flood') {
      // a request flood a feature measured itself (MESSAGE, later others): banned like a packet flood
      if (!this.trusted.has(address) && !this.isBanned(address)) {
        this.stats.floodsDetected++;
        this.ban(address, `flood: ${ev.detail ?? 'requests'}`);
      }
    } else if (ev.type === 'RequestBadFormat') {
      this.count(this.badRequests, ev, address, this.opts.badRequests.threshold, this.opts.badRequests.windowSec, 'malformed requests');
    }
  }

  private count(map: Map<string, Window>, ev: SecurityEvent, address: string, threshold: number, windowSec: number, what: string): void {
    if (threshold <= 0 || this.trusted.has(address) || this.isBanned(address)) return;
    const now = ev.time;
    let w = map.get(address);
    if (!w) {
      if (map.size >= MAX_TRACKED) this.prune(map, now, windowSec, true);
      w = { times: [], keys: new Set() };
      map.set(address, w);
    }
    // One guess, however often retransmitted, is one failure: a retransmission
    // repeats the same credentials. (Call-ID and CSeq alone would not do:
    // svcrack sends every guess with the same Call-ID and CSeq.)
    const key = ev.attempt !== undefined && ev.sessionId !== undefined ? `${ev.sessionId}\u0000${ev.extra?.cseq ?? ''}\u0000${ev.attempt}` : undefined;
    if (key !== undefined) {
      if (w.keys.has(key)) return;
      if (w.keys.size > 4 * threshold + 16) w.keys.clear();
      w.keys.add(key);
    }
    const horizon = now - windowSec * 1000;
    while (w.times.length > 0 && w.times[0]! <= horizon) w.times.shift();
    w.times.push(now);
    if (w.times.length >= threshold) {
      map.delete(address);
      this.ban(address, `${w.times.length} ${what} in ${windowSec} s`);
    }
  }

  private prune(map: Map<string, Window>, now: number, windowSec: number, hard: boolean): void {
    const horizon = now - windowSec * 1000;
    for (const [a, w] of map) if (w.times.length === 0 || w.times[w.times.length - 1]! <= horizon) map.delete(a);
    if (hard && map.size >= MAX_TRACKED) map.clear();
  }

  /** bans an address by rule or by hand; trusted addresses are refused */
  ban(address: string, reason: string, opts: { seconds?: number; manual?: boolean } = {}): Ban | undefined {
    if (this.trusted.has(address)) return undefined;
    const now = this.clock();
    const b = this.bans.add(address, reason, now, opts);
    this.stats.bansIssued++;
    this.failures.delete(address);
    this.badRequests.delete(address);
    this.hooks.sink.emit(
      securityEvent('Ban', {
        time: now,
        service: opts.manual ? 'CLI' : 'SIP',
        remote: { transport: 'udp', address, port: 0 },
        detail: reason,
        extra: { seconds: Math.round((b.until - now) / 1000), offences: b.offences },
      }),
    );
    this.announceBan(b, false);
    return b;
  }

  /**
   * A ban another node made: enforced here from the next packet on, with its
   * own end time and offence count (so the growing ban time holds across
   * nodes), logged as a Ban event of ours, never shared again. Our trusted
   * list wins; a ban already over is ignored.
   */
  adopt(ban: Ban): boolean {
    if (this.trusted.has(ban.address) || ban.until <= this.clock()) return false;
    this.bans.adopt({ ...ban });
    this.failures.delete(ban.address);
    this.badRequests.delete(ban.address);
    this.stats.bansAdopted++;
    this.hooks.sink.emit(
      securityEvent('Ban', {
        time: this.clock(),
        service: 'SIP',
        remote: { transport: 'udp', address: ban.address, port: 0 },
        detail: `${ban.reason} (shared)`,
        extra: { seconds: Math.round((ban.until - this.clock()) / 1000), offences: ban.offences },
      }),
    );
    this.announceBan(ban, true);
    return true;
  }

  /** another node's administrator lifted a ban */
  adoptUnban(address: string): Ban | undefined {
    const b = this.bans.remove(address, true);
    if (b) this.announceUnban(b, 'removed on another node', 'CLI', false);
    return b;
  }

  private announceBan(b: Ban, remote: boolean): void {
    try {
      this.hooks.onBan?.(b, remote);
    } catch (err) {
      this.hooks.onError?.(err as Error);
    }
  }

  unban(address: string, reason = 'removed by administrator'): Ban | undefined {
    const b = this.bans.remove(address, true);
    if (b) this.announceUnban(b, reason, 'CLI', true);
    return b;
  }

  private expireOne(b: Ban): void {
    this.bans.remove(b.address, false);
    this.announceUnban(b, 'expired', 'SIP', false);
  }

  private announceUnban(b: Ban, reason: string, service: string, shared: boolean): void {
    this.hooks.sink.emit(securityEvent('Unban', { service, remote: { transport: 'udp', address: b.address, port: 0 }, detail: reason }));
    try {
      this.hooks.onUnban?.(b, shared);
    } catch (err) {
      this.hooks.onError?.(err as Error);
    }
  }

  /** expires bans and forgets stale counters (once a second) */
  sweep(): void {
    const now = this.clock();
    for (const b of this.bans.expire(now)) this.announceUnban(b, 'expired', 'SIP', false);
    this.prune(this.failures, now, this.opts.authFailures.windowSec, false);
    this.prune(this.badRequests, now, this.opts.badRequests.windowSec, false);
  }

  list(): Ban[] {
    return this.bans.list(this.clock());
  }
}
