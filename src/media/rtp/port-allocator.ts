// Hands out RTP/RTCP port pairs from the configured range: the RTP port is
// even and RTCP is the next odd port (RFC 3550 §11). Released pairs go to the
// back of a FIFO, so the pair that has been idle longest is handed out first
// and a pair just released is reused as late as possible: late packets of an
// ended call then find no session rather than a new call.
import { PalisadeError } from '../../core/errors.js';

export class PortExhaustedError extends PalisadeError {
  declare readonly code: 'PAL_ERR_RTP_PORTS_EXHAUSTED';
  constructor(min: number, max: number) {
    super('PAL_ERR_RTP_PORTS_EXHAUSTED', `no free RTP port pair left in ${min}-${max}`);
    this.name = 'PortExhaustedError';
  }
}

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

  constructor(min: number, max: number) {
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
  }

  get free(): number {
    return this.count;
  }

  get inUse(): number {
    return this.capacity - this.count;
  }

  /** Returns an even RTP port whose RTCP port (port + 1) is also reserved. */
  allocate(): number {
    if (this.count === 0) throw new PortExhaustedError(this.min, this.max);
    const index = this.queue[this.head];
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.used[index] = 1;
    return this.base + index * 2;
  }

  isAllocated(port: number): boolean {
    const index = this.indexOf(port);
    return index >= 0 && this.used[index] === 1;
  }

  /** Gives a pair back; false when the port was not allocated (a second release is harmless). */
  release(port: number): boolean {
    const index = this.indexOf(port);
    if (index < 0 || this.used[index] === 0) return false;
    this.used[index] = 0;
    this.queue[(this.head + this.count) % this.capacity] = index;
    this.count++;
    return true;
  }

  private indexOf(port: number): number {
    if (!Number.isInteger(port) || port < this.base || port % 2 !== 0) return -1;
    const index = (port - this.base) / 2;
    return index < this.capacity ? index : -1;
  }
}
