// The SIP channel: a Channel (channel.ts) over an incoming INVITE that the
// dialplan handles. Palisade is the UAS and terminates the media itself:
// the signalling is a SipLeg (sip-leg.ts), the media an RTP endpoint
// (src/media/media-leg.ts) that the media services work on
// (endpoint-media.ts), and dial() rings extensions (sip-dial.ts) and bridges
// the legs in the media engine (dial-bridge.ts). It reaches the SIP layer
// only through the B2BUA's SipLegHost.
import { systemPrefix } from '../core/system-name.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import type { Remote } from '../transport/types.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { ExtensionInfo, ServerTxHandle } from '../sip/b2bua/types.js';
import type { Logger } from '../observability/logger.js';
import { MediaLeg } from '../media/media-leg.js';
import type { MediaEndpoint } from '../media/media-endpoint.js';
import { negotiateOffer } from '../media/media-sdp.js';
import { MediaSession, type ReadOffer } from '../media/media-session.js';
import type { RtpEndpointStats, SocketPair } from '../media/rtp/rtp-endpoint.js';
import { Player } from '../media/player/player.js';
import type { MusicOnHold } from '../media/player/music-on-hold.js';
import { AnsweredLeg, OutboundDial, type DialBranchTarget } from './sip-dial.js';
import { DialBridge } from './dial-bridge.js';
import { SipLeg } from './sip-leg.js';
import { channelCdr } from './channel-cdr.js';
import type { Channel, ChannelPeer, DialOptions, DialResult, DialTarget, HangupCause } from './channel.js';
import { channelQuality, watchChannelOneWay } from './channel-quality.js';
import { ChannelTransfers, type ChannelDialogMatch, type FarParty } from './channel-transfer.js';
import type { ReplacesId } from '../sip/b2bua/refer.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import type { QualityThresholds } from '../media/quality/call-quality.js';
import type { DialContext, DialOutcome, DialTechnologies, OutboundLeg } from './dial-technology.js';
import { EndpointBridge } from './endpoint-bridge.js';
import { joinHold, musicWhileHeld, type HoldLink } from './hold-link.js';
import { dialForwardPlan, dialWithForward } from './dial-forward.js';
import type { CallEvent, CallPhase } from '../core/call-events.js';
import type { BridgedCall, ChannelFeatures, TransferService } from './channel-features.js';

/** where a channel reports its phases (the CallEventHub) */
export interface CallEventSink {
  emitCall(e: CallEvent): void;
}

export interface SipChannelDeps {
  /** the SIP layer (the B2BUA) */
  ua: SipLegHost;
  allocatePair(): SocketPair;
  /** the address advertised in our SDP */
  mediaAddress: string;
  /** Dial()'s m option: music while the callee rings */
  moh: MusicOnHold;
  log: Logger;
  /** end the call when no RTP arrived for this long (0 = never) */
  rtpTimeoutMs: number;
  /** the `quality:` thresholds in force (defaults when absent) */
  quality?(): QualityThresholds;
  /** Dial() technologies for targets that are not our extensions (trunks, IAX2) */
  technologies?: DialTechnologies;
  /** call and device-state events (src/core/call-events.ts) */
  callEvents?: CallEventSink;
  /** transfer services (parking) and calls another extension may pick up (channel-features.ts) */
  features?: ChannelFeatures;
  /** the live channel whose dialog a Replaces names (RFC 3891), for attended transfers (sip-channel-factory.ts) */
  replaceable?(r: ReplacesId): ChannelDialogMatch | undefined;
}

/** where a channel's caller comes from when it is not one of our extensions */
export interface ChannelOrigin {
  /** the trunk the call arrived on: the channel is named after it and proves no extension */
  trunk: string;
}

const CAUSE_STATUS: Record<HangupCause, [number, string]> = {
  normal: [480, 'Temporarily Unavailable'],
  busy: [486, 'Busy Here'],
  noanswer: [480, 'Temporarily Unavailable'],
  congestion: [503, 'Service Unavailable'],
  unallocated: [404, 'Not Found'],
  rejected: [603, 'Decline'],
  failure: [500, 'Server Internal Error'],
};

let channelSeq = 0;

export class SipChannel implements Channel {
  readonly id: string;
  readonly name: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly context: string;
  /** the INVITE's source and the extension its digest proved (the B2BUA only hands over authenticated callers) */
  readonly peer: ChannelPeer;
  readonly vars = new Map<string, string>();
  answered = false;
  hungUp = false;
  readonly ended: Promise<HangupCause>;
  readonly start = new Date();
  answerAt: Date | null = null;

  private endedResolve!: (c: HangupCause) => void;
  private readonly leg: SipLeg;
  private media: MediaLeg | null = null;
  /** the offer in the INVITE (null for a late offer: ours goes in the 200) */
  private offer: ReadOffer | null = null;
  private session: MediaSession | null = null;
  private dialing: OutboundDial | null = null;
  private bridgedLeg: AnsweredLeg | null = null;
  /** an answered leg of another technology, bridged through the endpoints */
  private otherLeg: OutboundLeg | null = null;
  private attempts: RingAttempt[] = [];
  /** the name of the leg the last Dial() bridged (the CDR's dstchannel) */
  dstChannel = '';
  /** the far leg bridged with this channel now, with its media and bridge */
  private far: FarBridge | null = null;
  /** REFERs from the far party of a Dial() bridge (channel-transfer.ts) */
  readonly transfers: ChannelTransfers;
  /** targets of the current Dial() left out for do-not-disturb */
  private dndSkipped = 0;
  lastApp = '';
  lastData = '';
  dialStatus = '';
  /** quality flags raised while the call is up (one-way-a) */
  private readonly qualityFlags: string[] = [];
  private stopOneWay: (() => void) | null = null;
  /** a blind transfer handed the caller to a service (parking): the bridge's Dial() returns when it is done */
  private handedOff: Promise<void> | null = null;
  /** a transfer by feature code is under way: the bridge goes on with whoever it brings, even when the far party leaves */
  private swapping: Promise<void> | null = null;
  /** the caller hears music while a feature code holds the bridge */
  private holdMusic: (() => void) | null = null;
  /** the options of the Dial() now bridged */
  private dialOptions = '';
  /** the number this channel's phone is connected with when it is not the one it dialled (a pickup's caller), for its 200 */
  connectedTo: string | null = null;
  /** an attended transfer took the caller's dialog and media elsewhere (detachCaller): the channel ends without touching them */
  private callerGone = false;
  /** another extension picked up the ringing Dial() (channel-features.ts) */
  private picker: { by: Channel; done: (ok: boolean) => void } | null = null;

  constructor(
    private readonly deps: SipChannelDeps,
    tx: ServerTxHandle,
    private readonly invite: SipMessage,
    readonly remote: Remote,
    readonly caller: ExtensionInfo,
    readonly dialed: string,
    readonly origin?: ChannelOrigin,
  ) {
    const seq = ++channelSeq;
    this.id = `${systemPrefix()}${Math.floor(Date.now() / 1000)}.c${seq}`;
    this.name = `SIP/${origin ? origin.trunk : caller.number}-${seq.toString(16).padStart(8, '0')}`;
    this.callerIdNum = caller.number;
    this.callerIdName = invite.from.displayName ?? caller.name;
    this.context = caller.context;
    // a trunk's caller proved no extension: the caller ID is only what the far end says
    this.peer = origin
      ? { transport: remote.transport, address: remote.address, port: remote.port }
      : { transport: remote.transport, address: remote.address, port: remote.port, account: caller.number };
    this.ended = new Promise((r) => (this.endedResolve = r));
    this.transfers = new ChannelTransfers(this, deps.ua, deps.log, deps.features, deps.technologies);
    this.leg = new SipLeg(
      deps.ua,
      tx,
      invite,
      remote,
      dialed || 'palisade',
      {
        ended: (cause) => this.finish(cause),
        failed: () => void this.hangup('failure'),
        infoDigit: (digit, req) => {
          if (this.bridgedLeg) this.relayInfo(req);
          else if (this.otherLeg) this.otherLeg.endpoint.sendDigits(digit);
          else this.media?.emitDigit(digit, 'info');
        },
      },
      deps.log,
      this.name,
    );
  }

  /**
   * Checks the offer before the dialplan runs: false (and a 488 sent) when
   * it has no audio format we can use (RFC 3264 §6, RFC 3261 §21.4.26).
   */
  admit(): boolean {
    if (this.invite.body.length > 0) {
      try {
        this.offer = negotiateOffer(this.invite.body);
      } catch (err) {
        this.deps.log.info('channel-bad-offer', { channel: this.name, error: (err as Error).message });
        this.leg.refuse(488, 'Not Acceptable Here');
        this.finish('failure');
        return false;
      }
    } // else a late offer: we offer in the 200
    try {
      this.ensureMedia();
    } catch (err) {
      // the RTP port range is used up (PAL_ERR_RTP_PORTS_EXHAUSTED): try again later
      this.deps.log.warn('channel-no-media', { channel: this.name, error: (err as Error).message });
      this.leg.refuse(503, 'Service Unavailable', [['retry-after', '5']]);
      this.finish('congestion');
      return false;
    }
    return true;
  }

  /** the RTP endpoint the media services work on */
  get endpoint(): MediaEndpoint {
    return this.ensureMedia();
  }

  private ensureMedia(): MediaLeg {
    if (this.media) return this.media;
    const m = new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, this.deps.rtpTimeoutMs);
    m.tapDigits((_d, via) => this.deps.log.debug('channel-dtmf', { channel: this.name, via }));
    m.onRtpTimeout = () => {
      if (this.bridgedLeg || this.otherLeg) return; // bridged: the far leg ends the call
      this.deps.log.info('channel-rtp-timeout', { channel: this.name });
      void this.hangup('normal');
    };
    if (this.offer) m.configure(this.offer.media);
    this.media = m;
    this.session = new MediaSession(m, this.deps.mediaAddress);
    this.leg.session = this.session;
    return m;
  }

  /** the SDP of our 183/200: the answer to the INVITE's offer, or our offer when it had none */
  private localSdp(): Buffer {
    this.ensureMedia();
    const s = this.session!;
    return this.offer ? s.answer(this.offer) : s.offer();
  }

  async answer(): Promise<void> {
    if (this.answered || this.hungUp) return;
    const who = this.connectedTo;
    // RFC 3325: who the phone is connected with, when it is not whom it called (a pickup's caller)
    this.leg.answer(this.localSdp(), who ? [['p-asserted-identity', `<sip:${who}@${this.deps.ua.domain}>`]] : undefined);
    this.answered = true;
    this.answerAt = new Date();
    this.media!.start();
    const m = this.media!;
    this.stopOneWay = watchChannelOneWay(
      { received: () => m.ep.quality.packets, sent: () => m.ep.stats.packetsSent, flags: this.qualityFlags },
      this.deps.quality?.(),
      this.deps.log,
      this.name,
    );
    this.emitPhase('answered');
    this.deps.log.info('channel-answered', { channel: this.name, codec: this.media!.codec, rtp: this.media!.port });
  }

  async ring(): Promise<void> {
    if (this.answered || this.hungUp) return;
    this.leg.provisional(180);
  }

  /** 183 Session Progress with our SDP: early media (prompts before answer) */
  async progress(): Promise<void> {
    if (this.answered || this.hungUp) return;
    if (!this.offer) return this.ring(); // a late offer cannot carry early media
    this.leg.provisional(183, this.localSdp());
    this.media!.start();
  }

  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    if (this.answered) {
      if (!this.callerGone) this.leg.bye();
    } else this.leg.refuse(...CAUSE_STATUS[cause]);
    this.finish(cause);
  }

  /** release everything once, resolve `ended`, write the CDR */
  private finish(cause: HangupCause): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.leg.close();
    this.dialing?.cancel();
    for (const a of this.attempts) a.cancel();
    this.bridgedLeg?.hangup();
    this.otherLeg?.hangup('normal');
    const rtp = this.media ? { ...this.media.ep.stats, jitter: Math.round(this.media.ep.stats.jitter) } : null;
    this.stopOneWay?.();
    const quality = channelQuality(this.media?.ep.quality ?? null, this.deps.quality?.(), this.deps.log, this.name, this.qualityFlags);
    if (!this.callerGone) this.media?.close();
    this.endedResolve(cause);
    this.emitPhase('end', { cause });
    const rec = channelCdr({
      channel: this,
      start: this.start,
      answerAt: this.answerAt,
      end: new Date(),
      cause,
      dialStatus: this.dialStatus,
      lastApp: this.lastApp,
      lastData: this.lastData,
      sourceIp: this.remote.address,
      dstChannel: this.dstChannel,
    });
    try {
      this.deps.ua.writeCdr({ ...rec, quality });
    } catch (err) {
      this.deps.log.error('cdr-write-failed', { channel: this.name, error: (err as Error).message });
    }
    // the steps the dialplan took (context,exten,priority:App — never the arguments)
    const path = this.vars.get('DIALPLAN_PATH');
    this.deps.log.info('channel-ended', { channel: this.name, cause, rtp, ...(path ? { path } : {}) });
  }

  /** report a phase to the call events (no-op without a hub) */
  emitPhase(phase: CallPhase, extra: Partial<CallEvent> = {}): void {
    this.deps.callEvents?.emitCall({
      phase,
      callId: this.id,
      sipCallId: this.leg.dialog.callId,
      from: this.callerIdNum,
      to: this.dialed,
      fromExtension: this.peer.account,
      channel: this.name,
      via: 'channel',
      at: Date.now(),
      // early dialogs only while a Dial() rings (its 'ringing' phases name them)
      early: [],
      ...extra,
    });
  }

  /** e.g. "PCMU 127.0.0.1:20002" for `palisade show calls` */
  get mediaDescription(): string {
    return this.media ? `${this.media.codec ?? 'recv-only'} ${this.deps.mediaAddress}:${this.media.port}` : '';
  }

  /** RTP/RTCP counters of this channel's endpoint (null before media exists) */
  get rtpStats(): Readonly<RtpEndpointStats> | null {
    return this.media ? { ...this.media.ep.stats } : null;
  }

  // ------------------------------------------------------------------ dial

  async dial(targets: DialTarget[], o: DialOptions): Promise<DialResult> {
    // forwarding on busy / no answer of a single extension dialled (dial-forward.ts)
    const plan = dialForwardPlan(targets, this.deps.ua);
    if (!plan || this.hungUp) return this.dialOnce(targets, o);
    return dialWithForward(
      plan,
      targets,
      o,
      (t, oo) => this.dialOnce(t, oo),
      () => this.hungUp,
      (f) => this.deps.log.info('dial-forwarded', { channel: this.name, ...f }),
    );
  }

  private async dialOnce(targets: DialTarget[], o: DialOptions): Promise<DialResult> {
    if (this.hungUp) return { status: 'CANCEL' };
    this.dndSkipped = 0;
    this.dialOptions = o.options;
    const branches = this.dialBranches(targets);
    const others = targets.filter((t) => !this.isLocalTarget(t));
    if (others.length > 0 && this.deps.technologies) return this.dialOthers(branches, others, o);
    // every target in do-not-disturb: busy, as Asterisk's DND answers
    if (branches.length === 0) return this.dialDone(this.dndSkipped > 0 ? 'BUSY' : 'CHANUNAVAIL');
    // the caller's leg: answered now or when the callee answers
    const aLeg = this.ensureMedia();
    let bSession: MediaSession;
    try {
      bSession = new MediaSession(new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, 0), this.deps.mediaAddress);
    } catch (err) {
      this.deps.log.warn('dial-no-media', { channel: this.name, error: (err as Error).message });
      return this.dialDone('CONGESTION');
    }
    let earlySeen = 0;
    const dial = new OutboundDial(this.deps.ua, {
      targets: branches,
      offer: bSession.offer(),
      callerNumber: this.callerIdNum,
      callerName: this.callerIdName,
      timeoutMs: o.timeoutMs,
      onRinging: () => {
        if (!this.answered && !o.options.includes('m')) void this.ring();
        // each phone that rings in an early dialog of its own: busy lamps show it, a pickup names it
        const early = dial.earlyDialogs();
        if (early.length !== earlySeen && this.dialing === dial) {
          earlySeen = early.length;
          this.emitPhase('ringing', { toExtension: branches[0]!.number, early });
        }
      },
    });
    this.dialing = dial;
    this.emitPhase('ringing', { toExtension: branches[0]!.number, legs: dial.callIds });
    const unring = this.deps.features?.ringing({
      channel: this,
      extensions: [...new Set(branches.map((b) => b.number))],
      since: Date.now(),
      early: () => dial.earlyDialogs(),
      pickup: (by) => this.pickedUp(dial, by),
    });
    if (o.options.includes('r') && !this.answered) void this.ring();
    const mohStop = o.options.includes('m') ? await this.ringbackMusic(aLeg) : null;
    const outcome = await dial.result;
    unring?.();
    this.dialing = null;
    mohStop?.();
    const picker = this.picker;
    this.picker = null;
    // the callee answered before the pickup took the call: the picker gets nothing
    if (picker && outcome.status === 'ANSWER') picker.done(false);
    else if (picker) {
      bSession.leg.close();
      return this.bridgePicked(picker);
    }
    if (outcome.status !== 'ANSWER' || !outcome.leg) {
      bSession.leg.close();
      return this.dialDone(outcome.status);
    }
    const answeredBy = this.answeredTarget(targets, outcome.leg.number);
    if (answeredBy) o.onAnswer?.(answeredBy);
    const r = await this.bridgeTo(outcome.leg, bSession, outcome.answerSdp);
    return answeredBy && r.status === 'ANSWER' ? { ...r, answeredBy } : r;
  }

  /** which of the dialled targets is the extension that answered */
  private answeredTarget(targets: DialTarget[], number: string): DialTarget | undefined {
    return targets.find((t) => {
      const tech = t.tech.toUpperCase();
      return (tech === 'SIP' || tech === 'PJSIP') && this.deps.ua.extension(t.resource)?.number === number;
    });
  }

  private dialDone(status: DialResult['status']): DialResult {
    this.dialStatus = status;
    if (!this.hungUp) this.emitPhase(this.answered ? 'answered' : 'start', { toExtension: '' });
    return { status };
  }

  /** Dial()'s m option: the caller hears music (as early media) until the callee answers */
  private async ringbackMusic(aLeg: MediaLeg): Promise<(() => void) | null> {
    const files = this.deps.moh.load('default');
    if (files.length === 0) return null;
    if (!this.answered) await this.progress();
    const p = new Player(files, true);
    aLeg.source = p;
    return () => {
      p.stop();
      if (aLeg.source === p) aLeg.source = null;
    };
  }

  /** a SIP/PJSIP target naming one of our extensions (rung natively) */
  private isLocalTarget(t: DialTarget): boolean {
    const tech = t.tech.toUpperCase();
    return (tech === 'SIP' || tech === 'PJSIP') && this.deps.ua.extension(t.resource) !== undefined;
  }

  /** what a Dial() technology learns of the caller */
  private dialContext(o: DialOptions): DialContext {
    return {
      channelName: this.name,
      channelId: this.id,
      callerIdNum: this.callerIdNum,
      callerIdName: this.callerIdName,
      context: o.onBehalfOf?.context ?? this.context,
      peer: o.onBehalfOf ? { ...this.peer, account: o.onBehalfOf.account } : this.peer,
      timeoutMs: o.timeoutMs,
      vars: this.vars,
    };
  }

  /**
   * Dial() with targets of other technologies (a trunk, IAX2), and our
   * extensions' phones if some are named too: every target rings at once,
   * the first to answer wins and the others are cancelled.
   */
  private async dialOthers(branches: DialBranchTarget[], others: DialTarget[], o: DialOptions): Promise<DialResult> {
    const ctx = this.dialContext(o);
    const attempts: RingAttempt[] = [];
    const targetOf = new Map<RingAttempt, DialTarget>();
    for (const t of others) {
      const a = this.deps.technologies!.dial(t, ctx);
      if (a) {
        attempts.push(a);
        targetOf.set(a, t);
      }
    }
    if (attempts.length === 0 && branches.length === 0) return this.dialDone('CHANUNAVAIL');
    if (branches.length > 0) {
      attempts.push(this.nativeAttempt(branches, o));
      this.emitPhase('ringing', { toExtension: branches[0]!.number });
    }
    this.attempts = attempts;
    const ringing = () => {
      if (!this.answered && !o.options.includes('m')) void this.ring();
    };
    for (const a of attempts) a.onRinging = ringing;
    if (o.options.includes('r') && !this.answered) void this.ring();
    const aLeg = this.ensureMedia();
    const mohStop = o.options.includes('m') ? await this.ringbackMusic(aLeg) : null;
    const timer = o.timeoutMs > 0 ? setTimeout(() => this.cancelAttempts(null), o.timeoutMs) : undefined;
    const outcome = await firstAnswer(attempts);
    clearTimeout(timer);
    mohStop?.();
    this.cancelAttempts(outcome.winner);
    this.attempts = [];
    if (outcome.status !== 'ANSWER') return this.dialDone(timer && outcome.status === 'CANCEL' && !this.hungUp ? 'NOANSWER' : outcome.status);
    const w = outcome.outcome;
    const won = targetOf.get(outcome.winner);
    if (won) o.onAnswer?.(won);
    if ('native' in w) return this.bridgeTo(w.native.leg, w.native.session, w.native.answerSdp);
    return this.bridgeOther((w as { leg: OutboundLeg }).leg);
  }

  private cancelAttempts(keep: RingAttempt | null): void {
    for (const a of this.attempts) if (a !== keep) a.cancel();
  }

  /** our extensions' phones as one attempt among the others (answered natively, bridged packet by packet) */
  private nativeAttempt(branches: DialBranchTarget[], _o: DialOptions): RingAttempt {
    let bSession: MediaSession | null = null;
    let dial: OutboundDial | null = null;
    const attempt: RingAttempt = {
      onRinging: null,
      cancel: () => dial?.cancel(),
      result: (async (): Promise<NativeOutcome> => {
        try {
          bSession = new MediaSession(new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, 0), this.deps.mediaAddress);
        } catch {
          return { status: 'CONGESTION' };
        }
        dial = new OutboundDial(this.deps.ua, {
          targets: branches,
          offer: bSession.offer(),
          callerNumber: this.callerIdNum,
          callerName: this.callerIdName,
          timeoutMs: 0,
          onRinging: () => attempt.onRinging?.(),
        });
        const r = await dial.result;
        if (r.status !== 'ANSWER' || !r.leg) {
          bSession.leg.close();
          return { status: r.status === 'ANSWER' ? 'CHANUNAVAIL' : r.status };
        }
        return { status: 'ANSWER', native: { leg: r.leg, session: bSession, answerSdp: r.answerSdp } };
      })(),
    };
    return attempt;
  }

  /** a leg of another technology answered: its endpoint and ours exchange frames and digits until one side ends */
  private async bridgeOther(leg: OutboundLeg): Promise<DialResult> {
    if (this.hungUp) {
      leg.hangup('normal');
      return { status: 'CANCEL' };
    }
    if (!this.answered) await this.answer();
    const aLeg = this.media!;
    // a SIP leg (a trunk's call) is joined like our own phones' legs: RTP packet by packet, and
    // its re-INVITEs and UPDATEs (hold, resume, a new codec) relayed both ways instead of refused
    const sip = leg.sip && this.session ? leg.sip : null;
    let bridge: { close(): void; stats?: object };
    if (sip) {
      aLeg.source = null;
      const b = new DialBridge(
        this.deps.ua,
        { a: { dialog: this.leg.dialog, session: this.session! }, b: { dialog: sip.leg.dialog, session: sip.session } },
        this.deps.log,
        this.name,
      );
      this.leg.bridge = { inDialog: (tx, req) => b.inDialog('a', tx, req), onAck: (ack) => b.onAck('a', ack) };
      sip.leg.bridge = { inDialog: (tx, req) => b.inDialog('b', tx, req), onAck: (ack) => b.onAck('b', ack) };
      bridge = b;
    } else bridge = new EndpointBridge(aLeg, leg.endpoint);
    // hold across a frame bridge: the caller's hold re-INVITEs tell the leg (an IAX2 HOLD, say),
    // and while the leg's party holds, the caller hears music on hold (hold-link.ts)
    let parted = (): void => undefined;
    if (!sip && leg.holdLink) {
      const caller: HoldLink = { onHold: null, held: musicWhileHeld(aLeg, this.deps.moh) };
      this.leg.onHoldChange = (held) => caller.onHold?.(held, '');
      parted = joinHold(caller, leg.holdLink);
    }
    this.otherLeg = leg;
    this.dstChannel = leg.name;
    const t0 = Date.now();
    this.deps.log.info('channel-bridged', { channel: this.name, to: leg.number, leg: leg.name, a: aLeg.codec, b: leg.endpoint.codec, relay: sip ? 'rtp' : 'frames' });
    await Promise.race([leg.ended, this.ended]);
    parted();
    this.leg.onHoldChange = null;
    bridge.close();
    if (sip) {
      this.leg.bridge = null;
      sip.leg.bridge = null;
    }
    this.otherLeg = null;
    if (this.hungUp) leg.hangup('normal');
    this.deps.log.info('channel-unbridged', { channel: this.name, leg: leg.name, ...(bridge.stats ?? {}) });
    this.dialStatus = 'ANSWER';
    if (!this.hungUp) this.emitPhase('answered', { toExtension: '' });
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  /** the contacts of every SIP/PJSIP target that is one of our extensions */
  private dialBranches(targets: DialTarget[]): DialBranchTarget[] {
    const ua = this.deps.ua;
    const branches: DialBranchTarget[] = [];
    for (const t of targets) {
      const tech = t.tech.toUpperCase();
      if (tech !== 'SIP' && tech !== 'PJSIP') continue;
      let ext = ua.extension(t.resource);
      if (!ext) continue;
      // call diversion: do-not-disturb rings nothing; an unconditional forward rings the target (one hop)
      const dv = ua.diversionOf?.(ext.number);
      if (dv?.dnd) {
        this.deps.log.info('dial-dnd', { channel: this.name, to: ext.number });
        this.dndSkipped++;
        continue;
      }
      const fwd = dv?.always ? ua.extension(dv.always) : undefined;
      if (fwd) {
        this.deps.log.info('dial-forwarded', { channel: this.name, to: ext.number, target: fwd.number, why: 'always' });
        ext = fwd;
      }
      for (const b of ua.contacts(ext.number)) branches.push({ number: ext.number, binding: b });
    }
    return branches;
  }

  /** the callee answered: bridge both legs in the media engine (transcoding when they chose different codecs) until one ends */
  private async bridgeTo(leg: AnsweredLeg, bSession: MediaSession, answerSdp: Buffer | undefined): Promise<DialResult> {
    const bLeg = bSession.leg;
    if (this.hungUp) {
      leg.hangup();
      bLeg.close();
      return { status: 'CANCEL' };
    }
    try {
      bSession.takeAnswer(answerSdp ?? Buffer.alloc(0));
    } catch (err) {
      this.deps.log.info('dial-bad-answer', { channel: this.name, error: (err as Error).message });
      leg.hangup();
      bLeg.close();
      return this.dialDone('CHANUNAVAIL');
    }
    return this.runBridge(leg, bSession);
  }

  /**
   * An INVITE with Replaces (RFC 3891) made this channel: the phone takes
   * the place of the replaced dialog's party, and `far` (that party's
   * other side, its media already Palisade's) is bridged with it here.
   */
  async adoptFar(far: FarParty, how: string): Promise<void> {
    this.lastApp = 'Transfer';
    this.lastData = `SIP/${far.leg.number}`;
    this.vars.set('REPLACES', how);
    if (this.hungUp) {
      far.leg.hangup();
      far.session.leg.close();
      return;
    }
    await this.runBridge(far.leg, far.session);
  }

  /** the caller answered (if not yet) and bridged with `leg` until one side ends */
  private async runBridge(leg: AnsweredLeg, bSession: MediaSession): Promise<DialResult> {
    const bLeg = bSession.leg;
    if (!this.answered) await this.answer();
    const aLeg = this.media!;
    aLeg.source = null;
    const t0 = Date.now();
    this.joinFar(leg, bSession);
    this.deps.log.info('channel-bridged', { channel: this.name, to: leg.number, a: aLeg.codec, b: bLeg.codec });
    // until one side ends; a transfer by the callee (channel-transfer.ts) puts another far leg in its place
    for (;;) {
      const far = this.far!;
      await Promise.race([far.leg.ended, this.ended, far.detached]);
      // a transfer by feature code may bring the next far party after this one left
      while (!this.hungUp && this.swapping) await this.swapping;
      if (this.hungUp || this.far === far) break;
    }
    const far = this.far!;
    this.far = null;
    this.stopHoldMusic();
    far.bridge.close();
    this.bridgedLeg = null;
    this.leg.bridge = null;
    // a far party an attended transfer took elsewhere (detachFar) is not ours to end
    if (!far.gone) {
      far.leg.bridge = null;
      far.leg.onRefer = null;
      if (this.hungUp) far.leg.hangup();
      far.session.leg.close();
    }
    this.dialStatus = 'ANSWER';
    this.dstChannel = far.trunkLeg ?? `SIP/${far.leg.number}`;
    if (!this.hungUp) this.emitPhase('answered', { toExtension: '' });
    // a blind transfer to a service (parking): the caller is the service's until it is done
    const handed = this.handedOff;
    this.handedOff = null;
    if (handed && !this.hungUp) await handed;
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  /** pickup: the ringing Dial() is given up and the caller answered by `by` instead */
  private pickedUp(dial: OutboundDial, by: Channel): Promise<boolean> {
    if (this.dialing !== dial || this.picker || this.hungUp || by.hungUp) return Promise.resolve(false);
    return new Promise<boolean>((done) => {
      this.picker = { by, done };
      dial.cancel();
    });
  }

  /** the picker's channel and ours exchange frames and digits until one ends */
  private async bridgePicked(p: { by: Channel; done: (ok: boolean) => void }): Promise<DialResult> {
    if (this.hungUp || p.by.hungUp) {
      p.done(false);
      return this.dialDone('CANCEL');
    }
    if (!this.answered) await this.answer();
    const bridge = new EndpointBridge(this.media!, p.by.endpoint);
    this.dstChannel = p.by.name;
    this.dialStatus = 'ANSWER';
    const t0 = Date.now();
    this.emitPhase('answered', { toExtension: p.by.peer.account ?? '' });
    this.deps.log.info('channel-picked-up', { channel: this.name, by: p.by.name, extension: p.by.peer.account ?? '' });
    await Promise.race([p.by.ended, this.ended]);
    bridge.close();
    if (!this.hungUp) this.emitPhase('answered', { toExtension: '' });
    p.done(true);
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  /**
   * Pickup of a direct call (sip-channel-factory.ts): this channel holds the
   * caller's INVITE that rang another extension; it is answered now and
   * joined with the picker's channel `by` until one of them ends.
   */
  async joinPicker(by: Channel): Promise<void> {
    this.lastApp = 'Pickup';
    this.lastData = by.peer.account ?? by.name;
    const p = { by, done: () => undefined };
    await this.bridgePicked(p);
  }

  /**
   * A blind transfer by the far party to a service (channel-transfer.ts):
   * the bridge opens, the service takes the caller and may speak to the
   * transferor first; then the transferor is let go (`release`: NOTIFY 200)
   * and hung up. False when there is no bridge or the service refuses.
   */
  async handOver(service: TransferService, number: string, release: () => void): Promise<boolean> {
    const far = this.far;
    if (!far || this.hungUp) return false;
    const t = service.take(this, number, { number: far.leg.number, endpoint: far.session.leg });
    if (!t) return false;
    far.bridge.close();
    this.leg.bridge = null;
    far.leg.bridge = null;
    far.leg.onRefer = null;
    this.handedOff = t.done;
    await Promise.race([t.announced, far.leg.ended, this.ended]);
    release();
    if (this.far === far) far.leg.hangup();
    return true;
  }

  /**
   * the far leg this channel is bridged with now: its media joined to ours,
   * its requests through the bridge; `trunkLeg` names a trunk's call (a
   * transfer to an outside number), which may not transfer the caller on
   */
  private joinFar(leg: AnsweredLeg, session: MediaSession, trunkLeg?: string): void {
    this.stopHoldMusic();
    session.leg.start();
    const bridge = new DialBridge(this.deps.ua, { a: { dialog: this.leg.dialog, session: this.session! }, b: { dialog: leg.dialog, session } }, this.deps.log, this.name);
    let detach!: () => void;
    const detached = new Promise<void>((r) => (detach = r));
    this.far = { leg, session, bridge, since: new Date(), gone: false, detached, detach, trunkLeg };
    this.bridgedLeg = leg;
    // the CDR names whoever the caller talks to now, even when the caller hangs up first
    // (a caller's hangup writes the CDR before the bridge loop resumes)
    this.dstChannel = trunkLeg ?? `SIP/${leg.number}`;
    this.dialStatus = 'ANSWER';
    this.leg.bridge = { inDialog: (tx, req) => bridge.inDialog('a', tx, req), onAck: (ack) => bridge.onAck('a', ack) };
    leg.onInfo = null;
    leg.bridge = { inDialog: (tx, req) => bridge.inDialog('b', tx, req), onAck: (ack) => bridge.onAck('b', ack) };
    // an outside party (a trunk's call) is no extension: its REFERs are declined and its digits are no feature codes
    leg.onRefer = trunkLeg ? null : (tx, req) => this.transfers.fromFar(leg, tx, req);
    // a trunk's caller proves no extension: nothing of ours may be transferred by it
    this.leg.onRefer = this.origin ? null : (tx, req) => this.transfers.fromCaller(this.callerIdNum, tx, req);
    this.emitPhase('answered', { toExtension: trunkLeg ? '' : leg.number });
    if (!trunkLeg) this.deps.features?.bridged(this.bridgedCall(leg, session));
  }

  /** the bridge with `leg` as feature codes drive it (channel-features.ts) */
  private bridgedCall(leg: AnsweredLeg, session: MediaSession): BridgedCall {
    const current = () => this.far?.leg === leg && !this.hungUp;
    return {
      channel: this,
      options: this.dialOptions,
      far: { number: leg.number, endpoint: session.leg },
      ended: Promise.race([leg.ended, this.ended.then(() => undefined)]),
      hold: () => {
        if (!current() || this.holdMusic) return;
        this.session!.leg.unbridge();
        const files = this.deps.moh.load('default');
        const p = files.length ? new Player(files, true) : null;
        const aLeg = this.media!;
        aLeg.source = p;
        this.holdMusic = () => {
          p?.stop();
          if (aLeg.source === p) aLeg.source = null;
        };
      },
      resume: () => {
        if (!current()) return;
        this.stopHoldMusic();
        session.leg.source = null;
        this.session!.leg.bridge(session.leg);
      },
      transfer: (target) => (current() ? this.swap(this.transfers.byDigits(leg, target)) : Promise.resolve('FAILURE')),
      consult: async (target) => {
        if (!current()) return null;
        let resolve!: () => void;
        const swapping = new Promise<void>((r) => (resolve = r));
        const done = () => {
          if (this.swapping === swapping) this.swapping = null;
          resolve();
        };
        this.swapping = swapping;
        const c = await this.transfers.consult(leg, session, target, done);
        if (!c) done();
        return c;
      },
    };
  }

  /** the bridge waits for `p` when the far party leaves meanwhile */
  private async swap<T>(p: Promise<T>): Promise<T> {
    const mine: Promise<void> = p.then(
      () => {
        if (this.swapping === mine) this.swapping = null;
      },
      () => {
        if (this.swapping === mine) this.swapping = null;
      },
    );
    this.swapping = mine;
    return p;
  }

  private stopHoldMusic(): void {
    this.holdMusic?.();
    this.holdMusic = null;
  }

  /** the far party's media leg, as a consultation bridges it elsewhere */
  get farSession(): MediaSession | null {
    return this.far?.session ?? null;
  }

  /**
   * A transfer by the far party succeeded: `leg` takes its place. The old
   * bridge and media leg go, the transferor gets BYE, and the bridge loop
   * in bridgeTo() goes on with the new leg.
   */
  replaceFar(leg: AnsweredLeg, session: MediaSession, trunkLeg?: string): void {
    const old = this.far;
    if (!old || this.hungUp) {
      leg.hangup();
      session.leg.close();
      return;
    }
    old.bridge.close();
    old.leg.bridge = null;
    old.leg.onRefer = null;
    this.joinFar(leg, session, trunkLeg);
    old.leg.hangup();
    old.session.leg.close();
  }

  /**
   * A transfer takes the far party elsewhere (to another channel's bridge,
   * or joined with another party): its leg and media leave this bridge
   * alive, the bridge loop in bridgeTo() ends, and the caller is alone
   * (the transfer hangs the channel up next). Null when nothing is bridged.
   */
  detachFar(): FarParty | null {
    const far = this.far;
    if (!far || far.gone || this.hungUp) return null;
    far.gone = true;
    this.stopHoldMusic();
    far.bridge.close();
    this.leg.bridge = null;
    far.leg.bridge = null;
    far.leg.onRefer = null;
    this.bridgedLeg = null;
    far.detach();
    return { leg: far.leg, session: far.session, trunkLeg: far.trunkLeg };
  }

  /**
   * An attended transfer joins this channel's caller with the caller of
   * another channel (channel-transfer.ts): the caller's dialog and media
   * leave the channel alive — the same dialog driven as an answered leg,
   * the channel's own media leg — and the bridge with the far party opens.
   * The transfer hangs the channel up next: the far party gets BYE, the
   * caller nothing. Null when there is no answered caller bridged in a Dial().
   */
  detachCaller(): FarParty | null {
    const far = this.far;
    if (this.hungUp || this.callerGone || !this.answered || !this.session || !this.media || !far || far.gone) return null;
    this.stopHoldMusic();
    far.bridge.close();
    far.leg.bridge = null;
    this.leg.bridge = null;
    this.media.source = null;
    this.callerGone = true;
    // the SipLeg lets go of the dialog before the answered leg takes it (both key it by Call-ID and our tag)
    this.leg.close();
    return { leg: new AnsweredLeg(this.deps.ua, this.leg.dialog, this.callerIdNum), session: this.session };
  }

  get callerDialog(): Dialog {
    return this.leg.dialog;
  }

  /** the number of the far party bridged now, '' when none */
  get farNumber(): string {
    return this.far && !this.far.gone ? this.far.leg.number : '';
  }

  /** which of this channel's dialogs a Replaces names (RFC 3891 §3: Call-ID, our tag, the phone's tag), if any */
  dialogNamed(r: ReplacesId): 'caller' | 'far' | undefined {
    if (this.hungUp) return undefined;
    const match = (d: { callId: string; localTag: string; remoteTag: string }) => d.callId === r.callId && d.localTag === r.toTag && d.remoteTag === r.fromTag;
    if (this.answered && match(this.leg.dialog)) return 'caller';
    if (this.far && !this.far.gone && match(this.far.leg.dialog)) return 'far';
    return undefined;
  }

  replaced(r: ReplacesId): ChannelDialogMatch | undefined {
    return this.deps.replaceable?.(r);
  }

  /**
   * Transfer() (TransferableChannel, channel-transfer.ts): an answered call
   * is asked to move by REFER to the caller's phone, which calls `target`
   * itself (as itself: the call gate judges that call like any other).
   */
  async transferTo(target: string): Promise<'SUCCESS' | 'FAILURE' | 'UNSUPPORTED'> {
    if (this.hungUp || !this.answered) return 'UNSUPPORTED';
    const ok = await this.leg.refer(target);
    this.deps.log.info('channel-transfer-requested', { channel: this.name, to: target, accepted: ok });
    return ok ? 'SUCCESS' : 'FAILURE';
  }

  remoteOf(): Remote {
    return this.remote;
  }

  get farSince(): Date | null {
    return this.far?.since ?? null;
  }

  /** a new media leg for a far party (Dial(), a transfer's target) */
  newFarSession(): MediaSession {
    return new MediaSession(new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, 0), this.deps.mediaAddress);
  }

  /** INFO DTMF from the caller while bridged goes on to the callee as INFO */
  private relayInfo(req: SipMessage): void {
    const leg = this.bridgedLeg;
    if (!leg) return;
    this.deps.ua.sendInDialog(leg.dialog, 'INFO', { body: req.body, contentType: req.get('content-type') });
  }
}

/** the far leg bridged with a channel now, with its media and bridge */
interface FarBridge {
  leg: AnsweredLeg;
  session: MediaSession;
  bridge: DialBridge;
  since: Date;
  /** taken elsewhere by a transfer (detachFar): the channel no longer ends it */
  gone: boolean;
  detached: Promise<void>;
  detach(): void;
  /** the far party is a trunk's call (an outside number a transfer reached): its leg's name */
  trunkLeg?: string;
}

type NativeOutcome = { status: 'ANSWER'; native: { leg: AnsweredLeg; session: MediaSession; answerSdp: Buffer | undefined } } | { status: Exclude<DialResult['status'], 'ANSWER'> };

type AnyOutcome = NativeOutcome | DialOutcome;

/** a Dial() technology's attempt, or our extensions' phones rung natively */
interface RingAttempt {
  readonly result: Promise<AnyOutcome>;
  onRinging?: (() => void) | null;
  cancel(): void;
}

type Won = { status: 'ANSWER'; winner: RingAttempt; outcome: AnyOutcome } | { status: Exclude<DialResult['status'], 'ANSWER'>; winner: null };

/** Asterisk's order when every target failed: busy, then congestion, then no answer, then unavailable */
const FAILURE_RANK: Record<string, number> = { BUSY: 5, CONGESTION: 4, NOANSWER: 3, CANCEL: 2, CHANUNAVAIL: 1, INVALIDARGS: 0 };

/** the first attempt to answer, or the most telling failure once all failed */
function firstAnswer(attempts: RingAttempt[]): Promise<Won> {
  return new Promise((resolve) => {
    let left = attempts.length;
    let worst: Exclude<DialResult['status'], 'ANSWER'> = 'CHANUNAVAIL';
    let done = false;
    for (const a of attempts) {
      void a.result.then(
        (r) => {
          if (done) {
            // another answered first: this late answer is hung up
            if (r.status === 'ANSWER') dropLate(r);
            return;
          }
          if (r.status === 'ANSWER') {
            done = true;
            resolve({ status: 'ANSWER', winner: a, outcome: r });
            return;
          }
          if ((FAILURE_RANK[r.status] ?? 0) > (FAILURE_RANK[worst] ?? 0)) worst = r.status;
          if (--left === 0) {
            done = true;
            resolve({ status: worst, winner: null });
          }
        },
        () => {
          if (--left === 0 && !done) {
            done = true;
            resolve({ status: worst, winner: null });
          }
        },
      );
    }
  });
}

function dropLate(r: AnyOutcome): void {
  if ('native' in r) {
    r.native.leg.hangup();
    r.native.session.leg.close();
  } else if ('leg' in r) r.leg.hangup('normal');
}
