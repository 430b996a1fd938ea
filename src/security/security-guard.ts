// The ACL, reputation and toll-fraud pieces built from the configuration,
// with the hooks main.ts plugs into the request gate, the registrar, the
// B2BUA's authentication and call gate, and the control socket.
import type { PolicedExtension, SecuritySections } from './config/security-config-types.js';
import type { Logger } from '../observability/logger.js';
import type { Database } from '../storage/database.js';
import { ReputationRepo } from '../storage/reputation-repo.js';
import { CallingProfileRepo } from '../storage/calling-profile-repo.js';
import type { Remote } from '../transport/types.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import type { SecurityEventSink } from '../core/security-event.js';
import type { PinOutcome } from '../core/pin-outcome.js';
import type { TrunkPolicySettings } from '../core/call-gate.js';
import type { CallClass } from './fraud/number-plan.js';
import { EVENT_LEVELS } from './ids/event-levels.js';
import { Acl } from './acl/acl.js';
import { CidrSet } from '../core/cidr.js';
import { RequestGate, type GateRefusal } from './acl/request-gate.js';
import { ReputationService, ip, user } from './reputation/reputation-service.js';
import { NumberPlan } from './fraud/number-plan.js';
import { RateTable } from './fraud/rate-table.js';
import { FraudList } from './fraud/fraud-list.js';
import { CallingProfiles } from './fraud/calling-profile.js';
import { CallingProfileStore } from './fraud/calling-profile-store.js';
import { CallGate } from './fraud/call-gate.js';
import { makePolicy, principalOf, type PrincipalPolicy } from './fraud/principal.js';
import type { DefenceChange, DefenceSync } from '../core/defence-sync.js';

export interface GuardDeps {
  cfg: SecuritySections;
  extensions: readonly PolicedExtension[];
  isExtension(number: string): boolean;
  storage: Database;
  sink: SecurityEventSink;
  log: Logger;
  /** the addresses phones are registered from (read at most once a second) */
  registeredAddresses?: () => Iterable<string>;
  /** a trunk's own call-gate settings (the trunks module declares them) */
  trunkPolicy?: (name: string) => TrunkPolicySettings | undefined;
  /** reputation, fraud numbers and learned profiles shared with the other nodes (src/core/defence-sync.ts) */
  sync?: DefenceSync;
  /**
   * whether an extension exists now (the directory: the configuration's and
   * the database's, and those set aside by "disable", which come back as the
   * same holder); without it no extension's profile is dropped as gone
   */
  hasExtension?: (number: string) => boolean;
  /**
   * when the present holder of an extension was made (the database's
   * created_at; undefined for palisade.yaml's): a profile learned before it
   * is the previous holder's, even where the delete was never seen (a
   * cluster node cut off from the broker meanwhile, rows changed in the
   * database behind the server's back)
   */
  extensionSince?: (number: string) => number | undefined;
  /** the guard's clock (tests): the call gate's, and what profiles are aged by; Date.now by default */
  clock?: () => number;
}

const FLUSH_MS = 5000;
const DAY_MS = 86_400_000;
/** a profile whose first call is this much older than its extension's created_at is the previous holder's */
const HOLDER_CLOCK_SLACK_MS = 300_000;

/** why profiles were dropped: at start, the extensions or trunks changed, the daily look */
export type PruneTrigger = 'start' | 'extensions' | 'trunks' | 'daily';

export class SecurityGuard {
  readonly reputation: ReputationService;
  readonly plan: NumberPlan;
  readonly rates: RateTable;
  readonly fraudList: FraudList;
  readonly callGate: CallGate;
  readonly requestGate: RequestGate;
  readonly adminAcl: Acl;
  /** learned calling profiles (anomaly detection), persisted in the database */
  readonly profiles: CallingProfiles;
  private readonly profileStore: CallingProfileStore;
  private readonly repo: ReputationRepo;
  private readonly policies = new Map<string, PrincipalPolicy>();
  private readonly defaults = new Map<string, PrincipalPolicy>();
  private readonly trunkPolicies = new Map<string, { from: TrunkPolicySettings; policy: PrincipalPolicy }>();
  /** the trunks that run now; null until their owner first said (no trunk's profile is dropped as gone before) */
  private trunkNames: ReadonlySet<string> | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly d: GuardDeps) {
    const c = d.cfg;
    this.repo = new ReputationRepo(d.storage);
    this.reputation = new ReputationService({ ...c.security.reputation, minScore: 5 });
    this.plan = new NumberPlan(c.numbering);
    this.rates = new RateTable(c.rates);
    this.fraudList = new FraudList(this.plan);
    for (const n of c.fraud.numbers) this.fraudList.add(this.fraudList.normalise(n) ?? n);
    this.adminAcl = new Acl(c.admin.acl);
    const def = c.fraud.defaults;
    for (const e of d.extensions) {
      const p = e.policy;
      this.policies.set(
        e.number,
        makePolicy('extension', e.number, {
          permissions: p.callPermissions ?? def.callPermissions,
          maxCalls: p.maxCalls ?? def.maxCalls,
          callsPerMinute: p.callsPerMinute ?? def.callsPerMinute,
          maxOutboundCalls: p.maxOutboundCalls ?? def.maxOutboundCalls,
          dailySpendLimit: p.dailySpendLimit ?? def.dailySpendLimit,
          registerFrom: p.registerFrom ? Acl.permitOnly(p.registerFrom) : undefined,
          callFrom: p.callFrom ? Acl.permitOnly(p.callFrom) : undefined,
        }),
      );
    }
    this.profiles = new CallingProfiles(c.fraud.anomaly);
    this.profileStore = new CallingProfileStore(this.profiles, new CallingProfileRepo(d.storage), (err) => d.log.warn('profile-persist-failed', { error: err.message }));
    this.callGate = new CallGate({
      plan: this.plan,
      rates: this.rates,
      fraudList: this.fraudList,
      reputation: this.reputation,
      profiles: this.profiles,
      policyOf: (n) => this.policyOf(n),
      trunkPolicyOf: (n) => this.trunkPolicyOf(n),
      isExtension: d.isExtension,
      sink: d.sink,
      learned: d.sync
        ? {
            call: (principal, dest, t) => d.sync?.publish({ kind: 'profile-call', principal, dest, t }),
            length: (principal, seconds) => d.sync?.publish({ kind: 'profile-length', principal, seconds }),
          }
        : undefined,
      shared: d.sync ? (c) => d.sync?.publish(c) : undefined,
      clock: d.clock,
    });
    const sync = d.sync;
    if (sync) {
      this.reputation.book.onMark = (subject, good, bad, t) => sync.publish({ kind: 'reputation', subject, good, bad, t });
      sync.onRemote((c) => this.applyRemote(c));
    }
    this.requestGate = new RequestGate({
      acl: new Acl(c.security.acl),
      localNetworks: CidrSet.parse(c.security.localNetworks),
      reputationExempt: CidrSet.parse(c.security.reputation.exempt),
      isRegisteredAddress: d.registeredAddresses ? (addr) => this.registered().has(addr) : undefined,
      reputation: this.reputation,
      isEmergency: (n) => this.plan.isEmergency(n),
      isExtension: d.isExtension,
      callFromPermits: (n, addr) => {
        const p = this.policies.get(n);
        return p !== undefined && !p.callFrom.open && p.callFrom.allows(addr);
      },
      sink: d.sink,
    });
  }

  private registeredSet = new Set<string>();
  private registeredAt = 0;

  /** only asked on the rare path (an address under 5), and rebuilt at most once a second: a flood cannot make it costly */
  private registered(): Set<string> {
    const now = Date.now();
    if (now - this.registeredAt >= 1000 && this.d.registeredAddresses) {
      this.registeredSet = new Set(this.d.registeredAddresses());
      this.registeredAt = now;
    }
    return this.registeredSet;
  }

  /** builds the guard and restores persisted reputation and imported fraud numbers */
  static async create(d: GuardDeps): Promise<SecurityGuard> {
    const g = new SecurityGuard(d);
    const restored = await g.reputation.restore(g.repo);
    const imported = await g.reloadFraudNumbers();
    const spendRestored = await g.restoreSpend();
    const profilesRestored = await g.profileStore.restore();
    await g.pruneProfiles('start');
    g.reputation.start(g.repo, FLUSH_MS, (err) => d.log.warn('reputation-persist-failed', { error: err.message }));
    g.profileStore.start();
    g.pruneTimer = setInterval(() => void g.pruneProfiles('daily'), DAY_MS);
    g.pruneTimer.unref();
    d.log.info('security-ready', {
      reputation_restored: restored,
      fraud_numbers: g.fraudList.size,
      fraud_numbers_imported: imported,
      spend_restored_calls: spendRestored,
      calling_profiles_restored: profilesRestored,
      rates: g.rates.size,
      local_networks: d.cfg.security.localNetworks.length,
    });
    return g;
  }

  /**
   * today's spend from today's CDRs (answered calls whose verdict carries
   * the rate they passed the gate at), so a restart does not reset the
   * daily limits; returns how many calls were counted
   */
  async restoreSpend(): Promise<number> {
    const now = Date.now();
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    const rows = await this.d.storage.kysely
      .selectFrom('cdr')
      .select(['src', 'billsec', 'security_verdict'])
      .where('start', '>=', midnight.getTime())
      .where('billsec', '>', 0)
      .where('security_verdict', 'like', 'pass:%rate=%')
      .execute();
    for (const r of rows) {
      const m = /:rate=([0-9.]+)/.exec(r.security_verdict);
      if (!m) continue;
      const p = this.policyOf(r.src);
      this.callGate.spend.add(p.id, now, (Number(r.billsec) / 60) * Number(m[1]), p.dailySpendLimit);
    }
    return rows.length;
  }

  /** the list again: palisade.yaml's fraud.numbers and the database's (a prefix taken out of the database, here or by another node, goes) */
  async reloadFraudNumbers(): Promise<number> {
    const rows = await this.repo.loadFraudNumbers();
    const keep = new Set([...this.d.cfg.fraud.numbers.map((n) => this.fraudList.normalise(n) ?? n), ...rows]);
    for (const p of this.fraudList.prefixes()) if (!keep.has(p)) this.fraudList.remove(p);
    for (const p of rows) this.fraudList.add(p);
    return rows.length;
  }

  /**
   * Drops the learned profiles of principals that no longer exist (an
   * extension not in the directory, a trunk not in the running list) and of
   * those that have placed no call for `fraud.anomaly.profile_max_age_days`,
   * from memory and from the database. A number given to someone new must
   * not be judged by the previous holder's calls. Campaigns are never
   * removed, so only their age counts. Every node (and worker) of a cluster
   * does this on the same change, and the delete is idempotent; see
   * docs/configuration.md, `fraud`. Never rejects: a failed delete is logged
   * and tried again with the next write.
   */
  async pruneProfiles(trigger: PruneTrigger): Promise<{ gone: number; idle: number }> {
    const now = (this.d.clock ?? Date.now)();
    const maxAge = this.d.cfg.fraud.anomaly.profileMaxAgeDays * DAY_MS;
    const hasExtension = this.d.hasExtension;
    const since = this.d.extensionSince;
    let gone = 0;
    let idle = 0;
    const dropped = this.profiles.drop((id, lastCallAt, firstCallAt) => {
      const p = principalOf(id);
      if ((p?.kind === 'extension' && hasExtension && !hasExtension(p.name)) || (p?.kind === 'trunk' && this.trunkNames && !this.trunkNames.has(p.name))) {
        gone++;
        return true;
      }
      // learned before the present holder was made (with room for clocks of nodes that differ a little)
      const made = p?.kind === 'extension' ? since?.(p.name) : undefined;
      if (made !== undefined && firstCallAt < made - HOLDER_CLOCK_SLACK_MS) {
        gone++;
        return true;
      }
      if (maxAge > 0 && now - lastCallAt > maxAge) {
        idle++;
        return true;
      }
      return false;
    });
    if (dropped.length === 0) return { gone, idle };
    await this.profileStore.forget(dropped);
    this.d.log.info('calling-profiles-pruned', { trigger, principal_gone: gone, idle, remaining: this.profiles.size });
    return { gone, idle };
  }

  /** the trunks that run now (their owner publishes the list at start and after each change): profiles of trunks gone are dropped */
  async trunksNow(names: Iterable<string>): Promise<void> {
    this.trunkNames = new Set(names);
    await this.pruneProfiles('trunks');
  }

  /** an extension's policy; extensions without settings (e.g. imported ones) get fraud.defaults */
  /** a declared trunk's principal (cached per settings object); undefined for an unknown trunk */
  trunkPolicyOf(name: string): PrincipalPolicy | undefined {
    const s = this.d.trunkPolicy?.(name);
    if (!s) return undefined;
    const cached = this.trunkPolicies.get(name);
    if (cached && cached.from === s) return cached.policy;
    const def = this.d.cfg.fraud.defaults;
    const policy = makePolicy('trunk', name, {
      permissions: (s.permissions as CallClass[] | undefined) ?? def.callPermissions,
      maxCalls: s.maxCalls ?? 0,
      callsPerMinute: 0,
      // a trunk carries many callers' calls at once: its limit is max_calls
      maxOutboundCalls: Number.MAX_SAFE_INTEGER,
      dailySpendLimit: s.dailySpendLimit ?? def.dailySpendLimit,
      callFrom: s.callFrom ? new Acl({ permit: [...s.callFrom], deny: [] }) : undefined,
    });
    this.trunkPolicies.set(name, { from: s, policy });
    return policy;
  }

  policyOf(number: string): PrincipalPolicy {
    const p = this.policies.get(number);
    if (p) return p;
    let q = this.defaults.get(number);
    if (!q) {
      const def = this.d.cfg.fraud.defaults;
      q = makePolicy('extension', number, {
        permissions: def.callPermissions,
        maxCalls: def.maxCalls,
        callsPerMinute: def.callsPerMinute,
        maxOutboundCalls: def.maxOutboundCalls,
        dailySpendLimit: def.dailySpendLimit,
      });
      if (this.defaults.size > 100_000) this.defaults.clear();
      this.defaults.set(number, q);
    }
    return q;
  }

  /** request gate: null lets the request through */
  checkRequest(req: SipMessage, remote: Remote): GateRefusal | null {
    return this.requestGate.check(req, remote);
  }

  /** registrar hook, after authentication: register_from */
  mayRegister(aor: string, remote: Remote): boolean {
    const p = this.policies.get(aor);
    if (!p || p.registerFrom.allows(remote.address)) return true;
    this.reputation.bad(ip(remote.address));
    this.d.sink.emit({
      type: 'FailedACL',
      level: EVENT_LEVELS.FailedACL,
      time: Date.now(),
      service: 'SIP',
      remote,
      account: aor,
      detail: 'register_from',
      extra: { method: 'REGISTER' },
    });
    return false;
  }

  /** every authentication outcome (REGISTER and INVITE) */
  authOutcome(ok: boolean, reason: string | undefined, account: string | undefined, remote: Remote): void {
    if (ok && account) this.reputation.authSucceeded(account, remote.address);
    // a missing or stale credential is the normal first round of digest, not a failure
    else if (!ok && reason !== 'missing' && reason !== 'stale') this.reputation.authFailed(remote.address);
  }

  /** a request flood or spam pattern a feature reported (MESSAGE): bad marks for the address and the account that sent it */
  floodSeen(address: string, account?: string): void {
    this.reputation.bad(ip(address));
    if (account) this.reputation.bad(user(account));
  }

  /** a PIN checked during a call (VoiceMailMain, Authenticate()...): a failure counts against the address and the calling extension */
  pinOutcome(o: PinOutcome): void {
    if (!o.ok) this.reputation.pinFailed(o.call.peer.address, o.call.peer.account);
  }

  /** a change another node made to what the guard knows */
  private applyRemote(c: DefenceChange): void {
    switch (c.kind) {
      case 'reputation':
        this.reputation.book.adopt(c.subject, c.good, c.bad, c.t);
        return;
      case 'reputation-reset':
        this.reputation.book.reset(c.subject);
        return;
      case 'fraud-reload':
        this.reloadFraudNumbers().catch((err: Error) => this.d.log.warn('fraud-reload-failed', { error: err.message }));
        return;
      case 'profile-call':
        this.profiles.learn(c.principal, c.dest, c.t);
        return;
      case 'profile-length':
        this.profiles.learnLength(c.principal, c.seconds);
        return;
      case 'spend-open':
      case 'spend':
      case 'call-open':
      case 'call-close':
      case 'node-gone':
        this.callGate.applyShared(c);
        return;
      default:
        return;
    }
  }

  /** control-socket commands: reputation, fraud-reload, guard */
  async control(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    switch (cmd) {
      case 'reputation': {
        const subject = String(args.subject ?? '').trim();
        if (!subject) throw new Error('reputation needs an ADDRESS or USER');
        // an address (has . or :) or an extension number
        const isAddress = /[.:]/.test(subject);
        const out = this.reputation.show(isAddress ? ip(subject) : user(subject));
        if (!isAddress) {
          const p = this.policyOf(subject);
          const cnt = this.callGate.counters.get(p.id);
          const others = this.callGate.others;
          const now = Date.now();
          return {
            ...out,
            active_calls: cnt.active,
            outbound_calls: cnt.outbound,
            // in a cluster: what the other nodes announced (the limits count both)
            other_nodes_active_calls: others.active(p.id),
            other_nodes_outbound_calls: others.outbound(p.id),
            other_nodes_calls_last_minute: others.attempts(p.id, now),
            spent_today: Math.round(this.callGate.spentNow(p.id, now) * 10000) / 10000,
          };
        }
        return out;
      }
      case 'reputation-reset': {
        const subject = String(args.subject ?? '').trim();
        if (!subject) throw new Error('reputation reset needs an ADDRESS or USER');
        const key = /[.:]/.test(subject) ? ip(subject) : user(subject);
        this.reputation.book.reset(key);
        this.d.sync?.publish({ kind: 'reputation-reset', subject: key, t: Date.now() });
        return this.reputation.show(key);
      }
      case 'fraud-reload':
        await this.reloadFraudNumbers();
        this.d.sync?.publish({ kind: 'fraud-reload' });
        return { fraud_numbers: this.fraudList.size };
      case 'fraud-remove': {
        // a prefix taken out of the fraud_numbers table; one of fraud.numbers in palisade.yaml stays
        const prefix = String(args.prefix ?? '').trim();
        if (!/^\d{1,20}$/.test(prefix)) throw new Error('fraud-remove needs a PREFIX of digits');
        const configured = this.d.cfg.fraud.numbers.some((n) => (this.fraudList.normalise(n) ?? n) === prefix);
        const removed = configured ? false : this.fraudList.remove(prefix);
        // the other nodes read the list again (the caller took the prefix out of the database first)
        if (removed) this.d.sync?.publish({ kind: 'fraud-reload' });
        return { prefix, removed, configured, fraud_numbers: this.fraudList.size };
      }
      case 'guard':
        return {
          gate: this.callGate.stats,
          request_gate: this.requestGate.stats,
          reputation_subjects: this.reputation.book.size,
          fraud_numbers: this.fraudList.size,
          spend: this.callGate.spend.all(Date.now()),
        };
      default:
        throw new Error(`unknown command "${cmd}"`);
    }
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    await this.reputation.stop(this.repo).catch((err: Error) => this.d.log.warn('reputation-persist-failed', { error: err.message }));
    await this.profileStore.stop();
  }
}

export const GUARD_COMMANDS = new Set(['reputation', 'reputation-reset', 'fraud-reload', 'fraud-remove', 'guard']);
