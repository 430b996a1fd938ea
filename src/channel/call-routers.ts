// The numbers a call may be routed to besides the dialplan's own: modules
// such as outbound and inbound routes (src/features/trunks/) add a router
// that claims numbers (an outbound route's pattern, a DID) and runs the
// channel itself. The SIP stack hands the composite to the B2BUA and the
// channel factory as their DialplanRunner: the dialplan is asked first,
// then each router in the order it was added.
import type { Channel } from './channel.js';
import type { ChannelMedia } from './channel-media.js';
import type { DialplanRunner } from './sip-channel-factory.js';

export interface CallRouter {
  readonly name: string;
  /** does this router take `exten` dialled in `context` (by `callerId`)? */
  has(context: string, exten: string, callerId: string): boolean;
  /** run the channel until the call is done (the channel is hung up afterwards) */
  run(channel: Channel, media: ChannelMedia): Promise<void>;
  /** a number the router serves as a Palisade service (parking, pickup codes, a ring group), not a way out: the call gate classes it internal */
  internal?(exten: string): boolean;
}

export class CallRouters implements DialplanRunner {
  private readonly routers: CallRouter[] = [];

  constructor(private readonly dialplan?: DialplanRunner) {}

  /** returns the removal */
  add(r: CallRouter): () => void {
    this.routers.push(r);
    return () => {
      const i = this.routers.indexOf(r);
      if (i >= 0) this.routers.splice(i, 1);
    };
  }

  /** the dialplan or some router takes the number */
  has(context: string, exten: string, callerId: string): boolean {
    if (this.dialplan?.has(context, exten, callerId)) return true;
    return this.routers.some((r) => r.has(context, exten, callerId));
  }

  /** the dialplan first (it may override a route), then the first router that takes the number */
  async run(channel: Channel, media: ChannelMedia): Promise<void> {
    if (this.dialplan?.has(channel.context, channel.dialed, channel.callerIdNum)) return this.dialplan.run(channel, media);
    const r = this.routers.find((x) => x.has(channel.context, channel.dialed, channel.callerIdNum));
    if (r) return r.run(channel, media);
    // nothing takes it (a route removed meanwhile): the dialplan answers as it would
    if (this.dialplan) return this.dialplan.run(channel, media);
  }

  /** a number some router serves as a Palisade service (the call gate's internal class) */
  servesInternal(exten: string): boolean {
    return this.routers.some((r) => r.internal?.(exten) === true);
  }

  /** the dialplan alone (for a router that hands a call on to a dialplan context) */
  get plan(): DialplanRunner | undefined {
    return this.dialplan;
  }
}
