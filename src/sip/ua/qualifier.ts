// "qualify": an OPTIONS keep-alive to every registered contact every N
// seconds, recording reachability and round-trip time on the binding. It
// also keeps NAT mappings open for phones that do not send keep-alives.
//
// Load is spread evenly: each binding gets a fixed phase inside the interval
// (a hash of AOR and contact), and a tick sends only to the bindings whose
// phase fell since the previous tick. The phase is stable across refreshes,
// so 10,000 phones at a 60 s interval cost ~170 OPTIONS per second, never a
// burst of 10,000. No per-binding timers: one interval timer walks the table.
import type { Binding, LocationService } from './location.js';

export interface QualifyResult {
  ok: boolean;
  rtt: number; // ms
}

export interface QualifierOptions {
  location: LocationService;
  /**
   * send OPTIONS to the binding (to its `received` address — where the phone
   * registered from) and resolve when answered or timed out; a rejection
   * counts as unreachable
   */
  sendOptions: (b: Binding) => Promise<QualifyResult>;
  /** seconds between two OPTIONS to the same contact (default 60) */
  intervalSec?: number;
  /** scheduler resolution (default 1000 ms) */
  tickMs?: number;
  /** cap on outstanding OPTIONS (default 2000) */
  maxInFlight?: number;
  clock?: () => number; // epoch ms
}

export class Qualifier {
  private readonly location: LocationService;
  private readonly sendOptions: (b: Binding) => Promise<QualifyResult>;
  private readonly intervalMs: number;
  private readonly tickMs: number;
  private readonly maxInFlight: number;
  private readonly clock: () => number;
  private readonly phases = new WeakMap<Binding, number>();
  private readonly inFlight = new Set<string>();
  private lastTick: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(o: QualifierOptions) {
    this.location = o.location;
    this.sendOptions = o.sendOptions;
    this.intervalMs = Math.max(1, o.intervalSec ?? 60) * 1000;
    this.tickMs = o.tickMs ?? 1000;
    this.maxInFlight = o.maxInFlight ?? 2000;
    this.clock = o.clock ?? Date.now;
    this.lastTick = this.clock();
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = this.clock();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** send to every binding whose phase passed since the last tick; returns how many were sent */
  tick(): number {
    const now = this.clock();
    const last = this.lastTick;
    this.lastTick = now;
    if (now <= last) return 0;
    const iv = this.intervalMs;
    let sent = 0;
    for (const b of this.location.each()) {
      if (b.expiresAt <= now) continue;
      let phase = this.phases.get(b);
      if (phase === undefined) {
        phase = hash(b.aor, b.contactUri) % iv;
        this.phases.set(b, phase);
      }
      if (Math.floor((now - phase) / iv) === Math.floor((last - phase) / iv)) continue;
      const key = b.aor + '\u0000' + b.contactUri;
      if (this.inFlight.has(key) || this.inFlight.size >= this.maxInFlight) continue;
      this.inFlight.add(key);
      sent++;
      this.probe(b, key);
    }
    return sent;
  }

  private probe(b: Binding, key: string): void {
    let p: Promise<QualifyResult>;
    try {
      p = this.sendOptions(b);
    } catch {
      p = Promise.resolve({ ok: false, rtt: 0 });
    }
    p.then(
      (r) => this.location.markQualify(b, r.ok, r.rtt),
      () => this.location.markQualify(b, false, 0),
    ).finally(() => this.inFlight.delete(key));
  }
}

/** FNV-1a over AOR and contact: a stable, well-spread phase per binding */
function hash(a: string, b: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193);
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
