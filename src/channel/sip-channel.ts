// The SIP channel: a Channel (channel.ts) over an incoming INVITE that the
// dialplan handles. Palisade is the UAS and terminates the media itself:
// the signalling is a SipLeg (sip-leg.ts), the media an RTP endpoint
// (src/media/media-leg.ts) that the media services work on
// (endpoint-media.ts), and dial() rings extensions (sip-dial.ts) and bridges
// the legs in the media engine (dial-bridge.ts). It reaches the SIP layer
// only through the B2BUA's SipLegHost.
import type { SipMessage } from '../sip/message/sip-message.js';
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
import { OutboundDial, type AnsweredLeg, type DialBranchTarget } from './sip-dial.js';
import { DialBridge } from './dial-bridge.js';
import { SipLeg } from './sip-leg.js';
import { channelCdr } from './channel-cdr.js';
import type { Channel, ChannelPeer, DialOptions, DialResult, DialTarget, HangupCause } from './channel.js';
import { channelQuality, watchChannelOneWay } from './channel-quality.js';
import type { QualityThresholds } from '../media/quality/call-quality.js';
import type { CallEvent, CallPhase } from '../core/call-events.js';

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
  /** call and device-state events (src/core/call-events.ts) */
  callEvents?: CallEventSink;
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
  lastApp = '';
  lastData = '';
  dialStatus = '';
  /** quality flags raised while the call is up (one-way-a) */
  private readonly qualityFlags: string[] = [];
  private stopOneWay: (() => void) | null = null;

  constructor(
    private readonly deps: SipChannelDeps,
    tx: ServerTxHandle,
    private readonly invite: SipMessage,
    readonly remote: Remote,
    readonly caller: ExtensionInfo,
    readonly dialed: string,
  ) {
    const seq = ++channelSeq;
    this.id = `${Math.floor(Date.now() / 1000)}.c${seq}`;
    this.name = `SIP/${caller.number}-${seq.toString(16).padStart(8, '0')}`;
    this.callerIdNum = caller.number;
    this.callerIdName = invite.from.displayName ?? caller.name;
    this.context = caller.context;
    this.peer = { transport: remote.transport, address: remote.address, port: remote.port, account: caller.number };
    this.ended = new Promise((r) => (this.endedResolve = r));
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
      if (this.bridgedLeg) return; // the far leg's audio flows directly
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
    this.leg.answer(this.localSdp());
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
    if (this.answered) this.leg.bye();
    else this.leg.refuse(...CAUSE_STATUS[cause]);
    this.finish(cause);
  }

  /** release everything once, resolve `ended`, write the CDR */
  private finish(cause: HangupCause): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.leg.close();
    this.dialing?.cancel();
    this.bridgedLeg?.hangup();
    const rtp = this.media ? { ...this.media.ep.stats, jitter: Math.round(this.media.ep.stats.jitter) } : null;
    this.stopOneWay?.();
    const quality = channelQuality(this.media?.ep.quality ?? null, this.deps.quality?.(), this.deps.log, this.name, this.qualityFlags);
    this.media?.close();
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
    if (this.hungUp) return { status: 'CANCEL' };
    const branches = this.dialBranches(targets);
    if (branches.length === 0) return this.dialDone('CHANUNAVAIL');
    this.emitPhase('ringing', { toExtension: branches[0]!.number });
    // the caller's leg: answered now or when the callee answers
    const aLeg = this.ensureMedia();
    let bSession: MediaSession;
    try {
      bSession = new MediaSession(new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, 0), this.deps.mediaAddress);
    } catch (err) {
      this.deps.log.warn('dial-no-media', { channel: this.name, error: (err as Error).message });
      return this.dialDone('CONGESTION');
    }
    const dial = new OutboundDial(this.deps.ua, {
      targets: branches,
      offer: bSession.offer(),
      callerNumber: this.callerIdNum,
      callerName: this.callerIdName,
      timeoutMs: o.timeoutMs,
      onRinging: () => {
        if (!this.answered && !o.options.includes('m')) void this.ring();
      },
    });
    this.dialing = dial;
    if (o.options.includes('r') && !this.answered) void this.ring();
    const mohStop = o.options.includes('m') ? await this.ringbackMusic(aLeg) : null;
    const outcome = await dial.result;
    this.dialing = null;
    mohStop?.();
    if (outcome.status !== 'ANSWER' || !outcome.leg) {
      bSession.leg.close();
      return this.dialDone(outcome.status);
    }
    return this.bridgeTo(outcome.leg, bSession, outcome.answerSdp);
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

  /** the contacts of every SIP/PJSIP target that is one of our extensions */
  private dialBranches(targets: DialTarget[]): DialBranchTarget[] {
    const ua = this.deps.ua;
    const branches: DialBranchTarget[] = [];
    for (const t of targets) {
      const tech = t.tech.toUpperCase();
      if (tech !== 'SIP' && tech !== 'PJSIP') continue;
      const ext = ua.extension(t.resource);
      if (!ext) continue;
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
    if (!this.answered) await this.answer();
    const aLeg = this.media!;
    aLeg.source = null;
    bLeg.start();
    const bridge = new DialBridge(this.deps.ua, { a: { dialog: this.leg.dialog, session: this.session! }, b: { dialog: leg.dialog, session: bSession } }, this.deps.log, this.name);
    this.bridgedLeg = leg;
    this.leg.bridge = { inDialog: (tx, req) => bridge.inDialog('a', tx, req), onAck: (ack) => bridge.onAck('a', ack) };
    leg.onInfo = null;
    leg.bridge = { inDialog: (tx, req) => bridge.inDialog('b', tx, req), onAck: (ack) => bridge.onAck('b', ack) };
    const t0 = Date.now();
    this.emitPhase('answered', { toExtension: leg.number });
    this.deps.log.info('channel-bridged', { channel: this.name, to: leg.number, a: aLeg.codec, b: bLeg.codec });
    await Promise.race([leg.ended, this.ended]);
    bridge.close();
    this.bridgedLeg = null;
    this.leg.bridge = null;
    leg.bridge = null;
    if (this.hungUp) leg.hangup();
    bLeg.close();
    this.dialStatus = 'ANSWER';
    if (!this.hungUp) this.emitPhase('answered', { toExtension: '' });
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  /** INFO DTMF from the caller while bridged goes on to the callee as INFO */
  private relayInfo(req: SipMessage): void {
    const leg = this.bridgedLeg;
    if (!leg) return;
    this.deps.ua.sendInDialog(leg.dialog, 'INFO', { body: req.body, contentType: req.get('content-type') });
  }
}
