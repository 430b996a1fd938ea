// Bridges two media endpoints of any technology (src/media/media-endpoint.ts):
// what one receives becomes the other's source, as 8 kHz PCM frames, and
// DTMF received on one is sent on to the other. A channel uses it for the
// answered legs of Dial() technologies (trunks, IAX2: dial-technology.ts),
// which need not be RTP at all; two RTP legs of the SIP channel are bridged
// packet by packet in the media engine instead (dial-bridge.ts).
import type { FrameSource, MediaEndpoint } from '../media/media-endpoint.js';

/** frames held per direction: more than this (120 ms) and the oldest go, so delay cannot grow */
const MAX_QUEUED = 6;

/** the frames one endpoint received, waiting for the other's 20 ms tick */
export class FrameQueue implements FrameSource {
  private readonly frames: Int16Array[] = [];
  dropped = 0;

  push(pcm: Int16Array): void {
    if (this.frames.length >= MAX_QUEUED) {
      this.frames.shift();
      this.dropped++;
    }
    // taps may reuse their buffer: keep a copy
    this.frames.push(Int16Array.from(pcm));
  }

  nextFrame(out: Int16Array): boolean {
    const f = this.frames.shift();
    if (!f) return false;
    out.fill(0);
    out.set(f.length > out.length ? f.subarray(0, out.length) : f);
    return true;
  }

  get length(): number {
    return this.frames.length;
  }
}

export interface EndpointBridgeStats {
  /** frames carried a→b and b→a */
  aToB: number;
  bToA: number;
  /** digits carried a→b and b→a */
  digitsAToB: number;
  digitsBToA: number;
  /** frames dropped because a side fell behind */
  dropped: number;
}

export class EndpointBridge {
  private readonly toA = new FrameQueue();
  private readonly toB = new FrameQueue();
  private readonly off: Array<() => void> = [];
  private closed = false;
  private readonly counts = { aToB: 0, bToA: 0, digitsAToB: 0, digitsBToA: 0 };

  constructor(
    private readonly a: MediaEndpoint,
    private readonly b: MediaEndpoint,
  ) {
    a.echo = false;
    b.echo = false;
    a.source = this.toA;
    b.source = this.toB;
    this.off.push(
      a.tapReceived((pcm) => {
        this.counts.aToB++;
        this.toB.push(pcm);
      }),
      b.tapReceived((pcm) => {
        this.counts.bToA++;
        this.toA.push(pcm);
      }),
      a.tapDigits((d) => {
        if (b.sendDigits(d)) this.counts.digitsAToB++;
      }),
      b.tapDigits((d) => {
        if (a.sendDigits(d)) this.counts.digitsBToA++;
      }),
    );
  }

  get stats(): EndpointBridgeStats {
    return { ...this.counts, dropped: this.toA.dropped + this.toB.dropped };
  }

  /** unhook both endpoints; their sources are cleared if still ours */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.off) f();
    if (this.a.source === this.toA) this.a.source = null;
    if (this.b.source === this.toB) this.b.source = null;
  }
}
