// The server's one Prometheus registry (prom-client), built by the
// composition root and handed to every module as HostServices.metrics, so
// any layer's module can add its counters, gauges and histograms (the
// quality module: per-call loss, jitter, MOS) without importing the console
// that serves them at GET /metrics. Rank 0: nothing here knows a protocol.
//
// Values that the server already counts (transactions, calls, bans) are
// read at scrape time with `collect()` callbacks, so the SIP and RTP paths
// do no extra work per packet for metrics.
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export type MetricsRegistry = Registry;

/** A registry with Node.js's process metrics (event-loop delay, heap, CPU) under the palisade_ prefix. */
export function createMetricsRegistry(): MetricsRegistry {
  const registry = new Registry();
  // the event-loop delay histogram is sampled by the runtime (perf_hooks), not per request
  collectDefaultMetrics({ register: registry, prefix: 'palisade_', eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** one registry's metrics as values (what a worker hands worker 0 for a scrape) */
export type MetricValues = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * The Prometheus text of several processes' registries merged (sip.workers
 * > 1), by prom-client's cluster aggregation: counters, histograms and
 * gauges are summed unless a metric names its own aggregator (state every
 * worker holds alike, such as registrations and bans, takes 'max'; the
 * runtime's own metrics say theirs).
 */
export function mergeMetrics(parts: MetricValues[]): Promise<string> {
  return AggregatorRegistry.aggregate(parts).metrics();
}
