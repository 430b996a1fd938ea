// RFC 4733 telephone-events for DTMF (events 0-15: 0-9 * # A-D).
// Payload (§2.3): event (8) | E (1) R (1) volume (6) | duration (16).
export const DTMF_EVENTS = '0123456789*#ABCD';

export function eventToDigit(event: number): string | undefined {
  return event < 16 ? DTMF_EVENTS[event] : undefined;
}

export function digitToEvent(digit: string): number {
  const i = DTMF_EVENTS.indexOf(digit.toUpperCase());
  if (i < 0) throw new RangeError(`not a DTMF digit: ${digit}`);
  return i;
}

export interface DtmfEvent {
  digit: string;
  /** RTP timestamp of the event (its start) */
  timestamp: number;
  /** in timestamp units, known once the end packet arrived */
  duration: number;
}

/**
 * Receives telephone-event payloads. An event is identified by its RTP
 * timestamp (§2.5.2.1: all packets of one event carry the start timestamp),
 * so retransmitted starts, updates and the three end packets report the
 * digit once; `onDigit` fires on the first packet, `onEnd` on the first end.
 */
export class Rfc4733Receiver {
  private currentTs = -1;
  private ended = false;
  /** timestamps of recently finished events: a late retransmission must not start the digit again */
  private recent: number[] = [];
  onDigit: ((e: DtmfEvent) => void) | null = null;
  onEnd: ((e: DtmfEvent) => void) | null = null;

  receive(payload: Uint8Array, timestamp: number): void {
    if (payload.length < 4) return;
    const digit = eventToDigit(payload[0]!);
    if (digit === undefined) return;
    const end = (payload[1]! & 0x80) !== 0;
    const duration = (payload[2]! << 8) | payload[3]!;
    if (timestamp !== this.currentTs) {
      if (this.recent.includes(timestamp)) return;
      if (this.currentTs >= 0) this.remember(this.currentTs);
      this.currentTs = timestamp;
      this.ended = false;
      this.onDigit?.({ digit, timestamp, duration });
    }
    if (end && !this.ended) {
      this.ended = true;
      this.onEnd?.({ digit, timestamp, duration });
    }
  }

  private remember(ts: number): void {
    this.recent.push(ts);
    if (this.recent.length > 8) this.recent.shift();
  }
}

export interface EventPacket {
  payload: Buffer;
  marker: boolean;
}

/**
 * The packets for one digit, one element per 20 ms tick (§2.5.1): the first
 * with the marker bit, updates with growing duration, and the last element
 * holds the three end packets (§2.5.1.4 retransmits the final packet) all
 * with the final duration. All carry the event's start timestamp.
 */
export function dtmfPackets(digit: string, durationMs = 100, volume = 10, samplesPerTick = 160): EventPacket[][] {
  const event = digitToEvent(digit);
  const ticks = Math.max(1, Math.round(durationMs / 20));
  const out: EventPacket[][] = [];
  for (let i = 1; i <= ticks; i++) {
    const dur = i * samplesPerTick;
    const last = i === ticks;
    const mk = (): Buffer => {
      const b = Buffer.alloc(4);
      b[0] = event;
      b[1] = (last ? 0x80 : 0) | (volume & 0x3f);
      b.writeUInt16BE(dur, 2);
      return b;
    };
    if (last) out.push([0, 1, 2].map((k) => ({ payload: mk(), marker: i === 1 && k === 0 })));
    else out.push([{ payload: mk(), marker: i === 1 }]);
  }
  return out;
}
