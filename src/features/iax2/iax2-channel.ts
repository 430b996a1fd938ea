// The IAX2 channel: a Channel (src/channel/channel.ts) over an incoming
// IAX2 call that the dialplan handles, as the SIP channel is one over an
// INVITE. Its media endpoint is the call's voice frames (iax2-media.ts), so
// the media services (prompts, recording, voicemail, conference) work
// unchanged; dial() asks the Dial() technologies (SIP extensions, IAX2
// trunks and peers, whatever modules registered) and bridges the first leg
// to answer through PCM (the channels' EndpointBridge, as a SIP channel
// bridges a leg of another technology).
import type { Channel, ChannelPeer, DialOptions, DialResult, DialTarget, HangupCause } from '../../channel/channel.js';
import type { DialAttempt, DialOutcome, DialTechnologies, OutboundLeg } from '../../channel/dial-technology.js';
import { channelCdr } from '../../channel/channel-cdr.js';
import type { CdrRecord } from '../../sip/b2bua/types.js';
import { Cause, ControlCmd, FrameType } from '../../iax2/iax2-constants.js';
import type { Iax2Call } from '../../iax2/iax2-call.js';
import type { Logger } from '../../observability/logger.js';
import type { CallEvent, CallPhase } from '../../core/call-events.js';
import { Iax2Media } from './iax2-media.js';
import { EndpointBridge } from '../../channel/endpoint-bridge.js';
import { iax2HoldLink, type Iax2HoldConfig } from './iax2-hold.js';
import { joinHold, type HoldLink, type HoldMusicSource } from '../../channel/hold-link.js';

export interface Iax2ChannelDeps {
  log: Logger;
  dialTechnologies: DialTechnologies;
  writeCdr(rec: CdrRecord): void;
  /** where the channel reports its phases (the call-event hub) */
  callEvents?: { emitCall(e: CallEvent): void };
  /** hold across its Dial() bridge: what the peer gets when the bridged party holds (iax2-hold.ts) */
  hold?: { cfg: Iax2HoldConfig; moh: HoldMusicSource };
}

/** Q.931 causes for a channel's hangup causes (RFC 5456 §8.6.21) */
export const HANGUP_CAUSE: Record<HangupCause, [number, string]> = {
  normal: [Cause.NORMAL_CLEARING, 'Normal Clearing'],
  busy: [Cause.USER_BUSY, 'User busy'],
  noanswer: [Cause.NO_ANSWER, 'No answer'],
  congestion: [Cause.CONGESTION, 'Congestion'],
  unallocated: [Cause.UNALLOCATED, 'Unallocated number'],
  rejected: [Cause.CALL_REJECTED, 'Call rejected'],
  failure: [Cause.NORMAL_UNSPECIFIED, 'Failure'],
};

export function causeOf(code: number): HangupCause {
  if (code === Cause.USER_BUSY) return 'busy';
  if (code === Cause.NO_ANSWER || code === Cause.NO_USER_RESPONSE) return 'noanswer';
  if (code === Cause.CONGESTION) return 'congestion';
  if (code === Cause.UNALLOCATED) return 'unallocated';
  if (code === Cause.CALL_REJECTED) return 'rejected';
  return 'normal';
}

let seq = 0;

export class Iax2Channel implements Channel {
  readonly id: string;
  readonly name: string;
  readonly vars = new Map<string, string>();
  answered = false;
  hungUp = false;
  readonly ended: Promise<HangupCause>;
  readonly media: Iax2Media;
  readonly start = new Date();
  answerAt: Date | null = null;
  dialStatus = '';
  private endedResolve!: (c: HangupCause) => void;
  private dialing: DialAttempt[] = [];
  private bridged: OutboundLeg | null = null;
  /** this call's side of a bridge's hold (hold-link.ts) */
  private readonly holdLink: HoldLink | null;

  constructor(
    private readonly deps: Iax2ChannelDeps,
    readonly call: Iax2Call,
    /** the account that authenticated (an extension number or a trunk name) */
    readonly accountName: string,
    readonly callerIdNum: string,
    readonly callerIdName: string,
    readonly dialed: string,
    readonly context: string,
    readonly peer: ChannelPeer,
  ) {
    const n = ++seq;
    this.id = `${Math.floor(Date.now() / 1000)}.x${n}`;
    this.name = `IAX2/${accountName}-${n.toString(16).padStart(8, '0')}`;
    this.ended = new Promise((r) => (this.endedResolve = r));
    this.media = new Iax2Media(call);
    this.holdLink = deps.hold ? iax2HoldLink(call, this.media, deps.hold.moh, deps.hold.cfg, deps.log, this.name) : null;
    const prev = call.events.ended;
    call.events.ended = (code, text, by) => {
      prev?.(code, text, by);
      this.finish(by === 'timeout' ? 'failure' : causeOf(code));
    };
  }

  /** report a phase to the call events (busy lamps, queues, the console) */
  emitPhase(phase: CallPhase, extra: Partial<CallEvent> = {}): void {
    this.deps.callEvents?.emitCall({
      phase,
      callId: this.id,
      from: this.callerIdNum,
      to: this.dialed,
      fromExtension: this.peer.account,
      channel: this.name,
      via: 'iax2',
      at: Date.now(),
      ...extra,
    });
  }

  get endpoint(): Iax2Media {
    return this.media;
  }

  async answer(): Promise<void> {
    if (this.answered || this.hungUp) return;
    this.call.answer();
    this.answered = true;
    this.answerAt = new Date();
    this.media.start();
    this.emitPhase('answered');
    this.deps.log.info('iax2-channel-answered', { channel: this.name, codec: this.media.codec });
  }

  async ring(): Promise<void> {
    if (!this.answered && !this.hungUp) this.call.ring();
  }

  /** early media: PROGRESS, then the caller hears our endpoint before the answer */
  async progress(): Promise<void> {
    if (this.answered || this.hungUp) return;
    this.call.session.send(FrameType.CONTROL, ControlCmd.PROGRESS);
    this.media.start();
  }

  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    const [code, text] = HANGUP_CAUSE[cause];
    this.call.hangup(code, text);
    this.finish(cause);
  }

  private finish(cause: HangupCause): void {
    if (this.hungUp) return;
    this.hungUp = true;
    for (const a of this.dialing) a.cancel();
    this.bridged?.hangup();
    this.media.close();
    this.endedResolve(cause);
    this.emitPhase('end', { cause });
    try {
      this.deps.writeCdr(
        channelCdr({
          channel: this,
          start: this.start,
          answerAt: this.answerAt,
          end: new Date(),
          cause,
          dialStatus: this.dialStatus,
          lastApp: '',
          lastData: '',
          sourceIp: this.peer.address,
        }),
      );
    } catch (err) {
      this.deps.log.error('cdr-write-failed', { channel: this.name, error: (err as Error).message });
    }
    const path = this.vars.get('DIALPLAN_PATH');
    this.deps.log.info('iax2-channel-ended', { channel: this.name, cause, frames: this.media.stats, ...(path ? { path } : {}) });
  }

  async dial(targets: DialTarget[], o: DialOptions): Promise<DialResult> {
    if (this.hungUp) return { status: 'CANCEL' };
    const ctx = {
      channelName: this.name,
      channelId: this.id,
      callerIdNum: this.callerIdNum,
      callerIdName: this.callerIdName,
      context: this.context,
      peer: this.peer,
      timeoutMs: o.timeoutMs,
      vars: this.vars,
    };
    const attempts = targets.map((t) => this.deps.dialTechnologies.dial(t, ctx)).filter((a): a is DialAttempt => a !== null);
    if (attempts.length === 0) return this.done('CHANUNAVAIL');
    this.dialing = attempts;
    for (const a of attempts) a.onRinging = () => void this.ring();
    if (o.options.includes('r')) void this.ring();
    const outcome = await firstAnswer(attempts);
    this.dialing = [];
    if (outcome.status !== 'ANSWER') return this.done(outcome.status);
    for (const a of attempts) if (a !== outcome.attempt) a.cancel();
    const leg = outcome.leg;
    if (this.hungUp) {
      leg.hangup();
      return { status: 'CANCEL' };
    }
    if (!this.answered) await this.answer();
    // DIALSTATUS is ANSWER from the answer on (the CDR of a call cut while bridged says so)
    this.dialStatus = 'ANSWER';
    this.bridged = leg;
    const bridge = new EndpointBridge(this.media, leg.endpoint);
    // hold both ways: the peer's HOLD reaches the leg (a phone hears music), the leg's hold reaches the peer
    const parted = joinHold(this.holdLink, leg.holdLink);
    this.emitPhase('answered', { toExtension: leg.number });
    this.deps.log.info('iax2-channel-bridged', { channel: this.name, to: leg.name, a: this.media.codec, b: leg.endpoint.codec });
    const t0 = Date.now();
    await Promise.race([leg.ended, this.ended]);
    parted();
    bridge.close();
    this.deps.log.info('iax2-channel-unbridged', { channel: this.name, leg: leg.name, ...bridge.stats });
    this.bridged = null;
    if (this.hungUp) leg.hangup();
    else this.emitPhase('answered', { toExtension: '' });
    this.dialStatus = 'ANSWER';
    return { status: 'ANSWER', answeredMs: Date.now() - t0 };
  }

  private done(status: DialResult['status']): DialResult {
    this.dialStatus = status;
    return { status };
  }
}

/** the first attempt to answer, or (all failed) the most telling failure: BUSY over CONGESTION over NOANSWER over CHANUNAVAIL */
export function firstAnswer(attempts: DialAttempt[]): Promise<{ status: 'ANSWER'; leg: OutboundLeg; attempt: DialAttempt } | { status: Exclude<DialOutcome['status'], 'ANSWER'> }> {
  return new Promise((resolve) => {
    let left = attempts.length;
    const failures: string[] = [];
    let settled = false;
    for (const a of attempts) {
      void a.result.then((r) => {
        if (settled) {
          if (r.status === 'ANSWER') r.leg.hangup();
          return;
        }
        if (r.status === 'ANSWER') {
          settled = true;
          resolve({ status: 'ANSWER', leg: r.leg, attempt: a });
          return;
        }
        failures.push(r.status);
        if (--left === 0) {
          settled = true;
          const order = ['CANCEL', 'BUSY', 'CONGESTION', 'NOANSWER', 'CHANUNAVAIL', 'INVALIDARGS'] as const;
          resolve({ status: order.find((s) => failures.includes(s)) ?? 'CHANUNAVAIL' });
        }
      });
    }
  });
}
