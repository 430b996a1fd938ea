// RFC 3261 §17.1.1.1 / Table 4 base timer values, and which transports count
// as reliable for the timer rules.
import type { TransportKind } from '../../transport/types.js';

export interface TimerValues {
  /** RTT estimate (ms) */
  t1: number;
  /** maximum retransmit interval for non-INVITE requests and INVITE responses (ms) */
  t2: number;
  /** maximum duration a message remains in the network (ms) */
  t4: number;
}

/**
 * "The default value for T1 is 500 ms." "The default value of T2 is 4s"
 * "The default value of T4 is 5s." (RFC 3261 §17.1.1.2, §17.1.2.2)
 */
export const DEFAULT_TIMERS: Readonly<TimerValues> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** stream transports deliver reliably: no A/E/G retransmission, D/I/J/K are 0 */
export function isReliable(transport: TransportKind): boolean {
  return transport !== 'udp';
}

export function resolveTimers(t: Partial<TimerValues> | undefined): TimerValues {
  const out = { ...DEFAULT_TIMERS, ...t };
  for (const k of ['t1', 't2', 't4'] as const) {
    if (!Number.isFinite(out[k]) || out[k] <= 0) throw new RangeError(`timer ${k} must be a positive number of ms`);
  }
  return out;
}
