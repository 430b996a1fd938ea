// The media quality of every call as Prometheus histograms (issue 14): each
// call record, as it is written, adds its per-direction loss %, mean jitter
// and estimated MOS (leg a: what the caller sent; b: what the callee sent),
// and its flags (poor, one-way) to a counter. Work per call, never per packet.
import type { CdrInput } from '../../core/cdr.js';
import { Counter, Histogram, type MetricsRegistry } from '../../observability/metrics.js';

export function addQualityMetrics(registry: MetricsRegistry): (rec: CdrInput) => void {
  const loss = new Histogram({
    name: 'palisade_call_rtp_loss_percent',
    help: 'RTP packets lost per call and direction, % (leg a: from the caller, b: from the callee)',
    labelNames: ['leg'],
    buckets: [0, 0.5, 1, 2, 3, 5, 10, 20, 50],
    registers: [registry],
  });
  const jitter = new Histogram({
    name: 'palisade_call_rtp_jitter_ms',
    help: 'mean interarrival jitter (RFC 3550) per call and direction, ms',
    labelNames: ['leg'],
    buckets: [1, 2, 5, 10, 20, 30, 50, 100],
    registers: [registry],
  });
  const mos = new Histogram({
    name: 'palisade_call_mos',
    help: 'estimated MOS (E-model, ITU-T G.107) per call and direction',
    labelNames: ['leg'],
    buckets: [1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4, 5],
    registers: [registry],
  });
  const flagged = new Counter({
    name: 'palisade_call_quality_flags_total',
    help: 'calls flagged by the quality thresholds (poor-a, one-way-b, ...)',
    labelNames: ['flag'],
    registers: [registry],
  });
  return (rec) => {
    const q = rec.quality;
    if (!q) return;
    for (const leg of ['a', 'b'] as const) {
      const l = q[leg];
      if (!l) continue;
      loss.observe({ leg }, l.lossPct);
      jitter.observe({ leg }, l.jitterMeanMs);
      mos.observe({ leg }, l.mos);
    }
    for (const f of q.flags) flagged.inc({ flag: f });
  };
}
