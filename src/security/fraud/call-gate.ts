// The call gate (ENGINEERING.md: "before a call leaves"): every call an
// authenticated principal places passes here after authentication and
// before routing. In order:
//   1. classify the destination; emergency numbers pass at once — no rule,
//      limit, reputation or spend check may ever block them (SPEC.md §4);
//   2. call_from ACL of the caller (FailedACL);
//   3. reputation: caller, and an internal callee, must not be under 5;
//   4. known fraud numbers (prefix match) — always refused;
//   5. the caller's allowed destination classes;
//   6. limits: active outbound calls, concurrent calls, calls per minute
//      (caller), concurrent calls of an internal callee (486 Busy Here);
//   7. spend: a rated call with the day's limit reached is refused;
//   8. anomalies against the learned profile: flagged, or refused in block mode.
// Refusals answer a generic "403 Forbidden"; the rule is logged, put in the
// CDR verdict and emitted as a SecurityEvent, never told to the caller.
// Fraud-rule refusals (fraud list, class, no paid calls, blocked anomaly)
// are bad reputation evidence for the user and the address; a limit reached
// (calls, rate, spend) is capacity, not malice, and is not.
import type { CallAttempt, CallGateApi, CallTicket, GateDecision } from '../../sip/b2bua/types.js';
import type { SecurityEventSink, SecurityEventType } from '../ids/security-event.js';
import type { Remote } from '../../transport/types.js';
import type { NumberPlan, Classified } from './number-plan.js';
import type { RateTable } from './rate-table.js';
import type { FraudList } from './fraud-list.js';
import type { PrincipalPolicy } from './principal.js';
import { CallCounters } from './call-counters.js';
import { SpendTracker } from './spend-tracker.js';
import { CallingProfiles } from './calling-profile.js';
import { ip, user, type ReputationService } from '../reputation/reputation-service.js';

export interface CallGateDeps {
  plan: NumberPlan;
  rates: RateTable;
  fraudList: FraudList;
  reputation: ReputationService;
  profiles: CallingProfiles;
  /** the policy of an extension (a default one for extensions without settings) */
  policyOf(number: string): PrincipalPolicy;
  isExtension(number: string): boolean;
  sink: SecurityEventSink;
  clock?: () => number;
}

const FORBIDDEN = { status: 403, reason: 'Forbidden' } as const;

export class CallGate implements CallGateApi {
  readonly counters = new CallCounters();
  readonly spend = new SpendTracker();
  private readonly clock: () => number;
  stats = { checked: 0, refused: 0, flagged: 0, cut: 0 };

  constructor(private readonly d: CallGateDeps) {
    this.clock = d.clock ?? Date.now;
  }

  check(a: CallAttempt): GateDecision {
    this.stats.checked++;
    const d = this.d;
    const now = this.clock();
    const c = d.plan.classify(a.dialled, (n) => a.callee === n || d.isExtension(n));
    const pol = d.policyOf(a.caller);
    const calleePol = c.cls === 'internal' && a.callee ? d.policyOf(a.callee) : undefined;

    if (c.cls === 'emergency') return this.pass(a, pol, calleePol, c, 0, '', now, 'pass:emergency');

    if (!pol.callFrom.allows(a.remote.address)) return this.refuse(a, 'FailedACL', 'call_from', now, false);
    if (d.reputation.refused(user(a.caller))) return this.refuse(a, 'ReputationReject', 'reputation:caller', now, false);
    if (a.callee && d.reputation.refused(user(a.callee))) return this.refuse(a, 'ReputationReject', 'reputation:callee', now, false);

    const listed = d.fraudList.match(a.dialled, c.e164);
    if (listed !== undefined) return this.refuse(a, 'FraudRuleHit', `fraud-list:${listed}`, now, true);
    if (!pol.permissions.has(c.cls)) return this.refuse(a, 'FraudRuleHit', `class-not-permitted:${c.cls}`, now, true);

    const cnt = this.counters.get(pol.id);
    if (cnt.outbound >= pol.maxOutboundCalls) return this.refuse(a, 'FraudRuleHit', `max_outbound_calls:${pol.maxOutboundCalls}`, now, false);
    if (pol.maxCalls > 0 && cnt.active >= pol.maxCalls) return this.refuse(a, 'FraudRuleHit', `max_calls:${pol.maxCalls}`, now, false);
    if (pol.callsPerMinute > 0 && this.counters.inLastMinute(pol.id, now) >= pol.callsPerMinute) {
      return this.refuse(a, 'FraudRuleHit', `calls_per_minute:${pol.callsPerMinute}`, now, false);
    }
    if (calleePol && calleePol.maxCalls > 0 && this.counters.get(calleePol.id).active >= calleePol.maxCalls) {
      // the callee is simply busy: not the caller's fault, no event
      return { ok: false, status: 486, reason: 'Busy Here', verdict: `callee-max_calls:${calleePol.maxCalls}` };
    }

    const rate = d.rates.lookup(a.dialled, c);
    if (rate.perMinute > 0) {
      if (pol.dailySpendLimit <= 0) return this.refuse(a, 'FraudRuleHit', 'no-paid-calls', now, true);
      if (this.spend.spent(pol.id, now) >= pol.dailySpendLimit - 1e-9) return this.refuse(a, 'FraudRuleHit', `daily_spend_limit:${pol.dailySpendLimit}`, now, false);
    }

    const dest = d.profiles.destKey(a.dialled, c.e164);
    const flags = d.profiles.check(pol.id, dest, now);
    if (flags.length > 0) {
      const block = d.profiles.cfg.mode === 'block';
      this.stats.flagged++;
      this.emit('FraudRuleHit', block ? 10 : 6, a, `anomaly:${flags.join(',')}`, { dialled: a.dialled, class: c.cls, action: block ? 'block' : 'flag' });
      if (block) return this.refuse(a, undefined, `anomaly:${flags.join(',')}`, now, true);
    }
    d.profiles.learn(pol.id, dest, now);
    const verdict = `pass:${c.cls}${rate.perMinute > 0 ? `:rate=${rate.perMinute}` : ''}${flags.length ? `:flagged=${flags.join(',')}` : ''}`;
    return this.pass(a, pol, calleePol, c, rate.perMinute, dest, now, verdict);
  }

  private pass(a: CallAttempt, pol: PrincipalPolicy, calleePol: PrincipalPolicy | undefined, c: Classified, perMinute: number, dest: string, now: number, verdict: string): GateDecision {
    void c;
    void dest;
    const cnt = this.counters.get(pol.id);
    cnt.active++;
    cnt.outbound++;
    this.counters.noteAttempt(pol.id, now, pol.callsPerMinute);
    const calleeCnt = calleePol ? this.counters.get(calleePol.id) : undefined;
    if (calleeCnt) calleeCnt.active++;
    let cutTimer: NodeJS.Timeout | undefined;
    let done = false;
    let answeredAt = 0;
    const ticket: CallTicket = {
      answered: (cut) => {
        answeredAt = this.clock();
        if (perMinute <= 0 || done) return;
        // cut the call when its projected spend would cross the day's limit
        const remaining = pol.dailySpendLimit - this.spend.spent(pol.id, this.clock());
        const ms = Math.max(0, (remaining / perMinute) * 60_000);
        cutTimer = setTimeout(() => {
          this.stats.cut++;
          this.emit('FraudRuleHit', 9, a, `daily_spend_limit:${pol.dailySpendLimit}:cut`, { projected: Math.round(pol.dailySpendLimit * 10000) / 10000 });
          cut('spend-limit');
        }, ms);
        cutTimer.unref();
      },
      ended: (billsec) => {
        if (done) return;
        done = true;
        if (cutTimer) clearTimeout(cutTimer);
        const end = this.clock();
        cnt.active--;
        cnt.outbound--;
        if (calleeCnt) calleeCnt.active--;
        // the answered time measured here (the CDR's billsec is whole seconds)
        const talked = answeredAt > 0 ? (end - answeredAt) / 1000 : billsec;
        if (perMinute > 0 && talked > 0) {
          for (const t of this.spend.add(pol.id, end, (talked / 60) * perMinute, pol.dailySpendLimit)) {
            this.emit('FraudRuleHit', t >= 1 ? 9 : 6, a, `daily_spend_limit:${pol.dailySpendLimit}:${Math.round(t * 100)}%`, {
              threshold: `${Math.round(t * 100)}%`,
              spent: Math.round(this.spend.spent(pol.id, end) * 10000) / 10000,
            });
          }
        }
        if (billsec > 0) {
          const flag = this.d.profiles.learnLength(pol.id, billsec);
          if (flag) this.emit('FraudRuleHit', 6, a, `anomaly:${flag}`, { billsec, action: 'flag' });
          if (this.d.reputation.callEnded(a.caller, a.callee, a.remote.address, billsec)) {
            this.emit('FraudRuleHit', 6, a, 'short-call-burst', { billsec });
          }
        }
        this.counters.release(pol.id, end);
      },
    };
    return { ok: true, verdict, ticket };
  }

  private refuse(a: CallAttempt, type: SecurityEventType | undefined, rule: string, now: number, counts: boolean): GateDecision {
    void now;
    this.stats.refused++;
    if (type) this.emit(type, type === 'FailedACL' ? 7 : 10, a, rule, {});
    if (counts) {
      // a rejected call is bad evidence for the user and the address it came from
      this.d.reputation.bad(user(a.caller));
      this.d.reputation.bad(ip(a.remote.address));
    }
    return { ok: false, ...FORBIDDEN, verdict: `refused:${rule}` };
  }

  private emit(type: SecurityEventType, level: number, a: CallAttempt, detail: string, extra: Record<string, string | number | boolean>): void {
    const remote: Remote = a.remote;
    this.d.sink.emit({ type, level, time: this.clock(), service: 'SIP', remote, account: a.caller, sessionId: a.callId, detail, extra: { dialled: a.dialled, ...extra } });
  }
}
