// The reliable layer of one IAX2 call number (RFC 5456 §7): full frames
// carry an outbound sequence number (oseq) and the next one expected from
// the peer (iseq). Every full frame but ACK, INVAL, VNAK, TXCNT and TXACC
// is sequenced, acknowledged and retransmitted until acknowledged; a frame
// with iseq n acknowledges every frame we sent before n (§7, "implicitly
// acknowledged"). A frame out of order is answered with VNAK, on which the
// peer resends what it sent from our iseq on (§6.9.2). Timers come from an
// injected clock so the rules are tested without sleeping.
import { FrameType, IaxCmd } from './iax2-constants.js';
import { buildFull, type FullFrame, FULL_HEADER, isUnsequenced } from './iax2-frame.js';

export interface Iax2Clock {
  now(): number;
  /** runs fn after ms; returns the cancel */
  after(ms: number, fn: () => void): () => void;
}

export const realClock: Iax2Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface PeerAddress {
  address: string;
  port: number;
}

/** what a session needs of the engine */
export interface SessionIo {
  send(buf: Buffer, to: PeerAddress): void;
  clock: Iax2Clock;
  /** first retransmission after this many ms, doubling */
  retransmitMs: number;
  /** sends of one frame before the session gives up */
  maxTries: number;
}

interface Pending {
  oseq: number;
  buf: Buffer;
  tries: number;
  cancel: () => void;
}

/** a full frame received in order, handed to the call or registration above */
export type FrameHandler = (f: FullFrame) => void;

export class Iax2Session {
  remoteCall = 0;
  private oseq = 0;
  private iseq = 0;
  private readonly start: number;
  private lastTs = 0;
  private readonly pending: Pending[] = [];
  private closed = false;
  onFrame: FrameHandler = () => {};
  /** a frame went unacknowledged after every retransmission */
  onTimeout: () => void = () => {};
  /** retransmissions sent (for status and tests) */
  retransmissions = 0;

  constructor(
    readonly localCall: number,
    readonly remote: PeerAddress,
    private readonly io: SessionIo,
  ) {
    this.start = io.clock.now();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** ms since the session began, never going back (RFC 5456 §8.1.1: timestamps increase) */
  timestamp(): number {
    const t = Math.max(this.io.clock.now() - this.start, this.lastTs + 1);
    this.lastTs = t;
    return t;
  }

  /** the media timeline shares the session's clock origin */
  elapsed(): number {
    return this.io.clock.now() - this.start;
  }

  /** sends a sequenced full frame, retransmitted until acknowledged */
  send(type: number, subclass: number, data?: Buffer, ts?: number): void {
    if (this.closed) return;
    const oseq = this.oseq;
    this.oseq = (this.oseq + 1) & 0xff;
    const t = ts ?? this.timestamp();
    if (ts !== undefined && ts > this.lastTs) this.lastTs = ts;
    const buf = buildFull({ src: this.localCall, dst: this.remoteCall, ts: t, oseq, iseq: this.iseq, type, subclass }, data);
    this.io.send(buf, this.remote);
    const p: Pending = { oseq, buf, tries: 1, cancel: () => {} };
    this.pending.push(p);
    this.arm(p, this.io.retransmitMs);
  }

  /** an unsequenced frame (ACK, INVAL, VNAK): sent once */
  sendUnsequenced(subclass: number, ts: number, data?: Buffer, oseq = this.oseq): void {
    if (this.closed) return;
    this.io.send(buildFull({ src: this.localCall, dst: this.remoteCall, ts, oseq, iseq: this.iseq, type: FrameType.IAX, subclass }, data), this.remote);
  }

  private arm(p: Pending, ms: number): void {
    p.cancel = this.io.clock.after(ms, () => {
      if (this.closed || !this.pending.includes(p)) return;
      if (p.tries >= this.io.maxTries) {
        this.onTimeout();
        return;
      }
      p.tries++;
      this.retransmissions++;
      this.resend(p);
      this.arm(p, Math.min(ms * 2, 10_000));
    });
  }

  private resend(p: Pending): void {
    // RFC 5456 §8.1.1: the R bit marks a retransmission; iseq is brought up to date
    p.buf[2] = p.buf[2]! | 0x80;
    p.buf[9] = this.iseq;
    // the destination call may have become known since the first send
    p.buf.writeUInt16BE(0x8000 | (this.remoteCall & 0x7fff), 2);
    this.io.send(p.buf, this.remote);
  }

  /** a full frame for this call number from its peer */
  receive(f: FullFrame): void {
    if (this.closed) return;
    if (this.remoteCall === 0 && f.src !== 0) this.remoteCall = f.src;
    this.acknowledged(f.iseq);
    if (isUnsequenced(f)) {
      if (f.subclass === IaxCmd.VNAK) this.resendFrom(f.iseq);
      else if (f.subclass !== IaxCmd.ACK) this.onFrame(f);
      return;
    }
    if (f.oseq !== this.iseq) {
      const behind = (this.iseq - f.oseq) & 0xff;
      // an old frame again (our ACK was lost): acknowledge it once more
      if (behind > 0 && behind < 128) this.sendUnsequenced(IaxCmd.ACK, f.ts, undefined, f.iseq);
      // a gap: ask for everything from what we expect (RFC 5456 §6.9.2)
      else this.sendUnsequenced(IaxCmd.VNAK, this.timestamp());
      return;
    }
    this.iseq = (this.iseq + 1) & 0xff;
    // Asterisk's ACK carries the acknowledged frame's timestamp and its iseq as oseq
    this.sendUnsequenced(IaxCmd.ACK, f.ts, undefined, f.iseq);
    this.onFrame(f);
  }

  /** drop every pending frame whose oseq is before `iseq` */
  private acknowledged(iseq: number): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      const d = (iseq - p.oseq) & 0xff;
      if (d >= 1 && d <= 128) {
        p.cancel();
        this.pending.splice(i, 1);
      }
    }
  }

  private resendFrom(iseq: number): void {
    for (const p of this.pending) {
      const d = (p.oseq - iseq) & 0xff;
      if (d < 128) {
        this.retransmissions++;
        this.resend(p);
      }
    }
  }

  /** nothing awaits an acknowledgement */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  /** resets both sequence numbers (a frame resent with a call token starts again at 0) */
  restart(): void {
    for (const p of this.pending) p.cancel();
    this.pending.length = 0;
    this.oseq = 0;
    this.iseq = 0;
    this.remoteCall = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending) p.cancel();
    this.pending.length = 0;
  }
}

export { FULL_HEADER };
