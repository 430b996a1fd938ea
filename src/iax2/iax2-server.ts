// The server side of IAX2: the registrar (REGREQ/REGAUTH/REGACK/REGREJ,
// REGREL; RFC 5456 §6.1) and the admission of incoming calls (NEW →
// AUTHREQ/AUTHREP → ACCEPT or REJECT; §6.2). Both authenticate with MD5:
// the challenge is a random decimal number, the answer md5(challenge +
// secret). An unknown account is challenged exactly like a known one and
// refused with the same frame as a wrong answer, so nothing on the wire
// tells a scanner which accounts exist; the difference is reported to the
// defences only (the security log, the IDS).
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { AuthMethod, Cause, FrameType, Format, Ie, IaxCmd } from './iax2-constants.js';
import { type FullFrame, IeBuilder, Ies } from './iax2-frame.js';
import type { Iax2Acceptor, Iax2Engine, SessionOwner } from './iax2-engine.js';
import type { Iax2Session, PeerAddress } from './iax2-session.js';
import { Iax2Call, md5Answer } from './iax2-call.js';

/** someone who may register or call: an extension with an IAX2 secret, or a trunk */
export interface Iax2Account {
  /** the USERNAME it presents */
  username: string;
  secret: string;
  kind: 'extension' | 'trunk';
  /** the extension number, or the trunk's name */
  name: string;
  /** the context its calls start in */
  context: string;
}

export interface Iax2AuthReport {
  ok: boolean;
  /** 'unknown-user' | 'bad-password' | 'missing' (internal: never on the wire) */
  reason?: string;
  method: 'REGREQ' | 'REGREL' | 'NEW';
  account: string;
  remote: PeerAddress;
  callId: string;
  challenge?: string;
}

export interface Iax2ServerDeps {
  engine: Iax2Engine;
  account(username: string): Iax2Account | undefined;
  /** REGACK given (refresh in seconds), or REGREL accepted (refresh 0) */
  registered(account: Iax2Account, remote: PeerAddress, refresh: number): void;
  authOutcome(r: Iax2AuthReport): void;
  /** an authenticated NEW: accept (or reject) it */
  incoming(call: Iax2Call, account: Iax2Account, ies: Ies): void;
  /** the refresh we grant: the asked value clamped to [min, max] seconds */
  refresh: { min: number; max: number };
}

/** formats we carry, best first */
export const OUR_FORMATS = [Format.ULAW, Format.ALAW, Format.GSM] as const;
export const OUR_CAPABILITY = Format.ULAW | Format.ALAW | Format.GSM;

/** the peer's preferred format when we carry it, else the first of ours it can take (0: none) */
export function chooseFormat(preferred: number, capability: number): number {
  if (OUR_CAPABILITY & preferred && (preferred & (preferred - 1)) === 0) return preferred;
  for (const f of OUR_FORMATS) if (capability & f) return f;
  return 0;
}

const REFUSED = 'No authority found';

export class Iax2Server implements Iax2Acceptor {
  /** a secret nobody knows, answered against when the account does not exist (same work, same timing) */
  private readonly decoy = randomBytes(24).toString('base64');

  constructor(private readonly d: Iax2ServerDeps) {
    d.engine.acceptor = this;
  }

  private verify(challenge: string, username: string, answer: string | undefined): { account?: Iax2Account; ok: boolean; reason: string } {
    const account = this.d.account(username);
    const want = Buffer.from(md5Answer(challenge, account?.secret ?? this.decoy), 'latin1');
    const got = Buffer.from((answer ?? '').toLowerCase().padEnd(want.length, ' ').slice(0, want.length), 'latin1');
    const match = timingSafeEqual(want, got) && answer?.length === want.length;
    if (!account) return { ok: false, reason: 'unknown-user' };
    if (answer === undefined) return { account, ok: false, reason: 'missing' };
    return match ? { account, ok: true, reason: '' } : { account, ok: false, reason: 'bad-password' };
  }

  // ---------------------------------------------------------------- registrar

  register(session: Iax2Session, f: FullFrame, ies: Ies): SessionOwner | null {
    const reg = new RegistrarTransaction(this, this.d, session, f.subclass === IaxCmd.REGREL ? 'REGREL' : 'REGREQ');
    reg.first(ies);
    return reg;
  }

  // ---------------------------------------------------------------- incoming calls

  newCall(session: Iax2Session, _f: FullFrame, ies: Ies): SessionOwner | null {
    const call = new Iax2Call(this.d.engine, session, 'in');
    const username = ies.str(Ie.USERNAME) ?? '';
    const challenge = String(randomInt(100_000_000, 999_999_999));
    // every NEW is challenged, whoever it names (anti-enumeration)
    const origOnFrame = session.onFrame;
    session.onFrame = (fr) => {
      if (fr.type === FrameType.IAX && fr.subclass === IaxCmd.AUTHREP && call.state === 'auth') {
        session.onFrame = origOnFrame;
        const answer = Ies.parse(fr.data).str(Ie.MD5_RESULT);
        const v = this.verify(challenge, username, answer);
        const callId = `${session.remote.address}:${session.remote.port}/${session.remoteCall}`;
        this.d.authOutcome({ ok: v.ok, reason: v.ok ? undefined : v.reason, method: 'NEW', account: username, remote: session.remote, callId, challenge });
        if (!v.ok || !v.account) {
          call.reject(REFUSED, Cause.FACILITY_REJECTED);
          return;
        }
        this.d.incoming(call, v.account, ies);
        return;
      }
      origOnFrame(fr);
    };
    const req = new IeBuilder().u16(Ie.AUTHMETHODS, AuthMethod.MD5).str(Ie.CHALLENGE, challenge).str(Ie.USERNAME, username);
    session.send(FrameType.IAX, IaxCmd.AUTHREQ, req.build());
    return call;
  }

  /** REGREQ/REGREL second round: called by the transaction */
  check(challenge: string, username: string, answer: string | undefined): { account?: Iax2Account; ok: boolean; reason: string } {
    return this.verify(challenge, username, answer);
  }
}

/** one registration exchange on its own call number */
class RegistrarTransaction implements SessionOwner {
  private challenge = '';
  private username = '';

  constructor(
    private readonly server: Iax2Server,
    private readonly d: Iax2ServerDeps,
    private readonly session: Iax2Session,
    private readonly method: 'REGREQ' | 'REGREL',
  ) {
    session.onFrame = (f) => this.onFrame(f);
    session.onTimeout = () => d.engine.release(session);
  }

  /** a registration carries no media */
  onMini(): void {}

  first(ies: Ies): void {
    this.username = ies.str(Ie.USERNAME) ?? '';
    if (!this.username) return this.refuse();
    this.challenge = String(randomInt(100_000_000, 999_999_999));
    const auth = new IeBuilder().u16(Ie.AUTHMETHODS, AuthMethod.MD5).str(Ie.CHALLENGE, this.challenge).str(Ie.USERNAME, this.username);
    this.session.send(FrameType.IAX, IaxCmd.REGAUTH, auth.build());
  }

  private onFrame(f: FullFrame): void {
    if (f.type !== FrameType.IAX || (f.subclass !== IaxCmd.REGREQ && f.subclass !== IaxCmd.REGREL)) return;
    const ies = Ies.parse(f.data);
    const v = this.server.check(this.challenge, ies.str(Ie.USERNAME) ?? this.username, ies.str(Ie.MD5_RESULT));
    const callId = `${this.session.remote.address}:${this.session.remote.port}/${this.session.remoteCall}`;
    this.d.authOutcome({
      ok: v.ok,
      reason: v.ok ? undefined : v.reason,
      method: this.method,
      account: this.username,
      remote: this.session.remote,
      callId,
      challenge: this.challenge,
    });
    if (!v.ok || !v.account) return this.refuse();
    const asked = ies.u16(Ie.REFRESH) ?? this.d.refresh.max;
    const refresh = this.method === 'REGREL' ? 0 : Math.min(Math.max(asked, this.d.refresh.min), this.d.refresh.max);
    this.d.registered(v.account, this.session.remote, refresh);
    const ack = new IeBuilder().str(Ie.USERNAME, this.username).u32(Ie.DATETIME, iaxDateTime(new Date())).u16(Ie.REFRESH, refresh);
    this.session.send(FrameType.IAX, IaxCmd.REGACK, ack.build());
    this.done();
  }

  private refuse(): void {
    this.session.send(FrameType.IAX, IaxCmd.REGREJ, new IeBuilder().str(Ie.CAUSE, 'Registration Refused').u8(Ie.CAUSECODE, Cause.FACILITY_REJECTED).build());
    this.done();
  }

  /** free the call number once our last frame is acknowledged (or its retries run out) */
  private done(): void {
    const wait = (n: number): void => {
      if (this.session.idle || n <= 0) this.d.engine.release(this.session);
      else this.d.engine.clock.after(200, () => wait(n - 1));
    };
    wait(50);
  }
}

/** RFC 5456 §8.6.28: DATETIME packs local time as year-2000 (7 bits), month, day, hour, minute, seconds/2 */
export function iaxDateTime(d: Date): number {
  return (
    (((d.getFullYear() - 2000) & 0x7f) << 25) |
    (((d.getMonth() + 1) & 0xf) << 21) |
    ((d.getDate() & 0x1f) << 16) |
    ((d.getHours() & 0x1f) << 11) |
    ((d.getMinutes() & 0x3f) << 5) |
    (Math.floor(d.getSeconds() / 2) & 0x1f)
  );
}
