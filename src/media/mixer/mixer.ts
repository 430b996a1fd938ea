// The conference mixer (ConfBridge): every 20 ms tick of the shared media
// clock each participant gets the sum of everyone else's latest frame,
// saturated to 16 bits. Participants queue what they receive (a small
// buffer absorbs jitter between packet arrival and the tick).
import { mediaClock, type MediaClock } from '../media-clock.js';

const FRAME = 160;
/** frames kept per participant before the oldest is dropped (60 ms) */
const MAX_QUEUE = 3;

export class MixParticipant {
  private readonly queue: Int16Array[] = [];
  /** receives the mix for this participant every tick */
  constructor(readonly deliver: (frame: Int16Array) => void) {}

  /** audio received from this participant (any length; split into 20 ms frames) */
  push(pcm: Int16Array): void {
    // packets of 30 ms (240 samples) leave a part frame for the next one
    let data = pcm;
    if (this.carry.length > 0) {
      data = new Int16Array(this.carry.length + pcm.length);
      data.set(this.carry);
      data.set(pcm, this.carry.length);
    }
    let o = 0;
    for (; o + FRAME <= data.length; o += FRAME) {
      this.queue.push(data.slice(o, o + FRAME));
      if (this.queue.length > MAX_QUEUE) this.queue.shift();
    }
    this.carry = data.slice(o);
  }

  private carry = new Int16Array(0);

  /** @internal */
  take(): Int16Array | undefined {
    return this.queue.shift();
  }
}

export class Mixer {
  private readonly members = new Set<MixParticipant>();
  private readonly sum = new Int32Array(FRAME);
  private readonly tickFn = (): void => this.tick();

  constructor(private readonly clock: MediaClock = mediaClock) {}

  get size(): number {
    return this.members.size;
  }

  add(p: MixParticipant): void {
    this.members.add(p);
    if (this.members.size === 1) this.clock.add(this.tickFn);
  }

  remove(p: MixParticipant): void {
    this.members.delete(p);
    if (this.members.size === 0) this.clock.remove(this.tickFn);
  }

  /** one 20 ms mix (public for tests) */
  tick(): void {
    const sum = this.sum;
    sum.fill(0);
    const frames = new Map<MixParticipant, Int16Array>();
    for (const p of this.members) {
      const f = p.take();
      if (!f) continue;
      frames.set(p, f);
      for (let i = 0; i < FRAME; i++) sum[i] += f[i]!;
    }
    for (const p of this.members) {
      const own = frames.get(p);
      const out = new Int16Array(FRAME);
      for (let i = 0; i < FRAME; i++) {
        const v = sum[i]! - (own ? own[i]! : 0);
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      p.deliver(out);
    }
  }
}

/** conference rooms by name, created on first join and dropped when empty */
export class MixerRegistry {
  private readonly rooms = new Map<string, Mixer>();

  join(room: string, p: MixParticipant): Mixer {
    let m = this.rooms.get(room);
    if (!m) this.rooms.set(room, (m = new Mixer()));
    m.add(p);
    return m;
  }

  leave(room: string, p: MixParticipant): void {
    const m = this.rooms.get(room);
    if (!m) return;
    m.remove(p);
    if (m.size === 0) this.rooms.delete(room);
  }

  count(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }
}
