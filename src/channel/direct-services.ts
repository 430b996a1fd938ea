// Transfer services (the parking lot's 700) for the B2BUA's direct calls: a
// blind REFER to the service's number in a direct call (call-transfer.ts)
// comes here. Both phones are re-INVITEd towards media legs of Palisade's
// own (the direct call relayed their RTP; a service must play to them and
// bridge them itself), their dialogs become outgoing legs (AnsweredLeg), the
// direct call ends, and the transferee is handed to the service as a
// channel of its own (LegChannel): it hears music, the transferor hears the
// slot, then is let go. Retrieving it (ParkedCall) bridges that channel's
// endpoint like any other.
import { systemPrefix } from '../core/system-name.js';
import { newToken } from '../sip/dialog/dialog.js';
import type { DirectHandOver, DirectOutside, DirectServices, SipLegHost } from '../sip/b2bua/leg-host.js';
import type { CallTicket } from '../sip/b2bua/types.js';
import type { Logger } from '../observability/logger.js';
import type { MediaSession } from '../media/media-session.js';
import type { MediaEndpoint } from '../media/media-endpoint.js';
import { AnsweredLeg, OutboundDial } from './sip-dial.js';
import { DialBridge } from './dial-bridge.js';
import { FAILURE_STATUS, reinvite } from './channel-transfer.js';
import { joinLegs } from './joined-legs.js';
import type { DialTechnologies } from './dial-technology.js';
import { dialOutside, type OutsideCall } from './outside-call.js';
import type { ChannelFeatures } from './channel-features.js';
import type { Channel, ChannelPeer, DialOptions, DialResult, DialTarget, HangupCause } from './channel.js';

let seq = 0;

/**
 * A channel over an answered outgoing leg whose media is Palisade's: what
 * a service takes when a direct call is handed to it. Its Dial() rings
 * extensions (the parking lot's ring-back to the parker) and bridges the
 * answer with its leg as a Dial() bridge does.
 */
class LegChannel implements Channel {
  readonly id: string;
  readonly name: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly context: string;
  readonly peer: ChannelPeer;
  readonly vars = new Map<string, string>();
  readonly answered = true;
  hungUp = false;
  readonly ended: Promise<HangupCause>;
  private endedResolve!: (c: HangupCause) => void;
  private readonly start = new Date();
  /** whom the last Dial() bridged (the CDR's dstchannel) */
  private dstChannel = '';

  constructor(
    private readonly ua: SipLegHost,
    private readonly log: Logger,
    private readonly leg: AnsweredLeg,
    private readonly session: MediaSession,
    name: string,
    context: string,
    readonly dialed: string,
    private readonly how: string,
    private readonly newSession: () => MediaSession,
  ) {
    const n = ++seq;
    this.id = `${systemPrefix()}${Math.floor(Date.now() / 1000)}.d${n}`;
    this.name = `SIP/${leg.number}-d${n.toString(16).padStart(7, '0')}`;
    this.callerIdNum = leg.number;
    this.callerIdName = name;
    this.context = context;
    const r = leg.dialog.remote;
    this.peer = { transport: r.transport, address: r.address, port: r.port, account: leg.number };
    this.ended = new Promise((res) => (this.endedResolve = res));
    void leg.ended.then(() => this.finish());
  }

  get endpoint(): MediaEndpoint {
    return this.session.leg;
  }

  async answer(): Promise<void> {}
  async ring(): Promise<void> {}
  async progress(): Promise<void> {}

  async dial(targets: DialTarget[], o: DialOptions): Promise<DialResult> {
    if (this.hungUp) return { status: 'CANCEL' };
    const branches = targets
      .filter((t) => /^(PJ)?SIP$/i.test(t.tech))
      .flatMap((t) => {
        const ext = this.ua.extension(t.resource);
        return ext ? this.ua.contacts(ext.number).map((binding) => ({ number: ext.number, binding })) : [];
      });
    if (branches.length === 0) return { status: 'CHANUNAVAIL' };
    let session: MediaSession;
    try {
      session = this.newSession();
    } catch {
      return { status: 'CONGESTION' };
    }
    const d = new OutboundDial(this.ua, { targets: branches, offer: session.offer(), callerNumber: this.callerIdNum, callerName: this.callerIdName, timeoutMs: o.timeoutMs });
    void this.ended.then(() => d.cancel());
    const out = await d.result;
    const leg = out.status === 'ANSWER' ? out.leg : undefined;
    let ok = !!leg && !this.hungUp;
    if (ok) {
      try {
        session.takeAnswer(out.answerSdp ?? Buffer.alloc(0));
      } catch {
        ok = false;
      }
    }
    if (!ok || !leg) {
      leg?.hangup();
      session.leg.close();
      return { status: out.status === 'ANSWER' ? 'CHANUNAVAIL' : out.status };
    }
    session.leg.start();
    this.session.leg.source = null;
    const bridge = new DialBridge(this.ua, { a: { dialog: this.leg.dialog, session: this.session }, b: { dialog: leg.dialog, session } }, this.log, this.name);
    this.leg.bridge = { inDialog: (tx, req) => bridge.inDialog('a', tx, req), onAck: (ack) => bridge.onAck('a', ack) };
    leg.bridge = { inDialog: (tx, req) => bridge.inDialog('b', tx, req), onAck: (ack) => bridge.onAck('b', ack) };
    this.dstChannel = `SIP/${leg.number}`;
    const t0 = Date.now();
    this.log.info('channel-bridged', { channel: this.name, to: leg.number });
    await Promise.race([leg.ended, this.ended]);
    bridge.close();
    this.leg.bridge = null;
    leg.bridge = null;
    if (this.hungUp) leg.hangup();
    session.leg.close();
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  async hangup(): Promise<void> {
    this.leg.hangup();
    this.finish();
  }

  private finish(): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.session.leg.close();
    this.endedResolve('normal');
    const end = new Date();
    const secs = Math.round((end.getTime() - this.start.getTime()) / 1000);
    try {
      this.ua.writeCdr({
        accountcode: '',
        src: this.callerIdNum,
        dst: this.dialed,
        dcontext: this.context,
        clid: `"${this.callerIdName}" <${this.callerIdNum}>`,
        channel: this.name,
        dstchannel: this.dstChannel,
        lastapp: 'Transfer',
        lastdata: this.dialed,
        start: this.start,
        answer: this.start,
        end,
        duration: secs,
        billsec: secs,
        disposition: 'ANSWERED',
        amaflags: 'DOCUMENTATION',
        uniqueid: `${this.id}.${newToken().slice(0, 6)}`,
        userfield: this.how,
        sourceIp: this.peer.address,
        securityVerdict: 'authenticated',
      });
    } catch (err) {
      this.log.error('cdr-write-failed', { channel: this.name, error: (err as Error).message });
    }
    this.log.info('channel-ended', { channel: this.name, cause: 'normal' });
  }
}

export class DirectTransferServices implements DirectServices {
  constructor(
    private readonly ua: SipLegHost,
    private readonly features: ChannelFeatures,
    private readonly newSession: () => MediaSession,
    private readonly log: Logger,
    private readonly technologies?: DialTechnologies,
  ) {}

  outside(h: DirectOutside, ticket: CallTicket | undefined, ringing: () => void, joined: () => void): { done: Promise<number>; cancel(): void } | null {
    const t = h.transferor.party;
    if (!/^\+?[0-9*#]{1,32}$/.test(h.number)) return null;
    const by = { number: t.number, name: t.name || t.number, context: t.context, remote: h.transferor.dialog.remote };
    const out = dialOutside(this.technologies, h.number, by, { name: `SIP/${t.number}`, id: h.id }, ringing);
    return out ? { done: this.joinOutside(h, out, ticket, joined), cancel: () => out.cancel() } : null;
  }

  /**
   * The outside party answered: the transferee is re-INVITEd towards a
   * media leg of ours, the direct call ends (the transferor hears NOTIFY
   * 200, then BYE) and the transferee and the trunk's leg are joined
   * (joined-legs.ts) until one hangs up.
   */
  private async joinOutside(h: DirectOutside, out: OutsideCall, ticket: CallTicket | undefined, joined: () => void): Promise<number> {
    const o = await out.result;
    if (o.status !== 'ANSWER') {
      ticket?.ended(0);
      return FAILURE_STATUS[o.status] ?? 480;
    }
    const far = o.far;
    const giveUp = (status: number, session?: MediaSession): number => {
      far.leg.hangup();
      far.session.leg.close();
      session?.leg.close();
      ticket?.ended(0);
      return status;
    };
    if (!h.live) return giveUp(487);
    let sE: MediaSession;
    try {
      sE = this.newSession();
    } catch {
      return giveUp(503);
    }
    const answer = await reinvite(this.ua, h.transferee.dialog, sE.offer());
    if (!answer || !h.live) return giveUp(h.live ? 488 : 487, sE);
    try {
      sE.takeAnswer(answer);
    } catch {
      return giveUp(488, sE);
    }
    const how = `blind transfer by ${h.transferor.party.number} to ${h.number}`;
    const legE = new AnsweredLeg(this.ua, h.transferee.dialog, h.transferee.party.number);
    const legT = new AnsweredLeg(this.ua, h.transferor.dialog, h.transferor.party.number);
    h.release(how);
    joined();
    legT.hangup();
    joinLegs(
      this.ua,
      this.log,
      { leg: legE, session: sE },
      far,
      {
        id: h.id,
        channel: `SIP/${h.transferee.party.number}`,
        context: h.transferor.party.context,
        name: h.transferee.name,
        how,
        sourceIp: h.transferor.dialog.remote.address,
      },
      ticket,
    );
    this.log.info('call-transferred', { call: h.id, how, from: h.transferee.party.number, to: h.number, trunk_leg: far.trunkLeg });
    return 200;
  }

  takes(number: string, context: string): boolean {
    return this.features.transferService(number, context) !== undefined;
  }

  async hand(h: DirectHandOver, announced: () => void): Promise<boolean> {
    const service = this.features.transferService(h.number, h.transferor.party.context);
    if (!service) return false;
    let sE: MediaSession;
    let sT: MediaSession;
    try {
      sE = this.newSession();
      sT = this.newSession();
    } catch {
      return false;
    }
    // both phones' media to Palisade; a phone that refuses leaves the call as it was only if both did
    const [aE, aT] = await Promise.all([reinvite(this.ua, h.transferee.dialog, sE.offer()), reinvite(this.ua, h.transferor.dialog, sT.offer())]);
    const ok = (s: MediaSession, a: Buffer | null): boolean => {
      if (!a) return false;
      try {
        s.takeAnswer(a);
        return true;
      } catch {
        return false;
      }
    };
    const okE = ok(sE, aE);
    const okT = ok(sT, aT);
    const how = `blind transfer by ${h.transferor.party.number} to ${h.number}`;
    if (!okE && !okT) {
      sE.leg.close();
      sT.leg.close();
      return false;
    }
    const legE = new AnsweredLeg(this.ua, h.transferee.dialog, h.transferee.party.number);
    const legT = new AnsweredLeg(this.ua, h.transferor.dialog, h.transferor.party.number);
    const ticket = h.release(how);
    sE.leg.start();
    sT.leg.start();
    const drop = () => {
      legE.hangup();
      legT.hangup();
      sE.leg.close();
      sT.leg.close();
      ticket?.ended(0);
    };
    if (!okE || !okT) {
      drop();
      return false;
    }
    const ch = new LegChannel(this.ua, this.log, legE, sE, h.transferee.name, h.transferee.party.context, h.number, how, this.newSession);
    const t = service.take(ch, h.number, { number: legT.number, endpoint: sT.leg });
    if (!t) {
      drop();
      return false;
    }
    this.log.info('direct-call-handed', { channel: ch.name, service: service.name, by: legT.number });
    await Promise.race([t.announced, legT.ended, ch.ended]);
    announced();
    legT.hangup();
    sT.leg.close();
    const t0 = Date.now();
    void t.done.then(() => {
      ticket?.ended(Math.round((Date.now() - t0) / 1000));
      void ch.hangup();
    });
    return true;
  }
}
