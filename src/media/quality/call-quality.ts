// A call's media quality: the received stream of each leg with its MOS,
// judged against the configured thresholds (the `quality:` section), and
// the one-way-audio watch that runs while the call is up.
import { estimateMos } from './e-model.js';
import type { RtpStreamStats, StreamQuality } from './rtp-stream-stats.js';

export type QualityLeg = 'a' | 'b';

/** the `quality:` section (docs/configuration.md) */
export interface QualityThresholds {
  /** account every packet (false: no figures, for a bench comparison) */
  enabled: boolean;
  /** a received stream losing more than this percentage marks the call poor */
  lossPctMax: number;
  /** a received stream whose estimated MOS is below this marks the call poor */
  mosMin: number;
  /** seconds after answer by which both parties must have been heard (0: no watch) */
  oneWayAfterS: number;
}

export const DEFAULT_QUALITY: QualityThresholds = { enabled: true, lossPctMax: 5, mosMin: 3.6, oneWayAfterS: 5 };

export interface LegQuality extends StreamQuality {
  /** estimated MOS (e-model.ts), 0 when nothing was received */
  mos: number;
}

export interface CallQuality {
  /** what Palisade received from each leg's party; null where it never saw the stream */
  a: LegQuality | null;
  b: LegQuality | null;
  /** 'poor-a' (loss or MOS past a threshold), 'one-way-b' (party b never heard), ... */
  flags: string[];
}

export function legQuality(s: RtpStreamStats): LegQuality | null {
  if (s.packets === 0) return null;
  const q = s.snapshot();
  return { ...q, mos: estimateMos(q) };
}

/** Why a received stream counts as poor, or null when it does not. */
export function poorReasons(q: LegQuality, t: QualityThresholds): string | null {
  const why: string[] = [];
  if (q.lossPct > t.lossPctMax) why.push(`loss ${q.lossPct.toFixed(1)}% > ${t.lossPctMax}%`);
  if (q.mos < t.mosMin) why.push(`MOS ${q.mos.toFixed(2)} < ${t.mosMin}`);
  return why.length ? why.join(', ') : null;
}

/** Adds poor-x flags to `flags` for each leg past a threshold. */
export function judge(a: LegQuality | null, b: LegQuality | null, t: QualityThresholds, flags: string[] = []): CallQuality {
  for (const [leg, q] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (q !== null && poorReasons(q, t) !== null) flags.push(`poor-${leg}`);
  }
  return { a, b, flags };
}

/** Rounded figures for a log line. */
export function logFigures(q: LegQuality | null): Record<string, unknown> | null {
  if (q === null) return null;
  const r = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
  return {
    codec: q.codec,
    ptimeMs: r(q.ptimeMs),
    packets: q.packets,
    lost: q.lost,
    lossPct: r(q.lossPct),
    sequenceErrors: q.sequenceErrors,
    duplicates: q.duplicates,
    outOfOrder: q.outOfOrder,
    jitterMeanMs: r(q.jitterMeanMs, 3),
    jitterMaxMs: r(q.jitterMaxMs, 3),
    maxDeltaMs: r(q.maxDeltaMs, 3),
    mos: r(q.mos),
    ...(q.farEnd ? { farEnd: { ...q.farEnd, fractionLost: r(q.farEnd.fractionLost, 3), jitterMs: r(q.farEnd.jitterMs, 3) } } : {}),
  };
}

/**
 * One-way audio: once the call is answered, checks after `afterS` seconds
 * (and every `afterS` seconds after that, until it fires once) whether one
 * party has been sending while the other has sent nothing, which means the
 * silent party's audio never reaches the other side. `received(leg)` is the
 * number of RTP packets Palisade has had from that leg's party.
 */
export class OneWayWatch {
  private timer: NodeJS.Timeout | null = null;
  /** the leg found silent, once */
  silent: QualityLeg | null = null;

  constructor(
    private readonly received: (leg: QualityLeg) => number,
    private readonly onOneWay: (silent: QualityLeg, heard: number) => void,
  ) {}

  start(afterS: number): void {
    if (afterS <= 0 || this.timer !== null || this.silent !== null) return;
    this.timer = setInterval(() => this.check(), afterS * 1000);
    this.timer.unref();
  }

  check(): QualityLeg | null {
    if (this.silent !== null) return this.silent;
    const a = this.received('a');
    const b = this.received('b');
    const silent: QualityLeg | null = a > 0 && b === 0 ? 'b' : b > 0 && a === 0 ? 'a' : null;
    if (silent !== null) {
      this.silent = silent;
      this.stop();
      this.onOneWay(silent, silent === 'a' ? b : a);
    }
    return silent;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
