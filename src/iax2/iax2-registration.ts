// Registering to another IAX2 server (RFC 5456 §6.1): REGREQ with our
// USERNAME and the refresh we ask for, the call-token round when the server
// wants one, REGAUTH answered with md5(challenge + secret), REGACK with the
// refresh granted. We register again at three quarters of it, each time on
// a fresh call number; a refusal or silence is retried with back-off.
// release() ends it at the server too: REGREL, challenged and answered as a
// REGREQ is, and the server forgets our address at once.
import { Cause, FrameType, Ie, IaxCmd } from './iax2-constants.js';
import { type FullFrame, IeBuilder, Ies } from './iax2-frame.js';
import type { Iax2Engine, SessionOwner } from './iax2-engine.js';
import type { Iax2Session, PeerAddress } from './iax2-session.js';
import { md5Answer } from './iax2-call.js';

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'rejected' | 'timeout';

export interface RegistrationOptions {
  remote: PeerAddress;
  username: string;
  secret: string;
  /** seconds we ask for */
  refresh: number;
}

export interface RegistrationStatus {
  state: RegistrationState;
  /** seconds granted by the last REGACK */
  refresh: number;
  /** successful registrations so far (the first and every refresh) */
  registrations: number;
  lastRegistered: string | null;
  lastError: string | null;
  /** failed attempts since the last success */
  failures: number;
}

export class Iax2Registration implements SessionOwner {
  private session: Iax2Session | null = null;
  private timer: (() => void) | null = null;
  private failures = 0;
  private stopped = false;
  /** a REGREQ exchange is under way (the first, a refresh or a retry) */
  private attempting = false;
  /** a REGREL exchange is under way: its answer settles this */
  private releasing: ((released: boolean) => void) | null = null;
  readonly status: RegistrationStatus = { state: 'idle', refresh: 0, registrations: 0, lastRegistered: null, lastError: null, failures: 0 };
  onChange: (s: RegistrationStatus) => void = () => {};

  constructor(
    private readonly engine: Iax2Engine,
    readonly o: RegistrationOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.attempt();
  }

  stop(): void {
    this.releasing?.(false);
    this.stopped = true;
    this.timer?.();
    if (this.session) this.engine.release(this.session);
    this.session = null;
    this.attempting = false;
  }

  /**
   * Stop, and when registered tell the server we are gone (REGREL with our
   * USERNAME, the call-token round, REGAUTH answered with the MD5): true
   * once it acknowledged, false when it refused, did not answer, or we were
   * not registered.
   */
  release(): Promise<boolean> {
    const was = this.status.state;
    this.stop();
    if (was !== 'registered') return Promise.resolve(false);
    this.status.state = 'idle';
    return new Promise((resolve) => {
      const s = this.engine.open(this.o.remote, this);
      this.session = s;
      this.releasing = (ok) => {
        this.releasing = null;
        this.finishSession();
        resolve(ok);
      };
      s.onFrame = (f) => this.onFrame(f);
      s.onTimeout = () => this.releasing?.(false);
      this.sendRegreq(new IeBuilder().empty(Ie.CALLTOKEN));
    });
  }

  private attempt(): void {
    if (this.stopped) return;
    if (this.session) this.engine.release(this.session);
    const s = this.engine.open(this.o.remote, this);
    this.session = s;
    s.onFrame = (f) => this.onFrame(f);
    s.onTimeout = () => this.failed('timeout', 'no answer from the server');
    this.attempting = true;
    // only the first attempt shows as registering: a refresh stays registered, and a retry after a
    // refusal or silence stays rejected or timeout, until the server's answer says otherwise
    if (this.status.state === 'idle') this.status.state = 'registering';
    this.sendRegreq(new IeBuilder().empty(Ie.CALLTOKEN));
  }

  private sendRegreq(extra: IeBuilder | null, md5?: string): void {
    // a REGREL says refresh 0; it is also the size of a REGREQ, which a server's call-token gate wants before it answers with a token
    const ies = new IeBuilder().str(Ie.USERNAME, this.o.username).u16(Ie.REFRESH, this.releasing ? 0 : this.o.refresh);
    if (md5) ies.str(Ie.MD5_RESULT, md5);
    const data = extra ? Buffer.concat([ies.build(), extra.build()]) : ies.build();
    this.session?.send(FrameType.IAX, this.releasing ? IaxCmd.REGREL : IaxCmd.REGREQ, data);
  }

  onCallToken(token: string): void {
    if (!this.session || (!this.attempting && !this.releasing)) return;
    this.session.restart();
    this.sendRegreq(new IeBuilder().str(Ie.CALLTOKEN, token));
  }

  private onFrame(f: FullFrame): void {
    if (f.type !== FrameType.IAX) return;
    const ies = Ies.parse(f.data);
    switch (f.subclass) {
      case IaxCmd.REGAUTH: {
        const challenge = ies.str(Ie.CHALLENGE) ?? '';
        this.sendRegreq(null, md5Answer(challenge, this.o.secret));
        return;
      }
      case IaxCmd.REGACK: {
        if (this.releasing) return this.releasing(true);
        const refresh = ies.u16(Ie.REFRESH) ?? this.o.refresh;
        this.failures = 0;
        Object.assign(this.status, { state: 'registered', refresh, lastRegistered: new Date().toISOString(), lastError: null, failures: 0 });
        this.status.registrations++;
        this.finishSession();
        this.onChange(this.status);
        this.schedule(Math.max(1, refresh * 0.75) * 1000);
        return;
      }
      case IaxCmd.REGREJ:
        if (this.releasing) return this.releasing(false);
        this.finishSession();
        this.failed('rejected', ies.str(Ie.CAUSE) ?? `cause ${ies.u8(Ie.CAUSECODE) ?? Cause.FACILITY_REJECTED}`);
        return;
      default:
    }
  }

  private finishSession(): void {
    const s = this.session;
    this.session = null;
    this.attempting = false;
    if (!s) return;
    // our ACK went out with the frame's receipt; nothing else is pending
    this.engine.release(s);
  }

  private failed(state: 'rejected' | 'timeout', why: string): void {
    this.finishSession();
    this.failures++;
    Object.assign(this.status, { state, lastError: why, failures: this.failures });
    this.onChange(this.status);
    // 5 s, 10 s, 20 s ... at most 5 minutes
    this.schedule(Math.min(5000 * 2 ** (this.failures - 1), 300_000));
  }

  private schedule(ms: number): void {
    this.timer?.();
    this.timer = this.engine.clock.after(ms, () => this.attempt());
  }
}
