// Hands out RTP/RTCP port pairs from the configured range: the RTP port is
// even and RTCP is the next odd port (RFC 3550 §11).
//
// Two FIFOs of free pairs. "Warm" pairs were released with their sockets
// still bound (the relay's socket pool): taking one costs no bind and no
// close, so it is preferred — but only after a quarantine since its release,
// so that late packets of an ended call find no session rather than a new
// call. "Cold" pairs have no socket: the one idle longest goes first. When
// every warm pair is still in quarantine a cold one is taken; when no cold
// one is left, the warm pair released longest ago.
import { PalisadeError } from '../../core/errors.js';

export class PortExhaustedError extends PalisadeError {
  declare readonly code: 'PAL_ERR_RTP_PORTS_EXHAUSTED';
  constructor(min: number, max: number) {
    super('PAL_ERR_RTP_PORTS_EXHAUSTED', `no free RTP port pair left in ${min}-${max}`);
    this.name = 'PortExhaustedError';
  }
}

/** how long a pair released warm waits before it is handed out again (late packets of the ended call) */
export const DEFAULT_QUARANTINE_MS = 500;

export class PortAllocator {
  readonly min: number;
  readonly max: number;
  /** first even port of the range */
  private readonly base: number;
  /** number of (RTP, RTCP) pairs in the range */
  readonly capacity: number;
  /** ring buffer of free pair indexes, oldest released at `head` */
  private readonly queue: Uint32Array;
  private head = 0;
  private count: number;
  private readonly used: Uint8Array;
  /** ring of pairs released warm (sockets kept bound), oldest at `warmHead`, with their release times */
  private readonly warm: Uint32Array;
  private readonly warmAt: Float64Array;
  private warmHead = 0;
  private warmCount = 0;
  private readonly quarantineMs: number;
  private readonly now: () => number;

  constructor(min: number, max: number, opts: { quarantineMs?: number; now?: () => number } = {}) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || min > max) {
      throw new RangeError(`bad RTP port range ${min}-${max}: need 1024 <= min <= max <= 65535`);
    }
    this.min = min;
    this.max = max;
    this.base = min % 2 === 0 ? min : min + 1;
    this.capacity = Math.max(0, Math.floor((max - this.base + 1) / 2));
    if (this.capacity === 0) throw new RangeError(`RTP port range ${min}-${max} holds no even/odd pair`);
    this.queue = new Uint32Array(this.capacity);
    for (let i = 0; i < this.capacity; i++) this.queue[i] = i;
    this.count = this.capacity;
    this.used = new Uint8Array(this.capacity);
    this.warm = new Uint32Array(this.capacity);
    this.warmAt = new Float64Array(this.capacity);
    this.quarantineMs = opts.quarantineMs ?? DEFAULT_QUARANTINE_MS;
    this.now = opts.now ?? Date.now;
  }

  get free(): number {
    return this.count + this.warmCount;
  }

  get inUse(): number {
    return this.capacity - this.free;
  }

  /** free pairs whose sockets are still bound */
  get warmFree(): number {
    return this.warmCount;
  }

  /** Returns an even RTP port whose RTCP port (port + 1) is also reserved. */
  allocate(): number {
    let index: number;
    if (this.warmCount > 0 && (this.count === 0 || this.warmAt[this.warmHead]! + this.quarantineMs <= this.now())) {
      index = this.warm[this.warmHead]!;
      this.warmHead = (this.warmHead + 1) % this.capacity;
      this.warmCount--;
    } else {
      if (this.count === 0) throw new PortExhaustedError(this.min, this.max);
      index = this.queue[this.head]!;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
    this.used[index] = 1;
    return this.base + index * 2;
  }

  isAllocated(port: number): boolean {
    const index = this.indexOf(port);
    return index >= 0 && this.used[index] === 1;
  }

  /**
   * Gives a pair back; false when the port was not allocated (a second
   * release is harmless). `warm`: its sockets stay bound, ready for reuse.
   */
  release(port: number, warm = false): boolean {
    const index = this.indexOf(port);
    if (index < 0 || this.used[index] === 0) return false;
    this.used[index] = 0;
    if (warm) {
      const at = (this.warmHead + this.warmCount) % this.capacity;
      this.warm[at] = index;
      this.warmAt[at] = this.now();
      this.warmCount++;
    } else {
      this.queue[(this.head + this.count) % this.capacity] = index;
      this.count++;
    }
    return true;
  }

  private indexOf(port: number): number {
    if (!Number.isInteger(port) || port < this.base || port % 2 !== 0) return -1;
    const index = (port - this.base) / 2;
    return index < this.capacity ? index : -1;
  }
}
