// The call gate (docs/architecture.md: "before a call leaves"): every call an
// authenticated principal places passes here after authentication and
// before routing. In order:
//   1. classify the destination; emergency numbers pass at once — no rule,
//      limit, reputation or spend check may ever block them (docs/architecture.md, Security rules);
//   2. call_from ACL of the caller (FailedACL);
//   3. reputation: caller, and an internal callee, must not be under 5;
//   4. known fraud numbers (prefix match) — always refused;
//   5. the caller's allowed destination classes;
//   6. limits: active outbound calls, concurrent calls, calls per minute
//      (caller), concurrent calls of an internal callee (486 Busy Here);
//   7. spend: a rated call with the day's limit reached is refused;
//   8. anomalies against the learned profile: flagged, or refused in block mode.
// Steps 2, 5, 6 and 7 apply to every principal of the call: the calling
// extension and, once trunks exist, the trunk it leaves by or arrives from
// (its own ACL, classes, limits and spend; see principal.ts).
// Refusals answer a generic "403 Forbidden"; the rule is logged, put in the
// CDR verdict and emitted as a SecurityEvent, never told to the caller.
// Fraud-rule refusals (fraud list, class, no paid calls, blocked anomaly)
// are bad reputation evidence for the user and the address; a limit reached
// (calls, rate, spend) is capacity, not malice, and is not.
// the port it implements is core/'s (docs/architecture.md, Layers): security does not import the B2BUA
import type { CallAttempt, CallGateApi, CallTicket, CampaignPrincipal, GateDecision } from '../../core/call-gate.js';
import type { SecurityEventSink, SecurityEventType } from '../../core/security-event.js';
import { EVENT_LEVELS } from '../ids/event-levels.js';
import type { Remote } from '../../transport/types.js';
import { CALL_CLASSES, type CallClass, type NumberPlan } from './number-plan.js';
import type { RateTable } from './rate-table.js';
import type { FraudList } from './fraud-list.js';
import { makePolicy, type PrincipalPolicy } from './principal.js';
import { CallCounters } from './call-counters.js';
import { SpendTracker } from './spend-tracker.js';
import { ClusterCalls } from './cluster-calls.js';
import { SpendMeter, type RunningCall } from './spend-meter.js';
import type { DefenceChange } from '../../core/defence-sync.js';
import { systemName } from '../../core/system-name.js';
import type { CallingProfiles } from './calling-profile.js';
import { ip, user, type ReputationService } from '../reputation/reputation-service.js';

/** the part of a call's cost per minute, in ms of calling, below which a daily spend limit counts as reached */
const SPEND_SLACK_MS = 50;

export interface CallGateDeps {
  plan: NumberPlan;
  rates: RateTable;
  fraudList: FraudList;
  reputation: ReputationService;
  profiles: CallingProfiles;
  /** the policy of an extension (a default one for extensions without settings) */
  policyOf(number: string): PrincipalPolicy;
  /** the policy of a trunk principal (the trunk code to come); unknown trunks may call only internal and emergency numbers */
  trunkPolicyOf?(name: string): PrincipalPolicy | undefined;
  isExtension(number: string): boolean;
  sink: SecurityEventSink;
  clock?: () => number;
  /** told what the calling profiles learned here (the cluster shares it) */
  learned?: { call(principal: string, dest: string, t: number): void; length(principal: string, seconds: number): void };
  /** told when a call passes and ends, and when a priced call is answered and ends (the cluster shares the limits and the spend) */
  shared?: (change: SharedCallChange) => void;
}

/** the records one node's calls send the others (src/core/defence-sync.ts) */
export type SharedCallChange = Extract<DefenceChange, { kind: 'spend-open' | 'spend' | 'call-open' | 'call-close' | 'node-gone' }>;

/** a campaign's own policy: only the classes its configuration names, its own limits (0 = unlimited) */
function campaignPolicy(c: CampaignPrincipal): PrincipalPolicy {
  const max = c.maxCalls > 0 ? c.maxCalls : Number.MAX_SAFE_INTEGER;
  return makePolicy('campaign', c.name, {
    permissions: c.permissions.filter((p): p is CallClass => (CALL_CLASSES as readonly string[]).includes(p)),
    maxCalls: c.maxCalls,
    maxOutboundCalls: max,
    callsPerMinute: c.callsPerMinute,
    dailySpendLimit: c.dailySpendLimit,
  });
}

const FORBIDDEN = { status: 403, reason: 'Forbidden' } as const;

export class CallGate implements CallGateApi {
  readonly counters = new CallCounters();
  readonly spend = new SpendTracker();
  /** priced calls running now, here and on the other nodes */
  readonly meter = new SpendMeter();
  /** the other nodes' calls and attempts, added to `counters` by the limits */
  readonly others = new ClusterCalls();
  private readonly clock: () => number;
  private readonly keyBase = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  private seq = 0;
  stats = { checked: 0, refused: 0, flagged: 0, cut: 0 };

  constructor(private readonly d: CallGateDeps) {
    this.clock = d.clock ?? Date.now;
  }

  check(a: CallAttempt): GateDecision {
    this.stats.checked++;
    const d = this.d;
    const now = this.clock();
    // a call in from a trunk reaches a number we serve: internal, whatever its digits (a DID)
    const c = a.inbound ? ({ cls: 'internal', e164: null } as const) : d.plan.classify(a.dialled, (n) => a.callee === n || d.isExtension(n));
    // whoever the call is charged to and limited as: the calling extension,
    // and the trunk it leaves by or arrives from (each checked on its own)
    const principals: PrincipalPolicy[] = [];
    if (a.caller) principals.push(d.policyOf(a.caller));
    if (a.trunk !== undefined) principals.push(this.trunkPolicy(a.trunk));
    if (a.campaign) principals.push(campaignPolicy(a.campaign));
    const calleePol = c.cls === 'internal' && a.callee ? d.policyOf(a.callee) : undefined;

    if (c.cls === 'emergency') return this.pass(a, principals, calleePol, 0, now, 'pass:emergency');

    const at = (p: PrincipalPolicy, rule: string) => (p.kind === 'extension' ? rule : `${rule}@${p.id}`);
    for (const p of principals) if (!p.callFrom.allows(a.remote.address)) return this.refuse(a, 'FailedACL', at(p, 'call_from'), false);
    if (a.caller && d.reputation.refused(user(a.caller))) return this.refuse(a, 'ReputationReject', 'reputation:caller', false);
    if (a.callee && d.reputation.refused(user(a.callee))) return this.refuse(a, 'ReputationReject', 'reputation:callee', false);

    const listed = d.fraudList.match(a.dialled, c.e164);
    if (listed !== undefined) return this.refuse(a, 'FraudRuleHit', `fraud-list:${listed}`, true);
    for (const p of principals) if (!p.permissions.has(c.cls)) return this.refuse(a, 'FraudRuleHit', at(p, `class-not-permitted:${c.cls}`), true);

    // the counts are the cluster's: this node's calls and those the other nodes announced
    for (const p of principals) {
      const cnt = this.counters.get(p.id);
      if (cnt.outbound + this.others.outbound(p.id) >= p.maxOutboundCalls) return this.refuse(a, 'FraudRuleHit', at(p, `max_outbound_calls:${p.maxOutboundCalls}`), false);
      if (p.maxCalls > 0 && this.activeCalls(p.id) >= p.maxCalls) return this.refuse(a, 'FraudRuleHit', at(p, `max_calls:${p.maxCalls}`), false);
      if (p.callsPerMinute > 0 && this.minuteFull(p.id, now, p.callsPerMinute)) {
        return this.refuse(a, 'FraudRuleHit', at(p, `calls_per_minute:${p.callsPerMinute}`), false);
      }
    }
    if (calleePol && calleePol.maxCalls > 0 && this.activeCalls(calleePol.id) >= calleePol.maxCalls) {
      // the callee is simply busy: not the caller's fault, no event
      return { ok: false, status: 486, reason: 'Busy Here', verdict: `callee-max_calls:${calleePol.maxCalls}` };
    }

    const rate = d.rates.lookup(a.dialled, c);
    if (rate.perMinute > 0) {
      for (const p of principals) {
        if (p.dailySpendLimit <= 0) return this.refuse(a, 'FraudRuleHit', at(p, 'no-paid-calls'), true);
        // a call cut for the limit ends on a timer, which may fire a few ms early: what is left below
        // SPEND_SLACK_MS of this call's rate would not pay for a call, so the limit counts as reached
        const slack = Math.max(1e-9, (rate.perMinute * SPEND_SLACK_MS) / 60_000);
        if (this.spentNow(p.id, now) >= p.dailySpendLimit - slack) return this.refuse(a, 'FraudRuleHit', at(p, `daily_spend_limit:${p.dailySpendLimit}`), false);
      }
    }

    // the learned profile is the first principal's (the extension's, or the trunk's for inbound trunk calls)
    const profileId = principals[0]?.id ?? 'anonymous';
    const dest = d.profiles.destKey(a.dialled, c.e164);
    const flags = d.profiles.check(profileId, dest, now);
    if (flags.length > 0) {
      const block = d.profiles.cfg.mode === 'block';
      this.stats.flagged++;
      this.emit('FraudRuleHit', block ? 12 : 7, a, `anomaly:${flags.join(',')}`, { class: c.cls, action: block ? 'block' : 'flag' });
      if (block) return this.refuse(a, undefined, `anomaly:${flags.join(',')}`, true);
    }
    d.profiles.learn(profileId, dest, now);
    d.learned?.call(profileId, dest, now);
    const verdict = `pass:${c.cls}${rate.perMinute > 0 ? `:rate=${rate.perMinute}` : ''}${flags.length ? `:flagged=${flags.join(',')}` : ''}`;
    return this.pass(a, principals, calleePol, rate.perMinute, now, verdict);
  }

  /** the day's spend so far, with what the running priced calls (on every node) have spent */
  spentNow(id: string, now: number): number {
    return this.spend.spent(id, now) + this.meter.running(id, now);
  }

  /** calls the principal takes part in, on this node and the others */
  activeCalls(id: string): number {
    return this.counters.get(id).active + this.others.active(id);
  }

  /** whether `cap` attempts passed in the last minute, on this node and the others */
  private minuteFull(id: string, now: number, cap: number): boolean {
    const others = this.others.attempts(id, now);
    // alone (or no other node's attempt this minute): the ring's O(1) answer
    if (others === 0) return this.counters.minuteFull(id, now, cap);
    return this.counters.attemptsInMinute(id, now) + others >= cap;
  }

  /** another node's call passed or ended, its priced call was answered or ended, or a node is gone */
  applyShared(c: SharedCallChange): void {
    const now = this.clock();
    if (c.kind === 'call-open') this.others.open(c.call, c.node, c.principals, c.callee, c.t);
    else if (c.kind === 'call-close') this.others.close(c.call);
    else if (c.kind === 'spend-open') {
      this.meter.open({ key: c.call, node: c.node, principals: c.principals, perMinute: c.perMinute, since: c.t });
      this.meter.touch(c.principals);
    } else if (c.kind === 'spend') {
      this.meter.close(c.call);
      // the node that made the call raised the alerts; the limit 0 adds without marking any here
      for (const s of c.spent) this.spend.add(s.principal, now, s.amount, 0);
      this.meter.touch(c.spent.map((s) => s.principal));
    } else {
      this.others.dropNode(c.node);
      this.meter.touch(this.meter.dropNode(c.node));
    }
  }

  private trunkPolicy(name: string): PrincipalPolicy {
    // an unknown trunk gets nothing but internal and emergency calls
    return this.d.trunkPolicyOf?.(name) ?? makePolicy('trunk', name, { permissions: [], dailySpendLimit: 0 });
  }

  private pass(a: CallAttempt, principals: PrincipalPolicy[], calleePol: PrincipalPolicy | undefined, perMinute: number, now: number, verdict: string): GateDecision {
    const counters = principals.map((p) => this.counters.get(p.id));
    for (const [i, cnt] of counters.entries()) {
      cnt.active++;
      cnt.outbound++;
      this.counters.noteAttempt(principals[i]!.id, now, principals[i]!.callsPerMinute);
    }
    const calleeCnt = calleePol ? this.counters.get(calleePol.id) : undefined;
    if (calleeCnt) calleeCnt.active++;
    // the other nodes count this call against the same limits until it ends
    const node = systemName();
    const shared = this.d.shared && principals.length + (calleePol ? 1 : 0) > 0 ? `${node}:${this.keyBase}:c${++this.seq}` : undefined;
    if (shared) {
      this.d.shared?.({
        kind: 'call-open',
        call: shared,
        node,
        principals: principals.map((p) => ({ id: p.id, perMinute: p.callsPerMinute })),
        callee: calleePol?.id,
        t: now,
      });
    }
    let cutTimer: NodeJS.Timeout | undefined;
    let done = false;
    let answeredAt = 0;
    let running: RunningCall | undefined;
    const ticket: CallTicket = {
      answered: (cut) => {
        answeredAt = this.clock();
        if (perMinute <= 0 || done || principals.length === 0) return;
        // cut the call when the running calls of its principals (on every node) would together
        // cross the tightest day's limit; worked out again whenever one of them starts or ends
        let cutting = false;
        const reschedule = () => {
          if (done || cutting) return;
          if (cutTimer) clearTimeout(cutTimer);
          const t = this.clock();
          const tightest = principals.reduce(
            (best, p) => {
              const left = p.dailySpendLimit - this.spentNow(p.id, t);
              const ms = (Math.max(0, left) / Math.max(perMinute, this.meter.rate(p.id))) * 60_000;
              return ms < best.ms ? { p, ms } : best;
            },
            { p: principals[0]!, ms: Infinity },
          );
          cutTimer = setTimeout(() => {
            cutting = true;
            this.stats.cut++;
            this.emit('FraudRuleHit', 12, a, `daily_spend_limit:${tightest.p.dailySpendLimit}:cut`, { principal: tightest.p.id });
            cut('spend-limit');
          }, tightest.ms);
          cutTimer.unref();
        };
        running = { key: `${node}:${this.keyBase}:${++this.seq}`, node, principals: principals.map((p) => p.id), perMinute, since: answeredAt, reschedule };
        this.meter.open(running);
        this.d.shared?.({ kind: 'spend-open', call: running.key, node, principals: running.principals, perMinute, t: answeredAt });
        this.meter.touch(running.principals);
      },
      ended: (billsec, declined) => {
        if (done) return;
        done = true;
        if (cutTimer) clearTimeout(cutTimer);
        const end = this.clock();
        if (running) this.meter.close(running.key);
        for (const cnt of counters) {
          cnt.active--;
          cnt.outbound--;
        }
        if (calleeCnt) calleeCnt.active--;
        if (shared) this.d.shared?.({ kind: 'call-close', call: shared, node });
        // the answered time measured here (the CDR's billsec is whole seconds)
        const talked = answeredAt > 0 ? (end - answeredAt) / 1000 : billsec;
        if (perMinute > 0 && talked > 0) {
          for (const p of principals) {
            for (const t of this.spend.add(p.id, end, (talked / 60) * perMinute, p.dailySpendLimit)) {
              const pct = `${Math.round(t * 100)}%`;
              this.emit('FraudRuleHit', t >= 1 ? 12 : 8, a, `daily_spend_limit:${p.dailySpendLimit}:${pct}`, {
                principal: p.id,
                threshold: pct,
                spent: Math.round(this.spend.spent(p.id, end) * 10000) / 10000,
              });
            }
          }
        }
        if (running) {
          const cost = perMinute > 0 && talked > 0 ? (talked / 60) * perMinute : 0;
          this.d.shared?.({ kind: 'spend', call: running.key, node: running.node, spent: principals.map((p) => ({ principal: p.id, amount: cost })), t: end });
          this.meter.touch(running.principals);
        }
        if (talked > 0 && principals[0]) {
          const flag = this.d.profiles.learnLength(principals[0].id, talked);
          this.d.learned?.length(principals[0].id, talked);
          if (flag) this.emit('FraudRuleHit', 7, a, `anomaly:${flag}`, { seconds: Math.round(talked), action: 'flag' });
        }
        if (talked > 0 && a.caller && this.d.reputation.callEnded(a.caller, a.callee, a.remote.address, talked)) {
          this.emit('FraudRuleHit', 7, a, 'short-call-burst', { seconds: Math.round(talked) });
        }
        // a callee declining the call (607 Unwanted above all) is RiVS's "rejected call": bad for the caller
        if (declined && a.caller) this.d.reputation.bad(user(a.caller));
        for (const p of principals) this.counters.release(p.id, end);
      },
    };
    return { ok: true, verdict, ticket };
  }

  private refuse(a: CallAttempt, type: SecurityEventType | undefined, rule: string, counts: boolean): GateDecision {
    this.stats.refused++;
    // OSSEC levels as in ids/event-levels.ts: a fraud rule puts money at stake (12);
    // a limit reached is worth a look (8); ACL and reputation refusals are 6
    if (type) this.emit(type, type !== 'FraudRuleHit' ? EVENT_LEVELS[type] : counts ? 12 : 8, a, rule, {});
    if (counts) {
      // a rejected call is bad evidence for the user and the address it came from
      if (a.caller) this.d.reputation.bad(user(a.caller));
      this.d.reputation.bad(ip(a.remote.address));
    }
    return { ok: false, ...FORBIDDEN, verdict: `refused:${rule}` };
  }

  private emit(type: SecurityEventType, level: number, a: CallAttempt, detail: string, extra: Record<string, string | number | boolean>): void {
    const remote: Remote = a.remote;
    this.d.sink.emit({ type, level, time: this.clock(), service: 'SIP', remote, account: a.caller, sessionId: a.callId, detail, extra: { dialled: a.dialled, ...extra } });
  }
}
