// The UAS core's reliability for a 2xx to INVITE (RFC 3261 §13.3.1.4). The
// INVITE server transaction sends a 2xx once; the TU keeps re-sending it
// until the ACK arrives.
import type { SipMessage } from '../../sip-message/sip-message.js';
import type { Remote, Sender } from '../../transport/types.js';
import type { Clock, TimerRef } from './clock.js';

const fire = (r: Retransmit2xx): void => r.onTimer();

/**
 * "The 2xx response is passed to the transport with an interval that starts
 * at T1 seconds and doubles for each retransmission until it reaches T2
 * seconds ... Response retransmissions cease when an ACK request for the
 * response is received. This is independent of whatever transport protocols
 * are used to send the response." (§13.3.1.4) — so reliable transports are
 * retransmitted on too: a UDP hop may lie beyond the first proxy.
 *
 * "If the server retransmits the 2xx response for 64*T1 seconds without
 * receiving an ACK, the dialog is confirmed, but the session SHOULD be
 * terminated. This is accomplished with a BYE" — onGiveUp is where the TU
 * sends that BYE.
 */
export class Retransmit2xx {
  private timer: TimerRef | undefined;
  private interval: number;
  private readonly bytes: Buffer;
  private readonly deadline: number;
  private sends = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sender: Sender,
    private readonly response: SipMessage,
    private readonly remote: Remote,
    t1: number,
    private readonly t2: number,
    private readonly onGiveUp: () => void,
  ) {
    this.bytes = response.toBuffer();
    this.interval = t1;
    this.deadline = clock.now() + 64 * t1;
    this.timer = clock.setTimer(t1, fire, this);
  }

  /** true until ack() is called or it gives up */
  get active(): boolean {
    return this.timer !== undefined;
  }

  /** retransmissions made so far */
  get retransmissions(): number {
    return this.sends;
  }

  /** the ACK for this 2xx arrived: stop retransmitting */
  ack(): void {
    this.stop();
  }

  /** stop retransmitting without an ACK (the dialog ended, e.g. by CANCEL or BYE) */
  stop(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** @internal */
  onTimer(): void {
    const now = this.clock.now();
    if (now >= this.deadline) {
      this.timer = undefined;
      this.onGiveUp();
      return;
    }
    this.sender.send(this.bytes, this.remote, this.response);
    this.sends++;
    this.interval = Math.min(2 * this.interval, this.t2);
    this.timer = this.clock.setTimer(Math.min(this.interval, this.deadline - now), fire, this);
  }
}
