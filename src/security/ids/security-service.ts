// Assembles the intrusion defences from the configuration: the event bus,
// the security log, the IDS rules and ban table (the packet gate), the
// optional nftables mirror and the e-mail alerter, and answers the control
// socket's `bans` commands. main.ts creates one and plugs it in at the
// transport (gate, malformed), the UAS (auth outcomes) and the request gate.
import type { AlertsConfig, IdsConfig, SecurityLogConfig } from './ids-config.js';
import type { Logger } from '../../observability/logger.js';
import type { ListenPoint, Remote, TransportKind } from '../../transport/types.js';
import type { SecurityEvent, SecurityEventSink } from '../../core/security-event.js';
import { SecurityEventBus } from './event-bus.js';
import { securityEvent } from './event-levels.js';
import { IdsEngine } from './ids-engine.js';
import type { Ban } from './ban-table.js';
import { NftMirror } from './nftables.js';
import { SecurityAlerter } from './alerter.js';
import { SecurityLog } from '../seclog/security-log.js';
import { authOutcomeEvent, authOutcomeType, type AuthOutcome } from './auth-events.js';
import { EVENT_LEVELS } from './event-levels.js';
import { isIP } from 'node:net';
import type { DefenceChange, DefenceSync } from '../../core/defence-sync.js';
import { thisWorker } from '../../core/workers.js';

export interface SecurityServiceConfig {
  log: SecurityLogConfig;
  ids: IdsConfig;
  alerts: AlertsConfig;
}

export interface SecurityServiceDeps {
  log: Logger;
  /** whether a live authenticated registration comes from this address */
  isRegisteredAddress?: (address: string) => boolean;
  /** a ban took effect: close the address's TCP connections */
  closeFlowsFrom?: (address: string) => void;
  /** sends one alert mail; absent = alerts are only logged */
  sendMail?: (to: string[], subject: string, text: string) => Promise<void>;
  hostName?: string;
  /** bans shared with the other nodes of a cluster (src/core/defence-sync.ts) */
  sync?: DefenceSync;
}

/**
 * "does a live registration come from this address?" as an O(1) Set lookup,
 * the Set rebuilt from the location service at most once per `ttlMs`: asked
 * on every failed authentication, which under attack may be thousands per
 * second against tens of thousands of bindings.
 */
export function registeredAddresses(list: () => string[], ttlMs = 1000, clock: () => number = Date.now): (address: string) => boolean {
  let set = new Set<string>();
  let builtAt = -Infinity;
  return (address) => {
    const now = clock();
    if (now - builtAt >= ttlMs) {
      set = new Set(list());
      builtAt = now;
    }
    return set.has(address);
  };
}

/**
 * The one spelling the packet gate sees: IPv6 compressed and lower-case as
 * Node reports a peer (2001:DB8:0::1 → 2001:db8::1), IPv4-mapped IPv6 as IPv4.
 */
export function canonicalAddress(a: string): string {
  if (isIP(a) !== 6) return a;
  const h = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (m) return m[1]!;
  // the WHATWG URL parser writes an IPv4-mapped tail in hex (::ffff:c000:201)
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (hex) {
    const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
    return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return h;
}

/** "90", "90s", "15m", "1h", "2d" → seconds */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (!m) return null;
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  const v = Number(m[1]) * mult;
  return v > 0 ? v : null;
}

function banView(b: Ban, now: number): Record<string, unknown> {
  return {
    address: b.address,
    reason: b.reason,
    since: new Date(b.since).toISOString(),
    expires_in: Math.max(0, Math.round((b.until - now) / 1000)),
    offences: b.offences,
    manual: b.manual,
  };
}

export class SecurityService implements SecurityEventSink {
  readonly bus = new SecurityEventBus();
  readonly ids?: IdsEngine;
  readonly seclog?: SecurityLog;
  readonly alerter?: SecurityAlerter;
  readonly nft?: NftMirror;
  /**
   * the lowest level any subscriber looks at: routine events below it (a
   * challenge, a successful login) are only counted, never built, so the
   * defences cost next to nothing on the hot REGISTER path
   */
  private readonly floor: number;

  constructor(
    private readonly cfg: SecurityServiceConfig,
    private readonly deps: SecurityServiceDeps,
  ) {
    const log = deps.log;
    this.bus.onListenerError = (err, ev) => log.error('security-listener-failed', { event: ev.type, error: (err as Error).message });
    if (cfg.log.file) {
      const seclog = new SecurityLog({ file: cfg.log.file, format: cfg.log.format, minLevel: cfg.log.minLevel }, (err) =>
        log.error('security-log-write-failed', { file: cfg.log.file, error: err.message }),
      );
      this.seclog = seclog;
      this.bus.subscribe((ev) => seclog.write(ev));
    }
    const ic = cfg.ids;
    if (ic.nftables.enabled) {
      this.nft = new NftMirror({ family: ic.nftables.family, table: ic.nftables.table, set: ic.nftables.set, set6: ic.nftables.set6 }, (err, args) =>
        log.warn('nft-failed', { args: args.join(' '), error: err.message }),
      );
    }
    if (ic.enabled) {
      const ids = new IdsEngine(
        {
          trusted: ic.trusted,
          authFailures: { threshold: ic.authFailures.threshold, windowSec: ic.authFailures.window },
          registeredThreshold: ic.registeredThreshold,
          badRequests: { threshold: ic.badRequests.threshold, windowSec: ic.badRequests.window },
          floodPacketsPerSecond: ic.floodRate,
          scanners: ic.scanners,
          ban: { timeSec: ic.ban.time, factor: ic.ban.factor, maxSec: ic.ban.max, forgetAfterSec: ic.ban.forgetAfter },
          stateFile: ic.stateFile,
          stateReadOnly: thisWorker !== null && thisWorker.index !== 0,
        },
        {
          sink: this.bus,
          isRegisteredAddress: deps.isRegisteredAddress,
          onBan: (b, remote) => {
            // the other nodes first (docs/operations.md, "Scaling out": a ban in force everywhere within
            // milliseconds): closing flows, the nftables call and the log line come after the send
            if (!remote) deps.sync?.publish({ kind: 'ban', ban: { ...b } });
            deps.closeFlowsFrom?.(b.address);
            this.nft?.add(b.address, (b.until - Date.now()) / 1000);
            log.warn('banned', { address: b.address, reason: b.reason, seconds: Math.round((b.until - Date.now()) / 1000), offences: b.offences, shared: remote });
          },
          onUnban: (b, shared) => {
            this.nft?.remove(b.address);
            log.info('unbanned', { address: b.address });
            if (shared) deps.sync?.publish({ kind: 'unban', address: b.address });
          },
          onError: (err) => log.error('ids-error', { error: err.message }),
        },
      );
      this.ids = ids;
      this.bus.subscribe((ev) => ids.handle(ev));
    }
    const ac = cfg.alerts;
    if (ac.to.length > 0) {
      const send = deps.sendMail;
      this.alerter = new SecurityAlerter({
        level: ac.level,
        delayMs: ac.delay * 1000,
        intervalMs: ac.interval * 1000,
        hostName: deps.hostName,
        send: async (subject, text) => {
          if (!send) {
            log.warn('security-alert', { to: ac.to, subject, note: 'no mailer configured; alert only logged' });
            return;
          }
          await send(ac.to, subject, text);
          log.info('security-alert-sent', { to: ac.to, subject });
        },
        onError: (err) => log.error('security-alert-failed', { error: err.message }),
      });
      const alerter = this.alerter;
      this.bus.subscribe((ev) => alerter.handle(ev));
    }
    this.floor = Math.min(
      this.seclog ? cfg.log.minLevel : 16,
      this.alerter ? cfg.alerts.level : 16,
      // the IDS rules start at RequestBadFormat
      this.ids ? EVENT_LEVELS.RequestBadFormat : 16,
    );
  }

  start(): void {
    this.deps.sync?.onRemote((c) => this.applyRemote(c));
    const n = this.ids?.start() ?? 0;
    if (n > 0) this.deps.log.info('bans-restored', { bans: n });
  }

  /** a ban or unban another node made */
  private applyRemote(c: DefenceChange): void {
    const ids = this.ids;
    if (!ids) return;
    if (c.kind === 'ban') ids.adopt({ ...c.ban, address: canonicalAddress(c.ban.address) });
    else if (c.kind === 'unban') ids.adoptUnban(canonicalAddress(c.address));
  }

  async stop(): Promise<void> {
    this.ids?.stop();
    await this.alerter?.flush();
    this.alerter?.stop();
    await this.seclog?.close();
  }

  emit(ev: SecurityEvent): void {
    this.bus.emit(ev);
  }

  /** the transport's packet gate */
  readonly gate = {
    admit: (address: string, transport: TransportKind): boolean => (this.ids ? this.ids.admit(address, transport) : true),
  };

  /** the request gate's scanner check on a parsed request: true = drop it silently */
  dropRequest(userAgent: string | undefined, remote: Remote, local: ListenPoint | undefined, callId: string | undefined): boolean {
    if (!this.ids) return false;
    return this.ids.checkUserAgent(userAgent, { remote, local, sessionId: callId });
  }

  /** `localFor`: our listening address for the event, looked up only when the event is kept */
  authOutcome(o: AuthOutcome, localFor?: (remote: Remote) => ListenPoint): void {
    const type = authOutcomeType(o);
    if (EVENT_LEVELS[type] < this.floor) return this.bus.countOnly(type);
    this.bus.emit(authOutcomeEvent(localFor && o.local === undefined ? { ...o, local: localFor(o.remote) } : o));
  }

  malformed(remote: Remote, local: ListenPoint, error: string, method: string | undefined): void {
    this.bus.emit(securityEvent('RequestBadFormat', { remote, local, detail: error.slice(0, 200), extra: method ? { method } : {} }));
  }

  /** control-socket commands: bans, ban-add, ban-remove */
  control(cmd: string, args: Record<string, unknown>): unknown {
    const ids = this.ids;
    if (!ids) throw new Error('the IDS is disabled (security.ids.enabled: false)');
    const now = Date.now();
    if (cmd === 'bans') return ids.list().map((b) => banView(b, now));
    const given = typeof args.address === 'string' ? args.address.trim() : '';
    if (isIP(given) === 0) throw new Error(`"${given}" is not an IP address`);
    const address = canonicalAddress(given);
    if (cmd === 'ban-add') {
      let seconds: number | undefined;
      if (args.for !== undefined) {
        const s = parseDuration(String(args.for));
        if (s === null) throw new Error(`--for "${String(args.for)}" is not a duration; expected such as 90s, 15m, 1h, 2d`);
        seconds = s;
      }
      const b = ids.ban(address, typeof args.reason === 'string' && args.reason ? args.reason.slice(0, 200) : 'banned by administrator', {
        seconds: seconds ?? this.cfg.ids.ban.time,
        manual: true,
      });
      if (!b) throw new Error(`${address} is on the trusted list (security.ids.trusted) and is never banned`);
      return banView(b, now);
    }
    if (cmd === 'ban-remove') {
      const b = ids.unban(address);
      if (!b) throw new Error(`${address} is not banned`);
      return { address, removed: true };
    }
    throw new Error(`unknown command "${cmd}"`);
  }

  status(): Record<string, unknown> {
    return {
      events: this.bus.summary(),
      bans_active: this.ids?.list().length ?? 0,
      ids: this.ids?.stats,
      security_log_lines: this.seclog?.written ?? 0,
      security_log_dropped: this.seclog?.dropped ?? 0,
      alerts_sent: this.alerter?.sent ?? 0,
    };
  }
}
