// The two timer slots every transaction has (RFC 3261 §17): one for
// retransmissions (A/E on the client, G and the delayed 100 on the server) and
// one for the state timer (B/D/F/K/M, H/I/J/L). Both state tables are written
// in these primitives; a firing timer is dispatched as an event to the table.
import type { TimerRef } from './clock.js';
import type { TxContext } from './tx-context.js';

const fireRetransmit = (tx: TransactionTimers<string>): void => {
  tx.rtxTimer = undefined;
  tx.timerFired(tx.rtxEvent);
};
const fireState = (tx: TransactionTimers<string>): void => {
  tx.stateTimer = undefined;
  tx.timerFired(tx.stateEvent);
};

export abstract class TransactionTimers<E extends string> {
  /** @internal */ rtxTimer: TimerRef | undefined = undefined;
  /** @internal */ stateTimer: TimerRef | undefined = undefined;

  constructor(
    /** @internal */ readonly ctx: TxContext,
    /** @internal */ public rtxEvent: E,
    /** @internal */ public stateEvent: E,
  ) {}

  /** @internal a timer of this transaction fired: feed it to the state table */
  abstract timerFired(event: E): void;

  /** @internal arm the retransmission slot */
  armRetransmit(event: E, ms: number): void {
    if (this.rtxTimer) this.ctx.clock.clearTimer(this.rtxTimer);
    this.rtxEvent = event;
    this.rtxTimer = this.ctx.clock.setTimer(ms, fireRetransmit, this);
  }

  /** @internal arm the single state timer */
  armStateTimer(event: E, ms: number): void {
    if (this.stateTimer) this.ctx.clock.clearTimer(this.stateTimer);
    this.stateEvent = event;
    this.stateTimer = this.ctx.clock.setTimer(ms, fireState, this);
  }

  /** @internal */
  stopRetransmit(): void {
    if (this.rtxTimer) this.ctx.clock.clearTimer(this.rtxTimer);
    this.rtxTimer = undefined;
  }

  /** @internal */
  stopTimers(): void {
    this.stopRetransmit();
    if (this.stateTimer) this.ctx.clock.clearTimer(this.stateTimer);
    this.stateTimer = undefined;
  }
}
