// The SIP channel: a Channel (channel.ts) over an incoming INVITE that the
// dialplan handles. Palisade is the UAS and terminates the media itself
// (src/media/media-leg.ts): answer() sends 200 OK with SDP from our own RTP
// endpoint, prompts are played from the prompt store, DTMF arrives by
// RFC 4733, SIP INFO or in-band tones, and dial() rings extensions and
// bridges the legs in the media engine.
import { buildResponse } from '../sip/message/response.js';
import type { SipMessage } from '../sip/message/sip-message.js';
import { Dialog, newToken } from '../sip/dialog/dialog.js';
import type { Remote } from '../transport/types.js';
import type { B2bua } from '../sip/b2bua/b2bua.js';
import type { DialogOwner, ExtensionInfo, ServerTxHandle } from '../sip/b2bua/types.js';
import type { Logger } from '../observability/logger.js';
import { MediaLeg, type DigitSource } from '../media/media-leg.js';
import { negotiateOffer } from '../media/media-sdp.js';
import { MediaSession, type ReadOffer } from '../media/media-session.js';
import type { RtpEndpointStats, SocketPair } from '../media/rtp/rtp-endpoint.js';
import { Player } from '../media/player/player.js';
import type { PromptStore } from '../media/prompts/prompt-store.js';
import { sayDigitsPrompts, sayNumberPrompts } from '../media/prompts/say.js';
import type { MusicOnHold } from '../media/player/music-on-hold.js';
import { MixParticipant, type MixerRegistry } from '../media/mixer/mixer.js';
import { WavWriter } from '../media/recorder/wav-writer.js';
import { MixMonitor } from '../media/recorder/mix-monitor.js';
import { SilenceDetector } from '../media/recorder/silence-detector.js';
import { parseDtmfInfo } from '../media/dtmf/sip-info-dtmf.js';
import { OutboundDial, type AnsweredLeg, type DialBranchTarget } from './sip-dial.js';
import { DialBridge } from './dial-bridge.js';
import { channelQuality } from './channel-quality.js';
import type { QualityThresholds } from '../media/quality/call-quality.js';
import type {
  Channel,
  ChannelPeer,
  DialOptions,
  DialResult,
  DialTarget,
  HangupCause,
  PlayOptions,
  PlayResult,
  ReadDigitsOptions,
  RecordOptions,
  RecordResult,
} from './channel.js';

export interface SipChannelDeps {
  ua: B2bua;
  allocatePair(): SocketPair;
  /** the address advertised in our SDP */
  mediaAddress: string;
  prompts: PromptStore;
  moh: MusicOnHold;
  mixers: MixerRegistry;
  log: Logger;
  /** end the call when no RTP arrived for this long (0 = never) */
  rtpTimeoutMs: number;
  /** the `quality:` thresholds (defaults when absent) */
  quality?: QualityThresholds;
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

export class SipChannel implements Channel, DialogOwner {
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
  private readonly dialog: Dialog;
  private media: MediaLeg | null = null;
  /** the offer in the INVITE (null for a late offer: ours goes in the 200) */
  private offer: ReadOffer | null = null;
  private session: MediaSession | null = null;
  private ok2xx?: { stop(): void };
  private acked = false;
  private readonly digits: string[] = [];
  private digitWaiters: Array<(d: string | null) => void> = [];
  private player: Player | null = null;
  private mixMonitor: MixMonitor | null = null;
  private dialing: OutboundDial | null = null;
  private bridgedLeg: AnsweredLeg | null = null;
  private bridge: DialBridge | null = null;
  lastApp = '';
  lastData = '';
  dialStatus = '';

  constructor(
    private readonly deps: SipChannelDeps,
    private readonly tx: ServerTxHandle,
    private readonly invite: SipMessage,
    readonly remote: Remote,
    readonly caller: ExtensionInfo,
    readonly dialed: string,
  ) {
    const ua = deps.ua;
    const seq = ++channelSeq;
    this.id = `${Math.floor(Date.now() / 1000)}.c${seq}`;
    this.name = `SIP/${caller.number}-${seq.toString(16).padStart(8, '0')}`;
    this.callerIdNum = caller.number;
    this.callerIdName = invite.from.displayName ?? caller.name;
    this.context = caller.context;
    this.peer = { transport: remote.transport, address: remote.address, port: remote.port, account: caller.number };
    this.ended = new Promise((r) => (this.endedResolve = r));
    const contact = invite.contacts[0];
    this.dialog = new Dialog({
      callId: invite.callId,
      localTag: newToken(),
      remoteTag: invite.from.params.tag ?? '',
      localUri: (invite.get('to') ?? '').replace(/;\s*tag=[^;]*/i, ''),
      remoteUri: (invite.get('from') ?? '').replace(/;\s*tag=[^;]*/i, ''),
      remoteTarget: contact ? contact.uri.raw : invite.from.uri.raw,
      routeSet: invite.getAll('record-route'), // RFC 3261 §12.1.1
      localCseq: 0,
      remoteCseq: invite.cseq.seq,
      remote,
      localContact: ua.contactFor(remote, dialed || 'palisade'),
    });
    ua.ownInvite(invite.callId, this.dialog.remoteTag, this);
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
        this.finalResponse(488, 'Not Acceptable Here');
        this.finish('failure');
        return false;
      }
    } // else a late offer: we offer in the 200
    try {
      this.ensureMedia();
    } catch (err) {
      // the RTP port range is used up (PAL_ERR_RTP_PORTS_EXHAUSTED): try again later
      this.deps.log.warn('channel-no-media', { channel: this.name, error: (err as Error).message });
      this.tx.respond(buildResponse(this.invite, 503, 'Service Unavailable', { toTag: this.dialog.localTag, server: this.deps.ua.cfg.userAgent, headers: [['retry-after', '5']] }));
      this.finish('congestion');
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------- signalling

  private ensureMedia(): MediaLeg {
    if (this.media) return this.media;
    const m = new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, this.deps.rtpTimeoutMs);
    m.onDigit = (d, via) => this.onDigit(d, via);
    m.onRtpTimeout = () => {
      if (this.bridgedLeg) return; // the far leg's audio flows directly
      this.deps.log.info('channel-rtp-timeout', { channel: this.name });
      void this.hangup('normal');
    };
    if (this.offer) m.configure(this.offer.media);
    this.media = m;
    this.session = new MediaSession(m, this.deps.mediaAddress);
    return m;
  }

  /** the SDP of our 183/200: the answer to the INVITE's offer, or our offer when it had none */
  private localSdp(): Buffer {
    this.ensureMedia();
    const s = this.session!;
    return this.offer ? s.answer(this.offer) : s.offer();
  }

  private buildA(status: number, reason: string, body?: Buffer): SipMessage {
    const res = buildResponse(this.invite, status, reason, {
      toTag: this.dialog.localTag,
      server: this.deps.ua.cfg.userAgent,
      body,
      contentType: body ? 'application/sdp' : undefined,
    });
    if (status > 100 && status < 300) {
      res.headers.push({ name: 'contact', value: this.dialog.localContact });
      res.headers.push({ name: 'allow', value: this.deps.ua.allow });
      for (const rr of this.invite.getAll('record-route')) res.headers.push({ name: 'record-route', value: rr });
    }
    return res;
  }

  private finalResponse(status: number, reason: string): void {
    this.tx.respond(this.buildA(status, reason));
  }

  async answer(): Promise<void> {
    if (this.answered || this.hungUp) return;
    const body = this.localSdp();
    const ok = this.buildA(200, 'OK', body);
    this.tx.respond(ok);
    this.answered = true;
    this.answerAt = new Date();
    const ua = this.deps.ua;
    ua.ownDialog(this.dialog.callId, this.dialog.localTag, this);
    // RFC 3261 §13.3.1.4: resend the 2xx until the ACK; none within 64*T1 → BYE
    this.ok2xx = ua.deps.tx.retransmit2xx(ok, this.remote, () => {
      if (!this.acked) void this.hangup('failure');
    });
    this.media!.start();
    this.deps.log.info('channel-answered', { channel: this.name, codec: this.media!.codec, rtp: this.media!.port });
  }

  async ring(): Promise<void> {
    if (this.answered || this.hungUp) return;
    this.tx.respond(this.buildA(180, 'Ringing'));
  }

  /** 183 Session Progress with our SDP: early media (prompts before answer) */
  async progress(): Promise<void> {
    if (this.answered || this.hungUp) return;
    if (!this.offer) return this.ring(); // a late offer cannot carry early media
    this.tx.respond(this.buildA(183, 'Session Progress', this.localSdp()));
    this.media!.start();
  }

  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    if (this.answered) {
      const bye = this.dialog.createRequest('BYE', { userAgent: this.deps.ua.cfg.userAgent });
      this.deps.ua.deps.tx.sendRequest(bye, this.dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
    } else {
      const [status, reason] = CAUSE_STATUS[cause];
      this.finalResponse(status, reason);
    }
    this.finish(cause);
  }

  /** release everything once, resolve `ended`, write the CDR */
  private finish(cause: HangupCause): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.ok2xx?.stop();
    this.player?.stop();
    this.dialing?.cancel();
    this.bridgedLeg?.hangup();
    this.stopMixMonitor();
    const rtp = this.media ? { ...this.media.ep.stats, jitter: Math.round(this.media.ep.stats.jitter) } : null;
    const quality = channelQuality(this.media?.ep.quality ?? null, this.deps.quality, this.deps.log, this.name);
    this.media?.close();
    const ua = this.deps.ua;
    ua.releaseDialog(this.dialog.callId, this.dialog.localTag);
    ua.releaseDialog(this.dialog.callId, this.dialog.remoteTag);
    for (const w of this.digitWaiters.splice(0)) w(null);
    this.endedResolve(cause);
    const end = new Date();
    try {
      ua.deps.cdr.write({
        accountcode: '',
        src: this.callerIdNum,
        dst: this.dialed,
        dcontext: this.context,
        clid: `"${this.callerIdName}" <${this.callerIdNum}>`,
        channel: this.name,
        dstchannel: '',
        // the dialplan engine keeps these in LASTAPP/LASTDATA (sensitive arguments masked)
        lastapp: this.lastApp || (this.vars.get('LASTAPP') ?? ''),
        lastdata: this.lastData || (this.vars.get('LASTDATA') ?? ''),
        start: this.start,
        answer: this.answerAt,
        end,
        duration: Math.round((end.getTime() - this.start.getTime()) / 1000),
        billsec: this.answerAt ? Math.round((end.getTime() - this.answerAt.getTime()) / 1000) : 0,
        disposition: this.answerAt ? 'ANSWERED' : cause === 'busy' ? 'BUSY' : cause === 'congestion' ? 'CONGESTION' : cause === 'failure' ? 'FAILED' : 'NO ANSWER',
        amaflags: 'DOCUMENTATION',
        uniqueid: this.id,
        userfield: this.dialStatus ? `DIALSTATUS=${this.dialStatus}` : cause,
        sourceIp: this.remote.address,
        securityVerdict: 'authenticated',
        quality,
      });
    } catch (err) {
      this.deps.log.error('cdr-write-failed', { channel: this.name, error: (err as Error).message });
    }
    // the steps the dialplan took (context,exten,priority:App — never the arguments)
    const path = this.vars.get('DIALPLAN_PATH');
    this.deps.log.info('channel-ended', { channel: this.name, cause, rtp, ...(path ? { path } : {}) });
  }

  // DialogOwner: requests the B2BUA routes to this channel
  onRequest(tx: ServerTxHandle, req: SipMessage): void {
    const server = this.deps.ua.cfg.userAgent;
    // RFC 3261 §12.2.2: out-of-order CSeq → 500
    if (req.cseq.seq <= this.dialog.remoteCseq) {
      tx.respond(buildResponse(req, 500, 'Server Internal Error', { server, headers: [['retry-after', '1']] }));
      return;
    }
    this.dialog.remoteCseq = req.cseq.seq;
    switch (req.method) {
      case 'BYE':
        tx.respond(buildResponse(req, 200, 'OK', { server }));
        this.finish('normal');
        return;
      case 'INFO': {
        const digit = parseDtmfInfo(req.get('content-type'), req.body.toString('utf8'));
        if (digit) {
          if (this.bridgedLeg) this.relayInfo(req);
          else this.onDigit(digit, 'info');
        }
        // an INFO we cannot read: RFC 6086 §4.2.2 answers 415 for an unknown body type
        tx.respond(buildResponse(req, digit || req.body.length === 0 ? 200 : 415, digit || req.body.length === 0 ? 'OK' : 'Unsupported Media Type', { server }));
        return;
      }
      case 'INVITE':
      case 'UPDATE':
        if (req.contacts[0]) this.dialog.remoteTarget = req.contacts[0].uri.raw; // target refresh (RFC 3261 §12.2.2)
        // bridged by Dial(): offered to the other phone (dial-bridge.ts)
        if (this.bridge?.inDialog('a', tx, req)) return;
        this.reoffer(tx, req);
        return;
      default:
        tx.respond(buildResponse(req, 200, 'OK', { server }));
    }
  }

  /**
   * A re-INVITE or UPDATE while no bridge carries it: a new offer (hold, a
   * new address) for our own endpoint, answered here. Without an offer, a
   * re-INVITE's 2xx carries ours and the ACK the answer (RFC 3261 §14.2).
   */
  private reoffer(tx: ServerTxHandle, req: SipMessage): void {
    const server = this.deps.ua.cfg.userAgent;
    this.ensureMedia();
    const session = this.session!;
    let body: Buffer | undefined;
    if (req.body.length) {
      try {
        body = session.answer(negotiateOffer(req.body, this.media?.codec ? [this.media.codec] : undefined));
      } catch {
        tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { server }));
        return;
      }
    } else if (req.method === 'INVITE') body = session.offer(session.direction);
    const res = buildResponse(req, 200, 'OK', { toTag: this.dialog.localTag, server, body, contentType: body ? 'application/sdp' : undefined });
    res.headers.push({ name: 'contact', value: this.dialog.localContact });
    tx.respond(res);
    if (req.method === 'INVITE') {
      this.ok2xx?.stop();
      this.acked = false;
      this.ok2xx = this.deps.ua.deps.tx.retransmit2xx(res, this.remote, () => undefined);
    }
  }

  onAck(ack: SipMessage): void {
    this.acked = true;
    this.ok2xx?.stop();
    this.ok2xx = undefined;
    if (this.bridge) return this.bridge.onAck('a', ack);
    if (this.session?.awaitingAnswer && ack.body.length) {
      // our 2xx carried the offer (late offer, refresh): the ACK the answer (RFC 3261 §13.2.1)
      try {
        this.session.takeAnswer(ack.body);
      } catch (err) {
        this.deps.log.info('channel-bad-answer', { channel: this.name, error: (err as Error).message });
        void this.hangup('failure');
      }
    }
  }

  onCancel(): void {
    if (this.answered || this.hungUp) return;
    this.finalResponse(487, 'Request Terminated');
    this.finish('normal');
  }

  // ------------------------------------------------------------------ DTMF

  private onDigit(d: string, via: DigitSource): void {
    this.deps.log.debug('channel-dtmf', { channel: this.name, via });
    const w = this.digitWaiters.shift();
    if (w) w(d);
    else this.digits.push(d);
  }

  async waitDigit(timeoutMs: number): Promise<string | null> {
    const queued = this.digits.shift();
    if (queued !== undefined) return queued;
    if (this.hungUp) return null;
    return new Promise((resolve) => {
      const w = (d: string | null): void => {
        clearTimeout(t);
        resolve(d);
      };
      const t = setTimeout(() => {
        this.digitWaiters = this.digitWaiters.filter((x) => x !== w);
        resolve(null);
      }, timeoutMs);
      this.digitWaiters.push(w);
    });
  }

  async readDigits(o: ReadDigitsOptions): Promise<string> {
    const terms = o.terminators ?? '#';
    let got = '';
    for (const ch of o.initial ?? '') {
      if (terms.includes(ch)) return got;
      got += ch;
    }
    while (o.maxDigits === 0 || got.length < o.maxDigits) {
      const d = await this.waitDigit(o.timeoutMs);
      if (d === null || terms.includes(d)) break;
      got += d;
    }
    return got;
  }

  /** e.g. "PCMU 127.0.0.1:20002" for `palisade show calls` */
  get mediaDescription(): string {
    return this.media ? `${this.media.codec ?? 'recv-only'} ${this.deps.mediaAddress}:${this.media.port}` : '';
  }

  /** RTP/RTCP counters of this channel's endpoint (null before media exists) */
  get rtpStats(): Readonly<RtpEndpointStats> | null {
    return this.media ? { ...this.media.ep.stats } : null;
  }

  /** send RFC 4733 digits to the caller (not in the Channel interface: tests, SendDTMF) */
  sendDigits(digits: string): boolean {
    return this.media?.sendDigits(digits) ?? false;
  }

  // ----------------------------------------------------------------- audio

  /**
   * Plays sample buffers; stops at an interrupt digit (which is consumed and
   * returned) or hangup. Digits that are not interrupt digits stay queued.
   */
  private async playSamples(items: Int16Array[], opts: PlayOptions | undefined, loop = false, timeoutMs = 0): Promise<PlayResult> {
    if (this.hungUp) return { completed: false };
    if (!this.media) this.ensureMedia();
    const media = this.media!;
    const interrupt = opts?.interruptDigits ?? '';
    if (interrupt) {
      const i = this.digits.findIndex((d) => interrupt.includes(d));
      if (i >= 0) return { completed: true, digit: this.digits.splice(i, 1)[0] };
    }
    this.player?.stop();
    const player = new Player(items, loop);
    this.player = player;
    media.source = player;
    let digit: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stopOnDigit = interrupt
      ? (d: string | null): void => {
          if (d !== null && interrupt.includes(d)) {
            digit = d;
            player.stop();
          } else if (d !== null) {
            this.digits.push(d);
            this.digitWaiters.push(stopOnDigit!);
          }
        }
      : null;
    if (stopOnDigit) this.digitWaiters.push(stopOnDigit);
    if (timeoutMs > 0) timer = setTimeout(() => player.stop(), timeoutMs);
    await Promise.race([player.done, this.ended]);
    clearTimeout(timer);
    player.stop();
    if (stopOnDigit) this.digitWaiters = this.digitWaiters.filter((w) => w !== stopOnDigit);
    if (media.source === player) media.source = null;
    if (this.player === player) this.player = null;
    if (this.hungUp) return { completed: false };
    return digit !== undefined ? { completed: true, digit } : { completed: true };
  }

  async play(files: string[], opts?: PlayOptions): Promise<PlayResult> {
    const items: Int16Array[] = [];
    for (const f of files) {
      try {
        items.push(this.deps.prompts.load(f));
      } catch (err) {
        // Asterisk goes on after a missing file; log it for the administrator
        this.deps.log.warn('prompt-missing', { channel: this.name, prompt: f, error: (err as Error).message });
      }
    }
    return this.playSamples(items, opts);
  }

  sayDigits(digits: string, opts?: PlayOptions): Promise<PlayResult> {
    return this.play(sayDigitsPrompts(digits), opts);
  }

  sayNumber(n: number, opts?: PlayOptions): Promise<PlayResult> {
    return this.play(sayNumberPrompts(n), opts);
  }

  async musicOnHold(className: string, timeoutMs: number): Promise<PlayResult> {
    let files = this.deps.moh.load(className);
    if (files.length === 0) files = this.deps.moh.load('default');
    if (files.length === 0) return this.wait(timeoutMs).then((ok) => ({ completed: ok }));
    return this.playSamples(files, undefined, true, timeoutMs > 0 ? timeoutMs : 0);
  }

  /** Asterisk's Echo(): the caller hears itself until hangup or `ms` (0 = until hangup) */
  async echo(ms = 0): Promise<boolean> {
    if (this.hungUp) return false;
    const media = this.media ?? this.ensureMedia();
    media.echo = true;
    const ok = ms > 0 ? await this.wait(ms) : await this.ended.then(() => false);
    media.echo = false;
    return ok;
  }

  async wait(ms: number): Promise<boolean> {
    if (this.hungUp) return false;
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([new Promise<boolean>((res) => (t = setTimeout(() => res(true), ms))), this.ended.then(() => false)]);
    clearTimeout(t);
    return r;
  }

  async record(o: RecordOptions): Promise<RecordResult> {
    if (this.hungUp) return { durationMs: 0, reason: 'hangup' };
    if (o.beep) await this.play(['beep']);
    if (this.hungUp) return { durationMs: 0, reason: 'hangup' };
    const media = this.media ?? this.ensureMedia();
    const writer = new WavWriter(o.path);
    const silence = new SilenceDetector();
    const stopDigits = o.stopDigits ?? '#';
    return new Promise<RecordResult>((resolve) => {
      let done = false;
      const finish = (reason: RecordResult['reason'], digit?: string): void => {
        if (done) return;
        done = true;
        off();
        clearTimeout(maxTimer);
        this.digitWaiters = this.digitWaiters.filter((w) => w !== onDigit);
        // the trailing silence that ended the recording is not part of the message
        if (reason === 'silence') writer.trimEnd(o.silenceMs ?? 0);
        const durationMs = Math.round(writer.durationMs);
        writer.close();
        resolve(digit !== undefined ? { durationMs, reason, digit } : { durationMs, reason });
      };
      const off = media.tapReceived((pcm) => {
        writer.write(pcm);
        if (o.silenceMs && silence.push(pcm, pcm.length / 8) >= o.silenceMs) finish('silence');
      });
      const onDigit = (d: string | null): void => {
        if (d === null) return;
        if (stopDigits.includes(d)) finish('digit', d);
        else this.digitWaiters.push(onDigit);
      };
      this.digitWaiters.push(onDigit);
      const maxTimer = setTimeout(() => finish('max'), o.maxMs);
      void this.ended.then(() => finish('hangup'));
    });
  }

  startMixMonitor(path: string): void {
    if (this.mixMonitor || this.hungUp) return;
    this.mixMonitor = new MixMonitor(this.media ?? this.ensureMedia(), path);
  }

  stopMixMonitor(): void {
    this.mixMonitor?.stop();
    this.mixMonitor = null;
  }

  // ------------------------------------------------------------ dial, conf

  async dial(targets: DialTarget[], o: DialOptions): Promise<DialResult> {
    if (this.hungUp) return { status: 'CANCEL' };
    const ua = this.deps.ua;
    const branches = this.dialBranches(targets);
    if (branches.length === 0) {
      this.dialStatus = 'CHANUNAVAIL';
      return { status: 'CHANUNAVAIL' };
    }
    // the caller's leg: answered now or when the callee answers
    const aLeg = this.media ?? this.ensureMedia();
    let bSession: MediaSession;
    try {
      bSession = new MediaSession(new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, 0), this.deps.mediaAddress);
    } catch (err) {
      this.deps.log.warn('dial-no-media', { channel: this.name, error: (err as Error).message });
      this.dialStatus = 'CONGESTION';
      return { status: 'CONGESTION' };
    }
    let mohStop: (() => void) | null = null;
    const dial = new OutboundDial(ua, {
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
    if (o.options.includes('m')) {
      const files = this.deps.moh.load('default');
      if (files.length) {
        if (!this.answered) await this.progress();
        const p = new Player(files, true);
        aLeg.source = p;
        mohStop = () => {
          p.stop();
          if (aLeg.source === p) aLeg.source = null;
        };
      }
    }
    const outcome = await dial.result;
    this.dialing = null;
    mohStop?.();
    if (outcome.status !== 'ANSWER' || !outcome.leg) {
      bSession.leg.close();
      this.dialStatus = outcome.status;
      return { status: outcome.status };
    }
    return this.bridgeTo(outcome.leg, bSession, outcome.answerSdp);
  }

  /** the contacts of every SIP/PJSIP target that is one of our extensions */
  private dialBranches(targets: DialTarget[]): DialBranchTarget[] {
    const ua = this.deps.ua;
    const branches: DialBranchTarget[] = [];
    for (const t of targets) {
      const tech = t.tech.toUpperCase();
      if (tech !== 'SIP' && tech !== 'PJSIP') continue;
      const ext = ua.deps.extensions.get(t.resource);
      if (!ext) continue;
      for (const b of ua.deps.location.lookup(ext.number)) branches.push({ number: ext.number, binding: b });
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
      this.dialStatus = 'CHANUNAVAIL';
      return { status: 'CHANUNAVAIL' };
    }
    if (!this.answered) await this.answer();
    const aLeg = this.media!;
    this.player?.stop();
    aLeg.source = null;
    bLeg.start();
    const bridge = new DialBridge(this.deps.ua, { a: { dialog: this.dialog, session: this.session! }, b: { dialog: leg.dialog, session: bSession } }, this.deps.log, this.name);
    this.bridge = bridge;
    this.bridgedLeg = leg;
    leg.onInfo = null;
    leg.bridge = { inDialog: (tx, req) => bridge.inDialog('b', tx, req), onAck: (ack) => bridge.onAck('b', ack) };
    const t0 = Date.now();
    this.deps.log.info('channel-bridged', { channel: this.name, to: leg.number, a: aLeg.codec, b: bLeg.codec });
    await Promise.race([leg.ended, this.ended]);
    bridge.close();
    this.bridge = null;
    this.bridgedLeg = null;
    leg.bridge = null;
    if (this.hungUp) leg.hangup();
    bLeg.close();
    this.dialStatus = 'ANSWER';
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  /** INFO DTMF from the caller while bridged goes on to the callee as INFO */
  private relayInfo(req: SipMessage): void {
    const leg = this.bridgedLeg;
    if (!leg) return;
    const out = leg.dialog.createRequest('INFO', { body: req.body, contentType: req.get('content-type'), userAgent: this.deps.ua.cfg.userAgent });
    this.deps.ua.deps.tx.sendRequest(out, leg.dialog.remote, { onResponse: () => undefined, onTimeout: () => undefined });
  }

  async confBridge(room: string): Promise<void> {
    if (this.hungUp) return;
    if (!this.answered) await this.answer();
    const media = this.media!;
    const mix = { frame: null as Int16Array | null };
    const p = new MixParticipant((f) => (mix.frame = f));
    const source = {
      nextFrame: (out: Int16Array): boolean => {
        const f = mix.frame;
        mix.frame = null;
        if (!f) return false;
        out.set(f);
        return true;
      },
    };
    const off = media.tapReceived((pcm) => p.push(pcm));
    if (this.deps.mixers.count(room) === 0) await this.play(['conf-onlyperson']);
    this.deps.mixers.join(room, p);
    media.source = source;
    await this.ended;
    off();
    this.deps.mixers.leave(room, p);
  }
}
