// The core's figures in the Prometheus registry (src/observability/metrics.ts):
// calls, registrations, SIP transactions by method and final status, SIP
// packets, security events (auth failures, fraud refusals) and bans. Every
// value is read at scrape time from counters the server keeps anyway, so
// nothing is added to the SIP or RTP path. Modules add their own metrics
// to the same registry (HostServices.metrics).
import { Counter, Gauge, type MetricsRegistry } from '../observability/metrics.js';
import type { SipStack } from './sip-stack.js';

/** the `security` field of status (src/security/ids/security-service.ts) */
interface SecurityStatus {
  events?: Record<string, number>;
  bans_active?: number;
  ids?: { bansIssued?: number };
}

/** a counter whose value is read from elsewhere when scraped */
function readCounter(registry: MetricsRegistry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (v > 0) this.inc(labels, v);
    },
  });
}

export function addCoreMetrics(registry: MetricsRegistry, stack: SipStack, security: () => SecurityStatus | undefined): void {
  const { b2bua, location, tm, transport } = stack;
  new Gauge({
    name: 'palisade_calls_active',
    help: 'Calls in progress (B2BUA calls and dialplan channels)',
    registers: [registry],
    collect() {
      this.set(b2bua.activeCalls + (stack.channels?.list().length ?? 0));
    },
  });
  // every call (B2BUA and dialplan channels) from the call events: started, answered, ended
  const calls = new Counter({ name: 'palisade_calls_total', help: 'Calls by phase reached: started, answered, ended', labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['started', 'answered', 'ended']) calls.inc({ outcome }, 0);
  const answered = new Set<string>();
  stack.callEvents.onCall((e) => {
    if (e.phase === 'start') calls.inc({ outcome: 'started' });
    else if (e.phase === 'answered' && !answered.has(e.callId)) {
      answered.add(e.callId);
      calls.inc({ outcome: 'answered' });
    } else if (e.phase === 'end') {
      answered.delete(e.callId);
      calls.inc({ outcome: 'ended' });
    }
  });
  new Gauge({
    name: 'palisade_registrations',
    help: 'Registered contacts',
    registers: [registry],
    // every worker holds every binding (sip.workers > 1): a merged scrape takes one worker's count, not the sum
    aggregator: 'max',
    collect() {
      this.set(location.count());
    },
  });
  readCounter(registry, 'palisade_sip_transactions_total', 'SIP requests answered with a final response, by method and status', ['method', 'status'], () =>
    [...tm.finals].map(([k, v]) => {
      const [method, status] = k.split(' ');
      return [{ method: method!, status: status! }, v];
    }),
  );
  readCounter(registry, 'palisade_sip_packets_total', 'SIP packets received, gated (banned), malformed', ['kind'], () => [
    [{ kind: 'received' }, transport.stats.received],
    [{ kind: 'gated' }, transport.stats.gated],
    [{ kind: 'malformed' }, transport.stats.malformed],
  ]);
  const events = () => security()?.events ?? {};
  readCounter(registry, 'palisade_security_events_total', 'Security events by type (Asterisk security event names)', ['type'], () =>
    Object.entries(events()).map(([type, v]) => [{ type }, v]),
  );
  readCounter(registry, 'palisade_auth_failures_total', 'Failed logins: SIP digests, PINs and console logins (wrong password or unknown account)', [], () => {
    const e = events();
    return [[{}, (e.InvalidPassword ?? 0) + (e.InvalidAccountID ?? 0)]];
  });
  readCounter(registry, 'palisade_fraud_refusals_total', 'Calls refused or flagged by the toll-fraud guard', [], () => [[{}, events().FraudRuleHit ?? 0]]);
  readCounter(registry, 'palisade_bans_total', 'Bans the IDS issued', [], () => [[{}, security()?.ids?.bansIssued ?? 0]]);
  new Gauge({
    name: 'palisade_bans_active',
    help: 'Addresses banned now',
    registers: [registry],
    // bans are shared by every worker, as registrations are
    aggregator: 'max',
    collect() {
      this.set(security()?.bans_active ?? 0);
    },
  });
}
