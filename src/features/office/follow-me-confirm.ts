// Follow-me's call confirmation (FreePBX's "Confirm Calls", Asterisk's
// FollowMe option c): the mobile that answers hears "press 1" and is
// connected only once its user presses 1 — so a mobile's own voicemail,
// which answers every call, does not take the caller. Any other key, the
// step's ring time running out or the far end hanging up leaves the
// caller unconnected (the leg is hung up, the next step rings).
// A Dial() technology, `FOLLOWME/<number>`, over the outbound routes'
// `ROUTE/<number>` (src/features/trunks/route-technology.ts): the caller
// keeps hearing ringing while the mobile is asked.
import type { DialAttempt, DialContext, DialOutcome, DialTechnology, OutboundLeg } from '../../channel/dial-technology.js';
import type { DialTarget } from '../../channel/channel.js';
import { Player } from '../../media/player/player.js';
import type { Logger } from '../../observability/logger.js';

export const CONFIRM_TECH = 'FOLLOWME';

export interface ConfirmDeps {
  /** the Dial() technologies (ROUTE/<number> is the trunks module's) */
  technologies: { dial(target: DialTarget, ctx: DialContext): DialAttempt | null };
  /** the prompt the mobile hears, looped ("press 1") */
  prompt(): Int16Array[];
  log: Logger;
}

export function confirmTechnology(d: ConfirmDeps): DialTechnology {
  return {
    names: [CONFIRM_TECH],
    dial(target: DialTarget, ctx: DialContext): DialAttempt | null {
      const inner = d.technologies.dial({ tech: 'ROUTE', resource: target.resource }, ctx);
      return inner ? new ConfirmAttempt(inner, d, ctx, target.resource) : null;
    },
  };
}

class ConfirmAttempt implements DialAttempt {
  readonly result: Promise<DialOutcome>;
  onRinging: (() => void) | null = null;
  private cancelled = false;
  private stopAsking: (() => void) | null = null;

  constructor(
    private readonly inner: DialAttempt,
    d: ConfirmDeps,
    ctx: DialContext,
    number: string,
  ) {
    inner.onRinging = () => this.onRinging?.();
    this.result = (async (): Promise<DialOutcome> => {
      const r = await inner.result;
      if (r.status !== 'ANSWER') return r;
      const ok = !this.cancelled && (await this.ask(r.leg, d));
      d.log.info('followme-confirm', { channel: ctx.channelName, to: number, accepted: ok });
      if (ok) return r;
      r.leg.hangup('normal');
      return { status: this.cancelled ? 'CANCEL' : 'NOANSWER' };
    })();
  }

  /** plays the prompt until a key, the far end's hangup or cancel() */
  private ask(leg: OutboundLeg, d: ConfirmDeps): Promise<boolean> {
    return new Promise((resolve) => {
      const player = new Player(d.prompt(), true);
      leg.endpoint.source = player;
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        off();
        player.stop();
        if (leg.endpoint.source === player) leg.endpoint.source = null;
        this.stopAsking = null;
        resolve(ok);
      };
      const off = leg.endpoint.tapDigits((digit) => finish(digit === '1'));
      void leg.ended.then(() => finish(false));
      this.stopAsking = () => finish(false);
    });
  }

  cancel(): void {
    this.cancelled = true;
    this.inner.cancel();
    this.stopAsking?.();
  }
}
