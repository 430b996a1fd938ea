// Several workers: a call handed to the worker where what it asks for lives.
// ParkedCall(slot) and Pickup(ext) whose argument the call itself decided
// (a Read(), a database answer) run in the worker that took the call, which
// may not be the one where the slot's call waits or the extension rings.
// That worker then places a call to its own SIP address with a hand-over
// signed by the workers' key (src/core/workers.ts); the worker link steers
// it to the worker named, which takes it here, as the caller's call, without
// a challenge, and runs ParkedCall or Pickup on it. The caller's channel
// bridges the new leg like any SIP leg (audio relayed between the two
// workers over the machine's own address; hold and re-INVITEs carried
// across), so the caller talks to the parked or ringing party.
//
//   caller ── worker 0: Read(SLOT), ParkedCall(${SLOT}) ── HANDOVER leg ──▶ worker 1: ParkedCall(701) ── parked party
import { buildResponse } from '../../sip-message/response.js';
import { newToken } from '../../sip/dialog/dialog.js';
import type { SipLegHost } from '../../sip/b2bua/leg-host.js';
import type { MethodRoute } from '../../sip/pipeline/routing-stage.js';
import type { Remote, ListenPoint } from '../../transport/types.js';
import { formatHost } from '../../transport/address.js';
import type { Channel, DialTarget } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { SipChannelFactory } from '../../channel/sip-channel-factory.js';
import type { DialAttempt, DialContext, DialTechnology } from '../../channel/dial-technology.js';
import { SipOutboundCall } from '../../channel/sip-outbound-call.js';
import type { HoldMusicSource } from '../../channel/hold-link.js';
import type { SocketPair } from '../../media/rtp/rtp-endpoint.js';
import type { ExtensionInfo } from '../../core/directory.js';
import { HANDOVER_HEADER, readHandover, signHandover, type Handover, type HandoverApp } from '../../core/workers.js';
import type { Logger } from '../../observability/logger.js';

/** the Dial() technology of a hand-over: HANDOVER/<worker>/<park|pickup>/<slot or extension> */
export const HANDOVER_TECH = 'HANDOVER';
/** how long the worker asked may take to answer */
const HANDOVER_TIMEOUT_MS = 10_000;

export interface HandoverServices {
  /** this worker's index */
  index: number;
  legs: SipLegHost;
  allocatePair(): SocketPair;
  moh: HoldMusicSource;
  /** the SIP listen points (the first UDP one is where a hand-over is sent) */
  listenPoints: readonly ListenPoint[];
  /** rtp.address: the legs' media between workers use it (the loopback address when it is a wildcard) */
  rtpAddress: string;
  extensions: { get(number: string): ExtensionInfo | undefined };
  /** the call handed over becomes a channel that runs ParkedCall() or Pickup(), not the dialplan */
  channels: Pick<SipChannelFactory, 'take'>;
  log: Logger;
}

/** what the worker that receives a hand-over does with it (park-pickup.ts) */
export interface HandoverTarget {
  /** is there still something to take (the slot's call waits here, a call `who` may pick up rings here)? */
  ready(h: Handover): boolean;
  run(h: Handover, ch: Channel, media: ChannelMedia): Promise<void>;
}

/** a wildcard address stands for the machine itself */
function ownAddress(a: string): string {
  if (a === '0.0.0.0' || a === '') return '127.0.0.1';
  return a === '::' ? '::1' : a;
}

export class WorkerHandover implements DialTechnology {
  readonly names = [HANDOVER_TECH];
  private readonly mediaAddress: string;

  constructor(
    private readonly s: HandoverServices,
    private readonly target: HandoverTarget,
  ) {
    this.mediaAddress = ownAddress(s.rtpAddress);
  }

  /** where a hand-over is sent: this server's own UDP listen point (null without one) */
  private own(): Remote | null {
    const lp = this.s.listenPoints.find((p) => p.transport === 'udp');
    return lp ? { transport: 'udp', address: ownAddress(lp.address), port: lp.port } : null;
  }

  /**
   * The caller's channel continues in `worker`: it is bridged with a leg to
   * that worker, which runs `app` there, until either side ends. True when
   * that worker took the call (the caller talked to the party).
   */
  async place(ch: Channel, worker: number, app: HandoverApp, arg: string): Promise<boolean> {
    const r = await ch.dial([{ tech: HANDOVER_TECH, resource: `${worker}/${app}/${arg}` }], { timeoutMs: HANDOVER_TIMEOUT_MS, options: '' });
    this.s.log.info('call-handed-over', { channel: ch.name, to: worker, app, arg, status: r.status });
    return r.status === 'ANSWER';
  }

  /** Dial(HANDOVER/w/app/arg): the leg to worker w */
  dial(t: DialTarget, ctx: DialContext): DialAttempt | null {
    const m = /^(\d{1,2})\/(park|pickup)\/([^/]*)$/.exec(t.resource);
    const to = this.own();
    if (!m || !to) return null;
    const account = ctx.peer.account ?? '';
    const callId = `${newToken()}@palisade`;
    const handover = signHandover({ worker: Number(m[1]), app: m[2] as HandoverApp, arg: m[3]!, account }, callId);
    if (!handover) return null;
    const host = formatHost(to.address);
    // a caller that proved no extension (a trunk's) is named by its caller ID, when that fits in a URI
    const from = account || (/^[0-9A-Za-z*#+._-]{1,64}$/.test(ctx.callerIdNum) ? ctx.callerIdNum : 'anonymous');
    return new SipOutboundCall(
      { legs: this.s.legs, allocatePair: this.s.allocatePair, mediaAddress: this.mediaAddress, log: this.s.log, moh: this.s.moh },
      {
        peer: { name: `worker${m[1]}`, host, portGiven: true, fromDomain: host, fromUser: from, username: from },
        number: m[3] || m[2]!,
        targets: [to],
        caller: { number: from, name: ctx.callerIdName, hide: false, pai: false },
        legName: `${HANDOVER_TECH}/${m[1]}-${ctx.channelId}`,
        callId,
        headers: [{ name: HANDOVER_HEADER, value: handover }],
        logAs: 'handover',
        onDone: () => {},
      },
    );
  }

  /**
   * The INVITE route, asked before the core's: an INVITE with a hand-over
   * signed for this worker is the caller's call, taken without a challenge.
   * One without the header, or whose signature does not hold, goes on to
   * the core, which challenges it as any other.
   */
  readonly route: MethodRoute = (tx, req, remote) => {
    const value = req.get(HANDOVER_HEADER);
    if (value === undefined) return false;
    const h = readHandover(value, req.callId);
    const from = req.from.uri.user ?? '';
    if (!h || h.worker !== this.s.index || (h.account !== '' && h.account !== from)) {
      this.s.log.info('handover-refused', { from: remote.address, port: remote.port, why: !h ? 'signature' : h.worker !== this.s.index ? 'worker' : 'caller' });
      return false;
    }
    const ext = h.account ? this.s.extensions.get(h.account) : undefined;
    const server = this.s.legs.userAgent;
    if ((h.account && !ext) || !this.target.ready(h)) {
      // nothing to take here any more (the parked caller left, the phone stopped ringing): the handing worker says so
      this.s.log.info('handover-nothing', { app: h.app, arg: h.arg, by: h.account || from });
      tx.respond(buildResponse(req, 480, 'Temporarily Unavailable', { toTag: newToken(), server }));
      return true;
    }
    const caller: ExtensionInfo = ext ?? { number: from, name: req.from.displayName ?? '', context: 'handover', directMedia: false };
    this.s.channels.take(tx, req, remote, caller, h.arg || h.app, (ch, media) => this.target.run(h, ch, media), {
      mediaAddress: this.mediaAddress,
      ...(ext ? {} : { origin: { trunk: 'handover' } }),
    });
    return true;
  };
}
