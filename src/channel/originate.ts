// Originate: Palisade places a call itself. An INVITE (with Palisade's own
// SDP) goes to a number — the contacts of one of our extensions, or a
// gateway address with the number in the Request-URI — and once the far
// end answers, the answered party becomes a channel (OriginatedChannel, a
// Channel like any other) that runs in the dialplan at a context and
// extension: Queue(), Playback(), Dial()... with its CDR and call events.
// Protocol-neutral to its users (campaigns, click-to-call): they give a
// number and a dialplan target and get a DialStatus and a Channel.
// docs/architecture.md, "Originate".
import type { Remote } from '../transport/types.js';
import type { CallTicket } from '../sip/b2bua/types.js';
import type { SipMessage } from '../sip-message/sip-message.js';
import { MediaLeg } from '../media/media-leg.js';
import type { MediaEndpoint } from '../media/media-endpoint.js';
import { MediaSession } from '../media/media-session.js';
import { OutboundDial, type AnsweredLeg, type DialBranchTarget } from './sip-dial.js';
import { DialBridge } from './dial-bridge.js';
import { channelCdr } from './channel-cdr.js';
import type { Channel, ChannelPeer, DialOptions, DialResult, DialStatus, DialTarget, HangupCause } from './channel.js';
import type { SipChannelDeps } from './sip-channel.js';
import type { CallEvent, CallPhase } from '../core/call-events.js';

export interface OriginateRequest {
  /** the number called */
  number: string;
  /** send the INVITE here (sip:NUMBER@address:port); absent: the number is one of our extensions and its contacts are rung */
  gateway?: Remote;
  callerIdNum: string;
  callerIdName: string;
  /** where the answered party goes in the dialplan */
  context: string;
  exten: string;
  /** give up ringing after this long (NOANSWER) */
  timeoutMs: number;
  /** channel variables set before the dialplan runs */
  vars?: Record<string, string>;
  /** the call gate's ticket for this call: told answered/ended */
  ticket?: CallTicket;
}

export interface OriginateResult {
  /** Asterisk's DIALSTATUS: ANSWER, BUSY, NOANSWER, CONGESTION, CHANUNAVAIL */
  status: DialStatus;
  /** the answered channel (status ANSWER): it is in the dialplan; `ended` resolves when the call is over */
  channel?: Channel;
  /** the SIP Call-IDs of the INVITEs sent */
  callIds: string[];
}

/** the dialplan runner and the media services the channel is handed to */
export interface OriginateRunner {
  run(channel: Channel): Promise<void>;
}

let originateSeq = 0;

/** places the call; resolves once it is answered (the channel is then running in the dialplan) or failed */
export async function originate(deps: SipChannelDeps, runner: OriginateRunner, r: OriginateRequest): Promise<OriginateResult> {
  const ua = deps.ua;
  const branches: DialBranchTarget[] = [];
  if (r.gateway) {
    const host = r.gateway.address.includes(':') ? `[${r.gateway.address}]` : r.gateway.address;
    branches.push({ number: r.number, binding: { contactUri: `sip:${r.number}@${host}:${r.gateway.port}`, remote: r.gateway } });
  } else {
    const ext = ua.extension(r.number);
    if (ext) for (const b of ua.contacts(ext.number)) branches.push({ number: ext.number, binding: b });
  }
  if (branches.length === 0) {
    r.ticket?.ended(0);
    return { status: 'CHANUNAVAIL', callIds: [] };
  }
  let session: MediaSession;
  try {
    session = new MediaSession(new MediaLeg(deps.allocatePair(), deps.mediaAddress, deps.rtpTimeoutMs), deps.mediaAddress);
  } catch (err) {
    deps.log.warn('originate-no-media', { number: r.number, error: (err as Error).message });
    r.ticket?.ended(0);
    return { status: 'CONGESTION', callIds: [] };
  }
  const start = new Date();
  const dial = new OutboundDial(ua, { targets: branches, offer: session.offer(), callerNumber: r.callerIdNum, callerName: r.callerIdName, timeoutMs: r.timeoutMs });
  deps.log.info('originate', { number: r.number, context: r.context, exten: r.exten, callIds: dial.callIds });
  const outcome = await dial.result;
  if (outcome.status !== 'ANSWER' || !outcome.leg) {
    session.leg.close();
    r.ticket?.ended(0);
    deps.log.info('originate-failed', { number: r.number, status: outcome.status });
    return { status: outcome.status, callIds: dial.callIds };
  }
  try {
    session.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
  } catch (err) {
    deps.log.info('originate-bad-answer', { number: r.number, error: (err as Error).message });
    outcome.leg.hangup();
    session.leg.close();
    r.ticket?.ended(0);
    return { status: 'CHANUNAVAIL', callIds: dial.callIds };
  }
  const remote = branches[0]!.binding.remote;
  const ch = new OriginatedChannel(deps, outcome.leg, session, r, remote, start, ++originateSeq);
  ch.emitPhase('start');
  ch.emitPhase('answered');
  r.ticket?.answered((cause) => {
    deps.log.info('originate-cut', { channel: ch.name, cause });
    void ch.hangup('normal');
  });
  void ch.ended.then(() => r.ticket?.ended(Math.round((Date.now() - ch.answerAt.getTime()) / 1000)));
  deps.log.info('channel-new', { channel: ch.name, exten: r.exten, context: r.context, originated: r.number });
  runner
    .run(ch)
    .catch((err: Error) => deps.log.error('dialplan-failed', { channel: ch.name, error: err.stack ?? err.message }))
    .finally(() => void ch.hangup('normal'));
  return { status: 'ANSWER', channel: ch, callIds: dial.callIds };
}

/** the answered party of an originated call, as a channel in the dialplan */
export class OriginatedChannel implements Channel {
  readonly id: string;
  readonly name: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly dialed: string;
  readonly context: string;
  readonly peer: ChannelPeer;
  readonly vars = new Map<string, string>();
  readonly answered = true;
  hungUp = false;
  readonly ended: Promise<HangupCause>;
  readonly answerAt = new Date();
  dialStatus = '';
  private endedResolve!: (c: HangupCause) => void;
  private dialing: OutboundDial | null = null;
  private bridged: AnsweredLeg | null = null;

  constructor(
    private readonly deps: SipChannelDeps,
    private readonly leg: AnsweredLeg,
    private readonly session: MediaSession,
    private readonly req: OriginateRequest,
    readonly remote: Remote,
    readonly start: Date,
    seq: number,
  ) {
    this.id = `${Math.floor(Date.now() / 1000)}.o${seq}`;
    this.name = `SIP/${req.number}-o${seq.toString(16).padStart(7, '0')}`;
    // the dialplan sees the called party as the caller: its number is the caller ID (Asterisk's Originate does the same)
    this.callerIdNum = req.number;
    this.callerIdName = '';
    this.dialed = req.exten;
    this.context = req.context;
    this.peer = { transport: remote.transport, address: remote.address, port: remote.port };
    for (const [k, v] of Object.entries(req.vars ?? {})) this.vars.set(k, v);
    this.vars.set('ORIGINATE_NUMBER', req.number);
    this.ended = new Promise((r) => (this.endedResolve = r));
    session.leg.onRtpTimeout = () => {
      if (this.bridged) return;
      deps.log.info('channel-rtp-timeout', { channel: this.name });
      void this.hangup('normal');
    };
    session.leg.start();
    leg.onInfo = (req: SipMessage) => this.onInfo(req);
    void leg.ended.then(() => this.finish('normal'));
  }

  get endpoint(): MediaEndpoint {
    return this.session.leg;
  }

  async answer(): Promise<void> {}
  async ring(): Promise<void> {}
  async progress(): Promise<void> {}

  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    this.leg.hangup();
    this.finish(cause);
  }

  private onInfo(req: SipMessage): void {
    if (this.bridged) {
      this.deps.ua.sendInDialog(this.bridged.dialog, 'INFO', { body: req.body, contentType: req.get('content-type') });
    }
  }

  private finish(cause: HangupCause): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.dialing?.cancel();
    this.bridged?.hangup();
    this.session.leg.close();
    this.endedResolve(cause);
    this.emitPhase('end', { cause });
    const rec = channelCdr({
      channel: this,
      start: this.start,
      answerAt: this.answerAt,
      end: new Date(),
      cause,
      dialStatus: this.dialStatus,
      lastApp: '',
      lastData: '',
      sourceIp: this.remote.address,
    });
    try {
      this.deps.ua.writeCdr({ ...rec, dst: this.req.number, dcontext: this.req.context, userfield: `originate:${this.req.exten}` });
    } catch (err) {
      this.deps.log.error('cdr-write-failed', { channel: this.name, error: (err as Error).message });
    }
    this.deps.log.info('channel-ended', { channel: this.name, cause, originated: this.req.number });
  }

  emitPhase(phase: CallPhase, extra: Partial<CallEvent> = {}): void {
    this.deps.callEvents?.emitCall({
      phase,
      callId: this.id,
      sipCallId: this.leg.dialog.callId,
      from: this.req.callerIdNum,
      to: this.req.number,
      channel: this.name,
      via: 'channel',
      at: Date.now(),
      ...extra,
    });
  }

  /** Dial() (Queue() rings its members this way): the first target to answer is bridged with the originated party */
  async dial(targets: DialTarget[], o: DialOptions): Promise<DialResult> {
    if (this.hungUp) return { status: 'CANCEL' };
    const ua = this.deps.ua;
    const branches: DialBranchTarget[] = [];
    for (const t of targets) {
      const tech = t.tech.toUpperCase();
      if (tech !== 'SIP' && tech !== 'PJSIP') continue;
      const ext = ua.extension(t.resource);
      if (ext) for (const b of ua.contacts(ext.number)) branches.push({ number: ext.number, binding: b });
    }
    if (branches.length === 0) return this.dialDone('CHANUNAVAIL');
    let bSession: MediaSession;
    try {
      bSession = new MediaSession(new MediaLeg(this.deps.allocatePair(), this.deps.mediaAddress, 0), this.deps.mediaAddress);
    } catch (err) {
      this.deps.log.warn('dial-no-media', { channel: this.name, error: (err as Error).message });
      return this.dialDone('CONGESTION');
    }
    const dial = new OutboundDial(ua, { targets: branches, offer: bSession.offer(), callerNumber: this.callerIdNum, callerName: this.callerIdName, timeoutMs: o.timeoutMs });
    this.dialing = dial;
    this.emitPhase('ringing', { toExtension: branches[0]!.number, legs: dial.callIds });
    const outcome = await dial.result;
    this.dialing = null;
    if (outcome.status !== 'ANSWER' || !outcome.leg) {
      bSession.leg.close();
      return this.dialDone(outcome.status);
    }
    const b = outcome.leg;
    if (this.hungUp) {
      b.hangup();
      bSession.leg.close();
      return { status: 'CANCEL' };
    }
    try {
      bSession.takeAnswer(outcome.answerSdp ?? Buffer.alloc(0));
    } catch (err) {
      this.deps.log.info('dial-bad-answer', { channel: this.name, error: (err as Error).message });
      b.hangup();
      bSession.leg.close();
      return this.dialDone('CHANUNAVAIL');
    }
    const answeredBy = targets.find((t) => ['SIP', 'PJSIP'].includes(t.tech.toUpperCase()) && ua.extension(t.resource)?.number === b.number);
    if (answeredBy) o.onAnswer?.(answeredBy);
    this.session.leg.source = null;
    bSession.leg.start();
    const bridge = new DialBridge(ua, { a: { dialog: this.leg.dialog, session: this.session }, b: { dialog: b.dialog, session: bSession } }, this.deps.log, this.name);
    this.bridged = b;
    this.leg.bridge = { inDialog: (tx, req) => bridge.inDialog('a', tx, req), onAck: (ack) => bridge.onAck('a', ack) };
    b.bridge = { inDialog: (tx, req) => bridge.inDialog('b', tx, req), onAck: (ack) => bridge.onAck('b', ack) };
    const t0 = Date.now();
    this.emitPhase('answered', { toExtension: b.number });
    this.deps.log.info('channel-bridged', { channel: this.name, to: b.number });
    await Promise.race([b.ended, this.ended]);
    bridge.close();
    this.bridged = null;
    this.leg.bridge = null;
    b.bridge = null;
    if (this.hungUp) b.hangup();
    bSession.leg.close();
    this.dialStatus = 'ANSWER';
    if (!this.hungUp) this.emitPhase('answered', { toExtension: '' });
    return { status: 'ANSWER', answeredMs: Date.now() - t0, ...(answeredBy ? { answeredBy } : {}) };
  }

  private dialDone(status: DialStatus): DialResult {
    this.dialStatus = status;
    return { status };
  }
}
