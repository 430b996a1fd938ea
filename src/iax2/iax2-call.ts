// One IAX2 call over a session (RFC 5456 §6.2–6.3), in either direction.
// Outgoing: NEW (with an empty CALLTOKEN element, repeated with the token
// when the peer asks) → AUTHREQ/AUTHREP (MD5 of challenge + secret) →
// ACCEPT (the format) → RINGING → ANSWER. Incoming: the server
// (iax2-server.ts) authenticates the NEW and hands the call up; accept(),
// ring(), answer() and hangup() send what RFC 5456 says. Voice goes out as
// mini frames after one full voice frame that names the format (and again
// when the 16-bit timestamp wraps, §8.1.2); DTMF as DTMF frames; HANGUP
// carries a cause text and Q.931 code.
import { createHash } from 'node:crypto';
import { AuthMethod, Cause, ControlCmd, FrameType, Format, IAX_PROTO_VERSION, Ie, IaxCmd } from './iax2-constants.js';
import { buildMini, type FullFrame, IeBuilder, Ies } from './iax2-frame.js';
import type { Iax2Engine, SessionOwner } from './iax2-engine.js';
import type { Iax2Session, PeerAddress } from './iax2-session.js';

export type CallState = 'calling' | 'auth' | 'accepted' | 'ringing' | 'up' | 'ended';

export interface CallEvents {
  /** ACCEPT received (outgoing) with the format the peer chose */
  accepted?(format: number): void;
  ringing?(): void;
  answered?(): void;
  /** the call ended: the peer's HANGUP/REJECT, a timeout, or our hangup() */
  ended?(cause: number, text: string, by: 'peer' | 'local' | 'timeout'): void;
  voice?(payload: Buffer, format: number): void;
  dtmf?(digit: string): void;
  /**
   * The peer put the call on hold (a HOLD control frame, or QUELCH with the
   * MUSICONHOLD element) or took it off (UNHOLD, UNQUELCH). `musicClass` is
   * the class the peer suggests ('' when none).
   */
  hold?(held: boolean, musicClass: string): void;
}

export interface OutgoingCall {
  called: string;
  context?: string;
  callingNumber: string;
  callingName: string;
  /** USERNAME we present; the secret answers the peer's MD5 challenge */
  username?: string;
  secret?: string;
  /** formats we can take (bits) and the one we prefer */
  capability: number;
  format: number;
}

/** lowercase hex md5(challenge + secret): RFC 5456 §8.6.15 */
export function md5Answer(challenge: string, secret: string): string {
  return createHash('md5')
    .update(challenge + secret)
    .digest('hex');
}

/** the music class a HOLD frame suggests: its text up to the first NUL, when it is a plain class name ('' otherwise) */
export function musicClassOf(data: Buffer): string {
  const end = data.indexOf(0);
  const name = data.toString('latin1', 0, end < 0 ? data.length : end);
  // as music-on-hold.ts's MUSIC_CLASS (the protocol layer imports nothing above it)
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : '';
}

/** bytes of one 20 ms frame of a format (null: not one we carry) */
export function frameBytes(format: number): number | null {
  if (format === Format.ULAW || format === Format.ALAW) return 160;
  if (format === Format.GSM) return 33;
  return null;
}

export class Iax2Call implements SessionOwner {
  state: CallState;
  /** the format we send (and expect) */
  format = 0;
  /** the format of what the peer sends (named by its last full voice frame) */
  private rxFormat = 0;
  private voiceTs = -1;
  private lastFullVoice = -1;
  private pingCancel: (() => void) | null = null;
  private outgoing: OutgoingCall | null = null;
  /** we told the peer its party is held (hold()) */
  private holding = false;
  /** the peer told us it holds the call */
  private heldByPeer = false;
  private endTimer: (() => void) | null = null;
  events: CallEvents = {};
  readonly startedAt: number;
  /** round-trip time from the last PING/PONG or LAGRQ/LAGRP (ms) */
  rttMs = -1;

  constructor(
    private readonly engine: Iax2Engine,
    readonly session: Iax2Session,
    readonly direction: 'in' | 'out',
  ) {
    this.state = direction === 'in' ? 'auth' : 'calling';
    this.startedAt = engine.clock.now();
    session.onFrame = (f) => this.onFrame(f);
    session.onTimeout = () => this.finish(Cause.NO_USER_RESPONSE, 'no acknowledgement', 'timeout');
    engine.setOwner(session, this);
  }

  get remote(): PeerAddress {
    return this.session.remote;
  }

  /** places a call: NEW with an empty call token (RFC 5456 §6.2; Asterisk's token handshake) */
  static place(engine: Iax2Engine, remote: PeerAddress, o: OutgoingCall): Iax2Call {
    const s = engine.open(remote, null);
    const c = new Iax2Call(engine, s, 'out');
    c.outgoing = o;
    c.sendNew('');
    return c;
  }

  private sendNew(token: string): void {
    const o = this.outgoing!;
    const ies = new IeBuilder().u16(Ie.VERSION, IAX_PROTO_VERSION).str(Ie.CALLED_NUMBER, o.called);
    if (o.context) ies.str(Ie.CALLED_CONTEXT, o.context);
    ies.str(Ie.CALLING_NUMBER, o.callingNumber).str(Ie.CALLING_NAME, o.callingName);
    if (o.username) ies.str(Ie.USERNAME, o.username);
    ies.u32(Ie.CAPABILITY, o.capability).u32(Ie.FORMAT, o.format);
    if (token) ies.str(Ie.CALLTOKEN, token);
    else ies.empty(Ie.CALLTOKEN);
    this.session.send(FrameType.IAX, IaxCmd.NEW, ies.build());
  }

  onCallToken(token: string): void {
    if (this.direction !== 'out' || this.state !== 'calling') return;
    // the same frame again with the token, both sequence numbers back at 0
    this.session.restart();
    this.sendNew(token);
  }

  // ---------------------------------------------------------------- incoming side

  /** ACCEPT with the format chosen for this call (RFC 5456 §6.2.2) */
  accept(format: number): void {
    this.format = format;
    this.rxFormat = format;
    this.state = 'accepted';
    this.session.send(FrameType.IAX, IaxCmd.ACCEPT, new IeBuilder().u32(Ie.FORMAT, format).build());
    this.startPings();
  }

  ring(): void {
    if (this.state === 'accepted') {
      this.state = 'ringing';
      this.session.send(FrameType.CONTROL, ControlCmd.RINGING);
    }
  }

  answer(): void {
    if (this.state === 'ended' || this.state === 'up') return;
    this.state = 'up';
    this.session.send(FrameType.CONTROL, ControlCmd.ANSWER);
  }

  /** REJECT before the call was accepted (cause text and code, §6.2.3) */
  reject(text: string, code: number = Cause.CALL_REJECTED): void {
    if (this.state === 'ended') return;
    this.session.send(FrameType.IAX, IaxCmd.REJECT, new IeBuilder().str(Ie.CAUSE, text).u8(Ie.CAUSECODE, code).build());
    this.finish(code, text, 'local');
  }

  /** HANGUP (or REJECT when not yet accepted on an incoming call) */
  hangup(code: number = Cause.NORMAL_CLEARING, text = 'Normal Clearing'): void {
    if (this.state === 'ended') return;
    if (this.direction === 'in' && this.state === 'auth') return this.reject(text, code);
    this.session.send(FrameType.IAX, IaxCmd.HANGUP, new IeBuilder().str(Ie.CAUSE, text).u8(Ie.CAUSECODE, code).build());
    this.finish(code, text, 'local');
  }

  // ---------------------------------------------------------------- media

  /** one 20 ms frame of the call's format */
  sendVoice(payload: Uint8Array, samples = 160): void {
    if (this.state === 'ended' || this.format === 0) return;
    if (this.voiceTs < 0) this.voiceTs = Math.max(0, Math.round(this.session.elapsed() / 20) * 20);
    else this.voiceTs += samples / 8;
    const ts = this.voiceTs;
    // RFC 5456 §8.1.2: a full voice frame first, and whenever the upper 16 bits change
    if (this.lastFullVoice < 0 || ts >>> 16 !== this.lastFullVoice >>> 16) {
      this.lastFullVoice = ts;
      this.session.send(FrameType.VOICE, this.format, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), ts);
      return;
    }
    this.engine.sendRaw(buildMini(this.session.localCall, ts, payload), this.session.remote);
  }

  /**
   * Tell the peer its party is held (a HOLD control frame, naming the music
   * class we suggest as Asterisk does: the name and a NUL) or resumed (UNHOLD).
   * Only on a call that is up; a repeat of the same state sends nothing.
   */
  hold(held: boolean, musicClass = ''): void {
    if (this.state !== 'up' || held === this.holding) return;
    this.holding = held;
    if (!held) return this.session.send(FrameType.CONTROL, ControlCmd.UNHOLD);
    this.session.send(FrameType.CONTROL, ControlCmd.HOLD, musicClass ? Buffer.from(`${musicClass}\0`, 'utf8') : undefined);
  }

  sendDtmf(digit: string): void {
    if (this.state === 'ended') return;
    const c = digit.charCodeAt(0);
    this.session.send(FrameType.DTMF_BEGIN, c);
    this.session.send(FrameType.DTMF_END, c);
  }

  onMini(_ts16: number, data: Buffer): void {
    if (this.rxFormat !== 0) this.events.voice?.(data, this.rxFormat);
  }

  // ---------------------------------------------------------------- frames in

  private onFrame(f: FullFrame): void {
    switch (f.type) {
      case FrameType.IAX:
        return this.onIax(f);
      case FrameType.CONTROL:
        return this.onControl(f.subclass, f.data);
      case FrameType.VOICE:
        this.rxFormat = f.subclass;
        this.events.voice?.(f.data, f.subclass);
        return;
      case FrameType.DTMF_END:
        this.events.dtmf?.(String.fromCharCode(f.subclass));
        return;
      default:
      // DTMF_BEGIN, NULL, CNG, TEXT...: acknowledged by the session, nothing to do
    }
  }

  private onIax(f: FullFrame): void {
    switch (f.subclass) {
      case IaxCmd.ACCEPT: {
        const ies = Ies.parse(f.data);
        this.format = ies.u32(Ie.FORMAT) ?? ies.u64low(Ie.FORMAT2) ?? this.outgoing?.format ?? 0;
        this.rxFormat = this.format;
        this.state = 'accepted';
        this.events.accepted?.(this.format);
        this.startPings();
        return;
      }
      case IaxCmd.AUTHREQ:
        return this.authenticate(Ies.parse(f.data));
      case IaxCmd.HANGUP:
      case IaxCmd.REJECT: {
        const ies = Ies.parse(f.data);
        const code = ies.u8(Ie.CAUSECODE) ?? (f.subclass === IaxCmd.REJECT ? Cause.CALL_REJECTED : Cause.NORMAL_CLEARING);
        return this.finish(code, ies.str(Ie.CAUSE) ?? '', 'peer');
      }
      case IaxCmd.PING:
        this.session.send(FrameType.IAX, IaxCmd.PONG, undefined, f.ts);
        return;
      case IaxCmd.LAGRQ:
        this.session.send(FrameType.IAX, IaxCmd.LAGRP, undefined, f.ts);
        return;
      case IaxCmd.QUELCH:
        // QUELCH (RFC 5456): stop sending media; with the MUSICONHOLD element the peer holds the call and asks for music
        if (Ies.parse(f.data).has(Ie.MUSICONHOLD)) this.peerHolds(true, '');
        return;
      case IaxCmd.UNQUELCH:
        this.peerHolds(false, '');
        return;
      case IaxCmd.PONG:
      case IaxCmd.LAGRP:
        this.rttMs = Math.max(0, this.session.elapsed() - f.ts);
        return;
      default:
        // RFC 5456 §6.9.3: a command we do not support gets UNSUPPORT with its number
        if (f.subclass !== IaxCmd.INVAL) this.session.send(FrameType.IAX, IaxCmd.UNSUPPORT, new IeBuilder().u8(Ie.IAX_UNKNOWN, f.subclass).build());
    }
  }

  private onControl(sub: number, data: Buffer): void {
    switch (sub) {
      case ControlCmd.HOLD:
        return this.peerHolds(true, musicClassOf(data));
      case ControlCmd.UNHOLD:
        return this.peerHolds(false, '');
      case ControlCmd.RINGING:
        if (this.state === 'accepted') this.state = 'ringing';
        this.events.ringing?.();
        return;
      case ControlCmd.ANSWER:
        if (this.state !== 'up' && this.state !== 'ended') {
          this.state = 'up';
          this.events.answered?.();
        }
        return;
      case ControlCmd.BUSY:
        return this.hangup(Cause.USER_BUSY, 'User busy');
      case ControlCmd.CONGESTION:
        return this.hangup(Cause.CONGESTION, 'Congestion');
      case ControlCmd.HANGUP:
        return this.finish(Cause.NORMAL_CLEARING, '', 'peer');
      default:
      // PROGRESS, PROCEEDING, 0xFF (stop indications): nothing to do
    }
  }

  /** a hold or resume from the peer, once per change, on a call that is up */
  private peerHolds(held: boolean, musicClass: string): void {
    if (this.state !== 'up' || held === this.heldByPeer) return;
    this.heldByPeer = held;
    this.events.hold?.(held, musicClass);
  }

  /** AUTHREQ: MD5 of the challenge and our secret (we never send a plaintext password) */
  private authenticate(ies: Ies): void {
    const methods = ies.u16(Ie.AUTHMETHODS) ?? 0;
    const challenge = ies.str(Ie.CHALLENGE) ?? '';
    const secret = this.outgoing?.secret;
    if (!(methods & AuthMethod.MD5) || !secret) {
      this.hangup(Cause.FACILITY_REJECTED, 'No usable authentication method');
      return;
    }
    this.state = 'auth';
    const rep = new IeBuilder().str(Ie.MD5_RESULT, md5Answer(challenge, secret));
    this.session.send(FrameType.IAX, IaxCmd.AUTHREP, rep.build());
  }

  private startPings(): void {
    if (this.pingCancel) return;
    const tick = (): void => {
      if (this.state === 'ended') return;
      this.session.send(FrameType.IAX, IaxCmd.PING);
      this.pingCancel = this.engine.clock.after(20_000, tick);
    };
    this.pingCancel = this.engine.clock.after(20_000, tick);
  }

  /** the call is over: frames still unacknowledged get a moment, then the call number is freed */
  private finish(code: number, text: string, by: 'peer' | 'local' | 'timeout'): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.pingCancel?.();
    this.events.ended?.(code, text, by);
    if (by === 'local' && !this.session.isClosed) {
      // our HANGUP/REJECT is retransmitted until acknowledged (or the retries run out)
      const wait = (n: number): void => {
        if (this.session.idle || n <= 0) this.engine.release(this.session);
        else this.endTimer = this.engine.clock.after(200, () => wait(n - 1));
      };
      wait(50);
    } else this.engine.release(this.session);
  }

  /** stop everything at once (server shutdown) */
  destroy(): void {
    this.endTimer?.();
    this.pingCancel?.();
    this.engine.release(this.session);
  }
}
