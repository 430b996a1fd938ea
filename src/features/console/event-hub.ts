// The live event stream's fan-out: the console module publishes calls,
// registrations, security events and bans; each SSE client (http-app.ts)
// subscribes with its role. Nothing is buffered for clients that are gone,
// and with no client connected a publish is one size check.
import type { ApiRole } from '../../core/api-routes.js';

export type EventListener = (type: string, data: unknown) => void;

export class EventHub {
  private readonly subs = new Set<{ role: ApiRole; fn: EventListener }>();

  get size(): number {
    return this.subs.size;
  }

  subscribe(role: ApiRole, fn: EventListener): () => void {
    const s = { role, fn };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  /** `roles`: who may see it (all when omitted) */
  publish(type: string, data: unknown, roles?: readonly ApiRole[]): void {
    if (this.subs.size === 0) return;
    for (const s of this.subs) if (!roles || roles.includes(s.role)) s.fn(type, data);
  }
}
