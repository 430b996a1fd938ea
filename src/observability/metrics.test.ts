import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry, mergeMetrics } from './metrics.js';

/** a worker's registry: its own calls, and the registrations every worker holds alike */
function workerRegistry(calls: number, registrations: number): Registry {
  const r = new Registry();
  new Counter({ name: 'palisade_calls_total', help: 'calls', labelNames: ['outcome'], registers: [r] }).inc({ outcome: 'started' }, calls);
  new Gauge({ name: 'palisade_calls_active', help: 'calls up', registers: [r] }).set(calls > 0 ? 1 : 0);
  new Gauge({ name: 'palisade_registrations', help: 'contacts', registers: [r], aggregator: 'max' }).set(registrations);
  return r;
}

test("several workers' registries merged: counters and per-worker gauges summed, shared state taken once", async () => {
  const text = await mergeMetrics([await workerRegistry(40, 2).getMetricsAsJSON(), await workerRegistry(25, 2).getMetricsAsJSON()]);
  assert.match(text, /^palisade_calls_total\{outcome="started"\} 65$/m);
  assert.match(text, /^palisade_calls_active 2$/m);
  assert.match(text, /^palisade_registrations 2$/m, 'every worker holds the same two bindings: not four');
  // one worker alone: its own figures
  const one = await mergeMetrics([await workerRegistry(40, 2).getMetricsAsJSON()]);
  assert.match(one, /^palisade_calls_total\{outcome="started"\} 40$/m);
});
