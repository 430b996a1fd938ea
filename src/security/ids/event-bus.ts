// The security event bus: the one SecurityEventSink every producer emits into.
// It fans each event out, synchronously and in subscription order, to the
// security log, the IDS rules and the alerter. A subscriber that throws is
// counted and skipped; it never stops the others or reaches the producer
// (which may be the packet path).
import type { SecurityEvent, SecurityEventSink, SecurityEventType } from '../../core/security-event.js';

export type SecurityEventListener = (ev: SecurityEvent) => void;

export class SecurityEventBus implements SecurityEventSink {
  private listeners: SecurityEventListener[] = [];
  readonly counts = new Map<SecurityEventType, number>();
  listenerErrors = 0;
  onListenerError: (err: unknown, ev: SecurityEvent) => void = () => {};

  subscribe(fn: SecurityEventListener): () => void {
    this.listeners = [...this.listeners, fn];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  emit(ev: SecurityEvent): void {
    this.counts.set(ev.type, (this.counts.get(ev.type) ?? 0) + 1);
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.listenerErrors++;
        try {
          this.onListenerError(err, ev);
        } catch {
          /* nothing more to do */
        }
      }
    }
  }

  /** counts an event that was not built because no subscriber wants its level */
  countOnly(type: SecurityEventType): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }

  /** counts per type, for `palisade status` */
  summary(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
