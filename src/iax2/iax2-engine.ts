// One IAX2 endpoint: a UDP socket on a configured address, the call numbers
// it owns and the sessions behind them. Each datagram passes the packet gate
// first (a banned address is dropped unparsed), then is demultiplexed:
// mini frames by the sender's call number (the media path: no parsing
// beyond the 4-byte header, no allocation but the payload view); full frames
// to an existing call number by their destination; a NEW, REGREQ or REGREL
// opening a call passes the call-token check (iax2-calltoken.ts) before any
// state exists. Malformed input is dropped and counted, never thrown.
import { createSocket, type Socket } from 'node:dgram';
import { literalLookup } from '../core/udp-lookup.js';
import { FrameType, Ie, IaxCmd } from './iax2-constants.js';
import { CallTokens } from './iax2-calltoken.js';
import { buildFull, FULL_HEADER, type FullFrame, IeBuilder, Ies, Iax2ParseError, parseFrame } from './iax2-frame.js';
import { Iax2Session, type Iax2Clock, type PeerAddress, realClock, type SessionIo } from './iax2-session.js';

/** a session's owner above the reliable layer: a call or a registration */
export interface SessionOwner {
  /** a mini frame (or trunk entry) for this call: ts is the low 16 bits */
  onMini?(ts16: number, data: Buffer): void;
  /** Asterisk's CALLTOKEN answer to our opening frame: resend it with this token */
  onCallToken?(token: string): void;
}

export interface Iax2Counters {
  framesIn: number;
  framesOut: number;
  malformed: number;
  /** refused by the packet gate (banned address) */
  gated: number;
  /** NEW/REGREQ/REGREL without a CALLTOKEN element where one is required */
  tokenMissing: number;
  /** a token that we did not issue, or too old */
  tokenInvalid: number;
  /** empty CALLTOKEN elements answered with a token */
  tokenIssued: number;
  /** empty CALLTOKEN in a request under two thirds of our answer's size: dropped (no amplification) */
  tokenSmall: number;
  /** frames for a call number we do not have */
  unknownCall: number;
  retransmissions: number;
}

/** what opens state: the server side (registrar, incoming calls) */
export interface Iax2Acceptor {
  /** a NEW that passed the token check; the session is new and owned by the caller */
  newCall(session: Iax2Session, f: FullFrame, ies: Ies): SessionOwner | null;
  /** a REGREQ or REGREL that passed the token check */
  register(session: Iax2Session, f: FullFrame, ies: Ies): SessionOwner | null;
}

export interface Iax2EngineOptions {
  address: string;
  port: number;
  /** the packet gate: false = drop unparsed */
  admit(address: string): boolean;
  /** does a NEW/REGREQ from this address need a call token? (Asterisk's requirecalltoken / calltokenoptional) */
  requireCallToken(address: string): boolean;
  clock?: Iax2Clock;
  retransmitMs?: number;
  maxTries?: number;
  onError?(where: string, err: Error): void;
}

interface Entry {
  session: Iax2Session;
  owner: SessionOwner | null;
}

export class Iax2Engine {
  private socket: Socket | null = null;
  private readonly byLocal = new Map<number, Entry>();
  /** the peer's call number → our entries (mini frames name only the sender's) */
  private readonly byRemote = new Map<number, Entry[]>();
  private nextCall = 1 + Math.floor(Math.random() * 30000);
  readonly tokens: CallTokens;
  readonly counters: Iax2Counters = {
    framesIn: 0,
    framesOut: 0,
    malformed: 0,
    gated: 0,
    tokenMissing: 0,
    tokenInvalid: 0,
    tokenIssued: 0,
    tokenSmall: 0,
    unknownCall: 0,
    retransmissions: 0,
  };
  acceptor: Iax2Acceptor | null = null;
  private readonly io: SessionIo;
  /** a copy of every datagram in and out (troubleshooting, tests) */
  tap: ((dir: 'in' | 'out', buf: Buffer, peer: PeerAddress) => void) | null = null;

  constructor(private readonly o: Iax2EngineOptions) {
    this.tokens = new CallTokens(o.clock ? () => o.clock!.now() : undefined);
    this.io = {
      send: (buf, to) => this.sendRaw(buf, to),
      clock: o.clock ?? realClock,
      retransmitMs: o.retransmitMs ?? 500,
      maxTries: o.maxTries ?? 6,
    };
  }

  get clock(): Iax2Clock {
    return this.io.clock;
  }

  async listen(): Promise<void> {
    const s = createSocket({ type: this.o.address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024, lookup: literalLookup });
    s.on('message', (buf, rinfo) => this.receive(buf, { address: rinfo.address, port: rinfo.port }));
    s.on('error', (err) => this.o.onError?.('socket', err));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.o.port, this.o.address, () => {
        s.off('error', reject);
        resolve();
      });
    });
    this.socket = s;
  }

  get localPort(): number {
    return this.socket?.address().port ?? this.o.port;
  }

  get localAddress(): string {
    return this.o.address;
  }

  get sessions(): number {
    return this.byLocal.size;
  }

  sendRaw(buf: Buffer, to: PeerAddress): void {
    this.counters.framesOut++;
    this.tap?.('out', buf, to);
    this.socket?.send(buf, to.port, to.address);
  }

  /** a new session of our own (an outgoing call or registration) */
  open(remote: PeerAddress, owner: SessionOwner | null): Iax2Session {
    const s = new Iax2Session(this.allocateCall(), remote, this.io);
    this.byLocal.set(s.localCall, { session: s, owner });
    return s;
  }

  setOwner(s: Iax2Session, owner: SessionOwner): void {
    const e = this.byLocal.get(s.localCall);
    if (e) e.owner = owner;
  }

  /** forget a session (its call ended); late frames for it are counted as unknown */
  release(s: Iax2Session): void {
    s.close();
    this.counters.retransmissions += s.retransmissions;
    const e = this.byLocal.get(s.localCall);
    if (!e || e.session !== s) return;
    this.byLocal.delete(s.localCall);
    this.unindexRemote(s.remoteCall, e);
  }

  private allocateCall(): number {
    for (let i = 0; i < 32767; i++) {
      const n = this.nextCall;
      this.nextCall = this.nextCall >= 32767 ? 1 : this.nextCall + 1;
      if (!this.byLocal.has(n)) return n;
    }
    throw new Error('no IAX2 call number free');
  }

  private indexRemote(callno: number, e: Entry): void {
    if (callno === 0) return;
    const list = this.byRemote.get(callno);
    if (list) list.push(e);
    else this.byRemote.set(callno, [e]);
  }

  private unindexRemote(callno: number, e: Entry): void {
    const list = this.byRemote.get(callno);
    if (!list) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byRemote.delete(callno);
  }

  /** one datagram from the socket (public for tests that inject frames) */
  receive(buf: Buffer, from: PeerAddress): void {
    this.counters.framesIn++;
    if (!this.o.admit(from.address)) {
      this.counters.gated++;
      return;
    }
    this.tap?.('in', buf, from);
    try {
      if (buf.length >= 4 && (buf[0]! & 0x80) === 0 && (buf[0]! | buf[1]!) !== 0) {
        // the media path: a mini frame, read in place
        this.mini((buf.readUInt16BE(0) & 0x7fff) as number, buf.readUInt16BE(2), buf.subarray(4), from);
        return;
      }
      const f = parseFrame(buf);
      if (f.kind === 'full') this.full(f, buf.length, from);
      else if (f.kind === 'trunk') for (const e of f.entries) this.mini(e.src, e.ts >= 0 ? e.ts : f.ts & 0xffff, e.data, from);
      // video mini frames: no video here; dropped
    } catch (err) {
      if (err instanceof Iax2ParseError) this.counters.malformed++;
      else this.o.onError?.('receive', err as Error);
    }
  }

  private mini(src: number, ts: number, data: Buffer, from: PeerAddress): void {
    const list = this.byRemote.get(src);
    if (list) {
      for (const e of list) {
        const r = e.session.remote;
        if (r.port === from.port && r.address === from.address) {
          e.owner?.onMini?.(ts, data);
          return;
        }
      }
    }
    this.counters.unknownCall++;
  }

  private full(f: FullFrame, size: number, from: PeerAddress): void {
    if (f.dst !== 0) {
      const e = this.byLocal.get(f.dst);
      if (!e || e.session.remote.port !== from.port || e.session.remote.address !== from.address) {
        this.counters.unknownCall++;
        return;
      }
      if (f.type === FrameType.IAX && f.subclass === IaxCmd.CALLTOKEN) {
        // stateless on the peer's side: not sequenced, not acknowledged
        const t = Ies.parse(f.data).bytes(Ie.CALLTOKEN);
        if (t && t.length > 0) e.owner?.onCallToken?.(t.toString('latin1'));
        return;
      }
      const had = e.session.remoteCall;
      e.session.receive(f);
      if (had !== e.session.remoteCall && !e.session.isClosed) {
        this.unindexRemote(had, e);
        this.indexRemote(e.session.remoteCall, e);
      }
      return;
    }
    if (f.type !== FrameType.IAX) {
      this.counters.unknownCall++;
      return;
    }
    switch (f.subclass) {
      case IaxCmd.NEW:
      case IaxCmd.REGREQ:
      case IaxCmd.REGREL:
        return this.opening(f, size, from);
      case IaxCmd.POKE:
        // RFC 5456 §6.7.1 (qualify): PONG without creating a call; the same size as the POKE
        this.sendRaw(buildFull({ src: 1, dst: f.src, ts: f.ts, oseq: 0, iseq: 1, type: FrameType.IAX, subclass: IaxCmd.PONG }), from);
        return;
      default:
        this.counters.unknownCall++;
    }
  }

  /** NEW / REGREQ / REGREL to call number 0: the call-token gate, then a session */
  private opening(f: FullFrame, size: number, from: PeerAddress): void {
    const ies = Ies.parse(f.data);
    const token = ies.bytes(Ie.CALLTOKEN);
    if (this.o.requireCallToken(from.address)) {
      if (token === undefined) {
        this.counters.tokenMissing++;
        // Asterisk answers a bare REJECT/REGREJ (12 bytes: never more than the request)
        this.apathetic(f, f.subclass === IaxCmd.NEW ? IaxCmd.REJECT : IaxCmd.REGREJ, undefined, from);
        return;
      }
      if (token.length === 0) {
        const ie = new IeBuilder().str(Ie.CALLTOKEN, this.tokens.issue(from.address, from.port)).build();
        // one datagram for one, at most 1.5 times its size: no amplification worth a spoofer's while
        if (FULL_HEADER + ie.length > size * 1.5 || (f.subclass !== IaxCmd.NEW && !ies.has(Ie.USERNAME))) {
          this.counters.tokenSmall++;
          return;
        }
        this.counters.tokenIssued++;
        this.apathetic(f, IaxCmd.CALLTOKEN, ie, from);
        return;
      }
      if (!this.tokens.verify(token.toString('latin1'), from.address, from.port)) {
        this.counters.tokenInvalid++;
        return;
      }
    }
    // a retransmission of an opening frame we already took: give it to that session
    for (const e of this.byRemote.get(f.src) ?? []) {
      const r = e.session.remote;
      if (r.port === from.port && r.address === from.address && !e.session.isClosed) {
        e.session.receive(f);
        return;
      }
    }
    const acceptor = this.acceptor;
    if (!acceptor) return;
    const session = new Iax2Session(this.allocateCall(), from, this.io);
    const entry: Entry = { session, owner: null };
    this.byLocal.set(session.localCall, entry);
    session.remoteCall = f.src;
    this.indexRemote(f.src, entry);
    // the opening frame goes through the reliable layer (sequenced, acknowledged);
    // the owner (a call, a registration) takes the session's later frames itself
    session.onFrame = (first) => {
      entry.owner = f.subclass === IaxCmd.NEW ? acceptor.newCall(session, first, ies) : acceptor.register(session, first, ies);
    };
    session.receive(f);
  }

  /** a reply that opens no state (Asterisk's send_apathetic_reply) */
  private apathetic(f: FullFrame, subclass: number, data: Buffer | undefined, to: PeerAddress): void {
    this.sendRaw(buildFull({ src: 1, dst: f.src, ts: f.ts, oseq: f.iseq, iseq: (f.oseq + 1) & 0xff, type: FrameType.IAX, subclass }, data), to);
  }

  close(): void {
    for (const e of [...this.byLocal.values()]) this.release(e.session);
    this.socket?.close();
    this.socket = null;
  }
}
