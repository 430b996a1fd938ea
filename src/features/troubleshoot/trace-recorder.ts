// The transport's SipTap for call traces. While a call (any Call-ID) is open
// its messages sit in a small per-Call-ID ring; when it ends the recorder
// decides whether to keep it, and only then copies and redacts:
//  - kept by default when it failed: a final status >= 300 (a 401/407 only
//    when the challenge was never answered), no final answer at all, or a
//    bridged call that Palisade itself hung up on every leg (media timeout,
//    maximum duration, a spend limit);
//  - kept while tracing is on for an extension it involves (ExtensionTraces).
// A B2BUA's outgoing leg has its own Call-ID; it is tied to the incoming leg
// because the INVITE that opens it is sent while that leg's message is being
// handled (SipTap.handled marks the end). Open calls are bounded in number
// and bytes; beyond that, new Call-IDs are not recorded (and counted).
import type { ListenPoint, Remote } from '../../transport/types.js';
import type { SipTap } from '../../transport/sip-tap.js';
import type { RtpTap } from '../../media/rtp/index.js';
import { scanSip, type SipSummary } from './sip-scan.js';
import { redactSipMessage } from './redact.js';
import { callUsers } from './call-users.js';
import { RtpCapture } from './rtp-capture.js';
import type { ExtensionTraces } from './extension-traces.js';
import type { TraceStore } from './trace-store.js';
import type { CallTrace, TraceLeg, TracedSip } from './trace-types.js';

/** where the recorder finds the relay session behind an RTP port Palisade advertised */
export interface RtpSessions {
  sessionAt(port: number): { setTap(tap: RtpTap | null): void } | undefined;
}

export interface TraceRecorderOptions {
  store: TraceStore;
  extensions: ExtensionTraces;
  rtp?: RtpSessions;
  /** epoch ms, fractional */
  now?: () => number;
  /** how long a leg stays open after its last final answer, for the ACK and retransmissions (ms) */
  lingerMs?: number;
  /** a request without a final answer this long is a failure (64*T1 and a margin) */
  noAnswerMs?: number;
  /** a dialog with no BYE this long is given up (and kept as failed) */
  dialogMaxMs?: number;
  maxOpenCalls?: number;
  maxOpenBytes?: number;
  /** messages per Call-ID kept from the start, and from the end, of a long dialog */
  ringHead?: number;
  ringTail?: number;
  /** RTP packets recorded per call */
  maxRtpPackets?: number;
}

interface Rec {
  t: number;
  dir: 'in' | 'out';
  remote: Remote;
  local: ListenPoint;
  data: Buffer;
  bodyStart: number;
}

class Group {
  readonly legs: OpenLeg[] = [];
  open = 0;
  rtp: RtpCapture | null = null;
  rtpSession: { setTap(tap: RtpTap | null): void } | null = null;
}

class OpenLeg {
  readonly head: Rec[] = [];
  readonly tail: Rec[] = [];
  tailNext = 0;
  elided = 0;
  bytes = 0;
  last: number;
  established = false;
  awaiting = false;
  /** a 401/407 not (yet) followed by the same request again */
  challenge = 0;
  challengeMethod = '';
  failure = '';
  byeIn = false;
  byeOut = false;
  closeAt = 0;
  /** a request that succeeded with nothing to keep: its messages are let go at once, the leg only lingers */
  released = false;
  private userList: string[] | null = null;

  constructor(
    readonly callId: string,
    readonly method: string,
    /** the request that opened the leg (head[0] holds it too, but may be trimmed) */
    private readonly opening: { data: Buffer; bodyStart: number },
    public group: Group,
    readonly first: number,
  ) {
    this.last = first;
    group.legs.push(this);
    group.open++;
  }

  /**
   * The users the opening request names, found when first asked: most legs
   * (a REGISTER answered, a call completed) are dropped without anyone
   * asking, so the packet path never pays for it.
   */
  get users(): string[] {
    if (this.userList === null) this.userList = callUsers(this.opening.data, this.opening.bodyStart);
    return this.userList;
  }
}

export interface RecorderStats {
  openCalls: number;
  openBytes: number;
  /** Call-IDs not recorded because the open caps were reached */
  skipped: number;
  dropped: number;
}

export class TraceRecorder implements SipTap {
  private readonly open = new Map<string, OpenLeg>();
  private openBytes = 0;
  private skipped = 0;
  private droppedCalls = 0;
  /** the leg whose message is being handled now (SipTap.received → handled) */
  private context: OpenLeg | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly linger: number;
  private readonly noAnswer: number;
  private readonly dialogMax: number;
  private readonly maxOpen: number;
  private readonly maxBytes: number;
  private readonly ringHead: number;
  private readonly ringTail: number;
  private readonly maxRtp: number;

  constructor(private readonly o: TraceRecorderOptions) {
    this.now = o.now ?? (() => performance.timeOrigin + performance.now());
    this.linger = o.lingerMs ?? 2000;
    this.noAnswer = o.noAnswerMs ?? 40_000;
    this.dialogMax = o.dialogMaxMs ?? 6 * 3600_000;
    this.maxOpen = o.maxOpenCalls ?? 5000;
    this.maxBytes = o.maxOpenBytes ?? 16 * 1024 * 1024;
    this.ringHead = o.ringHead ?? 12;
    this.ringTail = o.ringTail ?? 52;
    this.maxRtp = o.maxRtpPackets ?? 6000;
  }

  /** sweeps ended calls once a second (tests call sweep() themselves) */
  start(): void {
    this.timer = setInterval(() => this.sweep(), 1000);
    this.timer.unref();
  }

  /** stops sweeping; open calls are decided now */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const leg of [...this.open.values()]) this.finish(leg);
  }

  received(data: Buffer, remote: Remote, local: ListenPoint): void {
    try {
      this.context = this.record(data, 'in', remote, local, null);
    } catch {
      this.context = null;
    }
  }

  handled(): void {
    this.context = null;
  }

  sent(data: Buffer, remote: Remote, local: ListenPoint): void {
    try {
      this.record(data, 'out', remote, local, this.context);
    } catch {
      /* a trace is never worth a lost packet */
    }
  }

  private record(data: Buffer, dir: 'in' | 'out', remote: Remote, local: ListenPoint, cause: OpenLeg | null): OpenLeg | null {
    const s = scanSip(data);
    if (s === null) return null;
    const t = this.now();
    let leg = this.open.get(s.callId);
    if (leg === undefined) {
      // a call starts with a request; ACK and stray responses open nothing
      if (!s.isRequest || s.method === 'ACK') return null;
      if (this.open.size >= this.maxOpen || this.openBytes >= this.maxBytes) {
        this.skipped++;
        return null;
      }
    }
    if (leg?.released) {
      leg.last = t;
      return leg;
    }
    // stream transports hand slices of a larger read buffer, and a message we serialized may sit in
    // Node's shared 8 KB pool: keep a copy of just this message (a received datagram is its own)
    const bytes = remote.transport === 'udp' && dir === 'in' ? data : Buffer.from(data);
    if (leg === undefined) {
      // an INVITE sent while another call's message is handled is that call's new leg (B2BUA)
      const group = dir === 'out' && s.method === 'INVITE' && cause !== null ? cause.group : new Group();
      leg = new OpenLeg(s.callId, s.method, { data: bytes, bodyStart: s.bodyStart }, group, t);
      this.open.set(s.callId, leg);
    }
    this.push(leg, { t, dir, remote, local, data: bytes, bodyStart: s.bodyStart });
    this.update(leg, s, dir, t);
    if (dir === 'out' && s.bodyStart < data.length && leg.group.rtp === null && this.o.rtp && this.o.extensions.any) this.maybeCaptureRtp(leg.group, data, s.bodyStart);
    return leg;
  }

  private push(leg: OpenLeg, r: Rec): void {
    leg.last = r.t;
    const size = r.data.length;
    leg.bytes += size;
    this.openBytes += size;
    if (leg.head.length < this.ringHead) {
      leg.head.push(r);
      return;
    }
    if (leg.tail.length < this.ringTail) {
      leg.tail.push(r);
      return;
    }
    const old = leg.tail[leg.tailNext]!;
    leg.tail[leg.tailNext] = r;
    leg.tailNext = (leg.tailNext + 1) % this.ringTail;
    leg.elided++;
    leg.bytes -= old.data.length;
    this.openBytes -= old.data.length;
  }

  /** the leg's state from one message: established, failed, challenged, ended */
  private update(leg: OpenLeg, s: SipSummary, dir: 'in' | 'out', t: number): void {
    if (s.isRequest) {
      if (s.method === 'ACK') return;
      leg.awaiting = true;
      leg.closeAt = 0;
      if (leg.challenge !== 0 && s.method === leg.challengeMethod) leg.challenge = 0;
      if (s.method === 'BYE') {
        if (dir === 'in') leg.byeIn = true;
        else leg.byeOut = true;
      }
      return;
    }
    if (s.status < 200) return;
    leg.awaiting = false;
    const ends = t + this.linger;
    if (s.status === 401 || s.status === 407) {
      // RFC 3261 §22.2: answered by the same request with credentials, normally at once
      leg.challenge = s.status;
      leg.challengeMethod = s.cseqMethod;
      if (!leg.established) leg.closeAt = ends;
    } else if (s.status >= 300) {
      if (!leg.failure) leg.failure = `${s.status} ${s.cseqMethod}`;
      if (s.cseqMethod === leg.method && !leg.established) leg.closeAt = ends;
      if (s.cseqMethod === 'BYE') leg.closeAt = ends;
    } else if (s.cseqMethod === 'INVITE') {
      leg.established = true;
    } else if (s.cseqMethod === 'BYE' || (leg.method !== 'INVITE' && s.cseqMethod === leg.method)) {
      leg.closeAt = ends;
      // an answered REGISTER (OPTIONS, MESSAGE...) alone in its group, nobody traced: nothing will be
      // kept, so its messages go now rather than after the linger (less memory held, less for the GC)
      if (leg.method !== 'INVITE' && !leg.failure && leg.challenge === 0 && leg.group.legs.length === 1 && !this.o.extensions.any) this.release(leg);
    }
  }

  private release(leg: OpenLeg): void {
    this.openBytes -= leg.bytes;
    leg.bytes = 0;
    leg.head.length = 0;
    leg.tail.length = 0;
    leg.released = true;
  }

  /** Palisade's own SDP names the relay port: attach a capture to that relay session if an involved extension is traced */
  private maybeCaptureRtp(group: Group, data: Buffer, bodyStart: number): void {
    const users = group.legs.flatMap((l) => l.users);
    const mark = this.o.extensions.firstOf(users);
    if (!mark) return;
    const sdp = data.toString('latin1', bodyStart);
    const m = /^m=audio (\d+) /m.exec(sdp);
    const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
    if (!m || !c) return;
    const session = this.o.rtp!.sessionAt(Number(m[1]));
    if (!session) return;
    const payload = users.some((u) => this.o.extensions.get(u)?.payload === true);
    group.rtp = new RtpCapture(c[1]!, this.maxRtp, payload, this.now);
    group.rtpSession = session;
    session.setTap(group.rtp.tap);
  }

  /** closes legs past their linger, and legs silent too long */
  sweep(): void {
    const now = this.now();
    for (const leg of [...this.open.values()]) {
      if (leg.closeAt !== 0) {
        if (leg.closeAt <= now) this.finish(leg);
      } else if (leg.awaiting && now - leg.last > this.noAnswer) {
        if (!leg.failure) leg.failure = 'no final answer';
        this.finish(leg);
      } else if (leg.established && now - leg.first > this.dialogMax) {
        if (!leg.failure) leg.failure = 'dialog never ended';
        this.finish(leg);
      } else if (!leg.established && !leg.awaiting && now - leg.last > this.noAnswer) {
        this.finish(leg);
      }
    }
  }

  private finish(leg: OpenLeg): void {
    if (this.open.get(leg.callId) === leg) this.open.delete(leg.callId);
    this.openBytes -= leg.bytes;
    if (--leg.group.open === 0) this.decide(leg.group);
  }

  private decide(g: Group): void {
    g.rtpSession?.setTap(null);
    if (g.legs.every((l) => l.released)) {
      this.droppedCalls++;
      return;
    }
    const failures = g.legs.map((l) => l.failure || (l.challenge ? `${l.challenge} ${l.challengeMethod} never answered` : '')).filter((f) => f);
    const byes = g.legs.filter((l) => l.byeIn || l.byeOut);
    // in a bridged call a party hangs up and Palisade passes the BYE on; a BYE from Palisade on every leg ended the call itself
    const abnormal = g.legs.length >= 2 && byes.length >= 2 && byes.every((l) => l.byeOut && !l.byeIn) ? 'ended by Palisade on every leg' : '';
    let reason = '';
    if (failures.length) reason = `failed: ${failures[0]}`;
    else if (abnormal) reason = `failed: ${abnormal}`;
    else if (this.o.extensions.any) {
      const mark = this.o.extensions.firstOf([...new Set(g.legs.flatMap((l) => l.users))]);
      if (mark) reason = `traced extension ${mark.extension}`;
    }
    if (!reason) {
      this.droppedCalls++;
      return;
    }
    this.o.store.add(this.build(g, reason, failures.length > 0 || abnormal !== ''));
  }

  /** the kept form: legs, messages in time order, redacted copies */
  private build(g: Group, reason: string, failed: boolean): Omit<CallTrace, 'id'> {
    const legs: TraceLeg[] = g.legs.map((l) => ({ callId: l.callId, method: l.method, users: l.users, elided: l.elided }));
    const sip: TracedSip[] = [];
    let bytes = 256;
    g.legs.forEach((l, i) => {
      const tail = l.tail.length < this.ringTail ? l.tail : [...l.tail.slice(l.tailNext), ...l.tail.slice(0, l.tailNext)];
      for (const r of [...l.head, ...tail]) {
        const data = redactSipMessage(r.data, r.bodyStart);
        const here = { address: r.local.address, port: r.local.port };
        const there = { address: r.remote.address, port: r.remote.port };
        sip.push({ t: r.t, leg: i, dir: r.dir, transport: r.remote.transport, src: r.dir === 'in' ? there : here, dst: r.dir === 'in' ? here : there, data });
        bytes += data.length + 96;
      }
    });
    sip.sort((a, b) => a.t - b.t);
    const rtp = g.rtp?.packets ?? [];
    bytes += g.rtp?.bytes ?? 0;
    return {
      legs,
      reason,
      failed,
      start: sip[0]?.t ?? 0,
      end: sip.at(-1)?.t ?? 0,
      sip,
      rtp,
      rtpDropped: g.rtp?.dropped ?? 0,
      rtpPayload: g.rtp?.payload ?? false,
      bytes,
    };
  }

  /**
   * Ties a leg Palisade opened later (a Dial() branch, sent from the
   * dialplan, not while the caller's message was handled) to the call that
   * opened it: one trace, one ladder, one capture. False when either is not
   * open (not recorded, or already decided).
   */
  relate(parentCallId: string, childCallId: string): boolean {
    const parent = this.open.get(parentCallId);
    const child = this.open.get(childCallId);
    if (!parent || !child) return false;
    const from = child.group;
    const to = parent.group;
    if (from === to) return true;
    for (const l of from.legs) {
      l.group = to;
      to.legs.push(l);
    }
    to.open += from.open;
    from.legs.length = 0;
    from.open = 0;
    if (to.rtp === null && from.rtp !== null) {
      to.rtp = from.rtp;
      to.rtpSession = from.rtpSession;
    } else from.rtpSession?.setTap(null);
    return true;
  }

  stats(): RecorderStats {
    return { openCalls: this.open.size, openBytes: this.openBytes, skipped: this.skipped, dropped: this.droppedCalls };
  }
}
