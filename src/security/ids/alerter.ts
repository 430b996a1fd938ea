// E-mail alerts to the administrator for events at or above a level, batched:
// the first alert waits `delayMs` to collect whatever comes with it, and no
// two mails leave closer than `intervalMs`; what happens in between goes into
// the next mail. The mail is a short summary — counts per event type and per
// address, and the bans — never a thousand lines.
import type { SecurityEvent } from '../../core/security-event.js';

export interface AlerterOptions {
  level: number;
  delayMs: number;
  intervalMs: number;
  /** delivers one mail; rejections are reported through onError */
  send: (subject: string, text: string) => Promise<void>;
  onError?: (err: Error) => void;
  /** identifies the node in the subject */
  hostName?: string;
  clock?: () => number;
}

interface Batch {
  first: number;
  last: number;
  total: number;
  byType: Map<string, number>;
  byAddress: Map<string, number>;
  bans: Array<{ address: string; detail: string; seconds: number | undefined }>;
  maxLevel: number;
}

const MAX_ADDRESSES = 20;
const MAX_BANS = 50;

export class SecurityAlerter {
  private batch?: Batch;
  private timer?: NodeJS.Timeout;
  private lastSent = -Infinity;
  private readonly clock: () => number;
  sent = 0;
  failed = 0;

  constructor(private readonly o: AlerterOptions) {
    this.clock = o.clock ?? Date.now;
  }

  handle(ev: SecurityEvent): void {
    if (ev.level < this.o.level) return;
    const now = this.clock();
    const b: Batch = (this.batch ??= { first: now, last: now, total: 0, byType: new Map(), byAddress: new Map(), bans: [] as Batch['bans'], maxLevel: 0 });
    b.last = now;
    b.total++;
    b.maxLevel = Math.max(b.maxLevel, ev.level);
    b.byType.set(ev.type, (b.byType.get(ev.type) ?? 0) + 1);
    const addr = ev.remote?.address;
    if (addr !== undefined && (b.byAddress.has(addr) || b.byAddress.size < MAX_ADDRESSES * 5)) b.byAddress.set(addr, (b.byAddress.get(addr) ?? 0) + 1);
    if (ev.type === 'Ban' && addr !== undefined && b.bans.length < MAX_BANS) {
      const s = ev.extra?.seconds;
      b.bans.push({ address: addr, detail: ev.detail ?? '', seconds: typeof s === 'number' ? s : undefined });
    }
    this.schedule(now);
  }

  private schedule(now: number): void {
    if (this.timer) return;
    const at = Math.max(now + this.o.delayMs, this.lastSent + this.o.intervalMs);
    this.timer = setTimeout(() => void this.flush(), Math.max(0, at - now));
    this.timer.unref();
  }

  /** sends what is pending now (also at shutdown) */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const b = this.batch;
    if (!b) return;
    this.batch = undefined;
    this.lastSent = this.clock();
    const { subject, text } = summarise(b, this.o.level, this.o.hostName);
    try {
      await this.o.send(subject, text);
      this.sent++;
    } catch (err) {
      this.failed++;
      this.o.onError?.(err as Error);
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function summarise(b: Batch, level: number, host?: string): { subject: string; text: string } {
  const bans = b.bans.length;
  const subject = `[Palisade${host ? ' ' + host : ''}] security: ${b.total} event${b.total === 1 ? '' : 's'} at level >= ${level}${bans ? `, ${bans} ban${bans === 1 ? '' : 's'}` : ''}`;
  const lines: string[] = [];
  lines.push(
    `Between ${new Date(b.first).toISOString()} and ${new Date(b.last).toISOString()} Palisade recorded ${b.total} security event(s) at level ${level} or above (highest ${b.maxLevel} of 15).`,
    '',
  );
  lines.push('By type:');
  for (const [t, n] of [...b.byType].sort((x, y) => y[1] - x[1])) lines.push(`  ${t.padEnd(18)} ${n}`);
  if (b.byAddress.size > 0) {
    lines.push('', 'By address:');
    const top = [...b.byAddress].sort((x, y) => y[1] - x[1]);
    for (const [a, n] of top.slice(0, MAX_ADDRESSES)) lines.push(`  ${a.padEnd(40)} ${n}`);
    if (top.length > MAX_ADDRESSES) lines.push(`  ... and ${top.length - MAX_ADDRESSES} more`);
  }
  if (bans > 0) {
    lines.push('', 'Bans:');
    for (const x of b.bans) lines.push(`  ${x.address}${x.seconds !== undefined ? ` for ${x.seconds} s` : ''}: ${x.detail}`);
  }
  lines.push('', 'See `palisade bans list` and the security log for details.');
  return { subject, text: lines.join('\n') + '\n' };
}
