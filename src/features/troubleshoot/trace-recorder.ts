// The transport's SipTap for call traces. Every message received and sent is
// copied into one bounded ring of recent messages (a preallocated byte ring
// and typed arrays of time, length, Call-ID hash and a few flags): no object,
// map entry or string per message on the packet path, and nothing the
// garbage collector has to copy. A call's messages are looked for only when
// it is to be kept, by scanning the ring for its Call-IDs:
//  - kept by default when it failed: a final status >= 300 (a 401/407 only
//    when the challenge was never answered), no final answer within 40 s
//    while the ring still holds the request, or a bridged call that Palisade
//    itself hung up on every leg (media timeout, maximum duration, a spend
//    limit). The decision waits `lingerMs` after the failure (the ACK, the
//    other leg's answer, retransmissions), or less when the ring is about to
//    overwrite the failing message;
//  - kept while tracing is on for an extension it involves (ExtensionTraces):
//    such a call's messages are also copied aside as they pass (the first 12
//    and the last 52 of each leg), so a long call keeps its set-up.
// A B2BUA's outgoing leg has its own Call-ID; it is tied to the incoming leg
// because the INVITE that opens it is sent while that leg's message is being
// handled (SipTap.handled marks the end), or by relate() (a Dial() leg).
import type { ListenPoint, Remote, TransportKind } from '../../transport/types.js';
import type { SipTap } from '../../transport/sip-tap.js';
import type { RtpTap } from '../../media/rtp/index.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { bodyOffset, scanSip } from './sip-scan.js';
import { redactSipMessage } from './redact.js';
import { callUsers } from './call-users.js';
import { RtpCapture } from './rtp-capture.js';
import type { ExtensionTrace, ExtensionTraces } from './extension-traces.js';
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
  /** how long after a failure the call is looked at, for the ACK and retransmissions (ms) */
  lingerMs?: number;
  /** a request without a final answer this long is a failure (64*T1 and a margin) */
  noAnswerMs?: number;
  /** traced calls followed at once, and B2BUA/Dial() leg links remembered */
  maxOpenCalls?: number;
  /** bytes of the ring of recent messages */
  maxOpenBytes?: number;
  /** messages in the ring of recent messages */
  ringMessages?: number;
  /** messages per leg kept from the start, and from the end, of a long dialog */
  ringHead?: number;
  ringTail?: number;
  /** RTP packets recorded per call */
  maxRtpPackets?: number;
}

// flags of a ring record
const OUT = 1;
const REQUEST = 2;
const FINAL = 4; // a response >= 200
const ACK = 8;
const BYE = 16;
const TRANSPORT_SHIFT = 5; // 3 bits: an index into TRANSPORTS
const TRANSPORTS: TransportKind[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

// at most this many failed calls a second are looked for in the ring, and this many at once
const KEEP_RATE = 100;
const KEEP_BURST = 200;

// kinds of pending decisions
const K_FAIL = 1;
const K_CHALLENGE = 2;
const K_BYE_OUT = 3;
const K_TRACED_END = 4;
const K_NO_ANSWER = 5;

/** request methods by small code (0: another method) */
const METHODS = ['', 'INVITE', 'REGISTER', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'PRACK', 'PUBLISH'];
function methodCode(m: string): number {
  const i = METHODS.indexOf(m);
  return i < 0 ? 0 : i;
}

/** FNV-1a over the Call-ID's characters; never 0 (0 marks "no context") */
export function callIdHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

interface Rec {
  t: number;
  dir: 'in' | 'out';
  transport: TransportKind;
  remote: { address: string; port: number };
  local: { address: string; port: number };
  data: Buffer;
  callId: string;
  isRequest: boolean;
  method: string;
  status: number;
  cseqMethod: string;
}

/** a call of a traced extension: its messages copied aside as they pass */
class TracedCall {
  readonly hashes = new Set<number>();
  readonly legs = new Map<number, { head: Rec[]; tail: Rec[]; tailNext: number; elided: number }>();
  established = false;
  last = 0;
  bytes = 0;
  rtp: RtpCapture | null = null;
  rtpSession: { setTap(tap: RtpTap | null): void } | null = null;
  constructor(
    readonly mark: ExtensionTrace,
    readonly method: string,
  ) {}
}

export interface RecorderStats {
  /** messages and bytes in the ring now */
  messages: number;
  bytes: number;
  /** seconds of traffic the ring holds now */
  windowSeconds: number;
  /** decisions waiting (failures, challenges, Palisade's own BYEs, traced calls' ends) */
  pending: number;
  /** calls of traced extensions followed now */
  tracedOpen: number;
  /** decisions given up (their messages overwritten), traced calls not followed (cap), messages too large for the ring */
  skipped: number;
  /** failures already kept with their call, looked at again and let be */
  dropped: number;
  /** challenges decided by a pass over the ring (their Call-ID had left the look-up tables) */
  challengeScans: number;
}

export class TraceRecorder implements SipTap {
  private readonly now: () => number;
  private readonly linger: number;
  private readonly noAnswer: number;
  private readonly maxOpen: number;
  private readonly maxRtp: number;
  private readonly ringHead: number;
  private readonly ringTail: number;
  // the ring: record `seq` is at slot seq & mask, its bytes at pos % cap of `bytes`
  private readonly n: number;
  private readonly mask: number;
  private readonly cap: number;
  private buf: Buffer | null = null;
  private readonly tArr: Float64Array;
  private readonly posArr: Float64Array;
  private readonly lenArr: Int32Array;
  private readonly hashArr: Int32Array;
  private readonly flagArr: Uint8Array;
  private readonly methodArr: Uint8Array;
  /** the remote end: its address as an index into `addresses`, its port */
  private readonly addrArr: Int32Array;
  private readonly portArr: Uint16Array;
  private readonly locals: Array<ListenPoint | undefined>;
  private addresses: string[] = [];
  private addressIndex = new Map<string, number>();
  private lastAddress = '';
  private lastAddressIndex = -1;
  /** next record's number, and the oldest still whole */
  private seq = 0;
  private oldest = 0;
  /** virtual byte position (grows forever; the ring holds [head - cap, head)) */
  private head = 0;
  /** pending decisions, a FIFO of parallel number arrays */
  private qSeq: number[] = [];
  private qKind: number[] = [];
  private qDue: number[] = [];
  private qHash: number[] = [];
  private qCode: number[] = [];
  private qFirst = 0;
  /** where the no-answer check has reached */
  private naCursor = 0;
  /** child Call-ID hash → parent's: the legs of one call (two generations, the older dropped whole when the newer is full) */
  private links = new Map<number, number>();
  private linksOld = new Map<number, number>();
  /** parent → children, in the same two generations as the links (a call's legs found without a pass over every link) */
  private kids = new Map<number, number[]>();
  private kidsOld = new Map<number, number[]>();
  /** Call-ID hashes of BYEs received lately, and of their parent legs */
  private byesIn = new Set<number>();
  private byesInOld = new Set<number>();
  /** Call-ID hashes Palisade sent a BYE on lately (two generations) */
  private byesOut = new Set<number>();
  private byesOutOld = new Set<number>();
  /**
   * Call-ID hashes challenged lately (two generations), each with the
   * challenged method's code (255: any) and the seq + 1 of the last request
   * of that Call-ID that could answer it (0: none yet), as
   * `(seq + 1) * 256 + code`: a challenge's decision is a look-up, not a
   * pass over the ring. A hash the maps no longer hold falls back to that pass.
   */
  private challenged = new Map<number, number>();
  private challengedOld = new Map<number, number>();
  private challengeScans = 0;
  private readonly traced = new Map<number, TracedCall>();
  /** the hash of the received message being handled now (0: none) */
  private context = 0;
  private skipped = 0;
  /** failed calls taken from the ring: a token bucket (a flood of failures, a scanner's, is counted as skipped) */
  private tokens = KEEP_BURST;
  private tokensAt = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: TraceRecorderOptions) {
    const origin = performance.timeOrigin;
    this.now = o.now ?? (() => origin + performance.now());
    this.linger = o.lingerMs ?? 2000;
    this.noAnswer = o.noAnswerMs ?? 40_000;
    this.maxOpen = o.maxOpenCalls ?? 5000;
    this.maxRtp = o.maxRtpPackets ?? 6000;
    this.ringHead = o.ringHead ?? 12;
    this.ringTail = o.ringTail ?? 52;
    let n = 16;
    while (n < (o.ringMessages ?? 16384)) n *= 2;
    this.n = n;
    this.mask = n - 1;
    this.cap = Math.max(64 * 1024, o.maxOpenBytes ?? 8 * 1024 * 1024);
    this.tArr = new Float64Array(n);
    this.posArr = new Float64Array(n);
    this.lenArr = new Int32Array(n);
    this.hashArr = new Int32Array(n);
    this.flagArr = new Uint8Array(n);
    this.methodArr = new Uint8Array(n);
    this.addrArr = new Int32Array(n);
    this.portArr = new Uint16Array(n);
    this.locals = new Array(n).fill(undefined);
  }

  /** decides due calls four times a second (tests call sweep() themselves) */
  start(): void {
    this.timer = setInterval(() => this.sweep(), 250);
    this.timer.unref();
  }

  /** stops; pending decisions are taken now */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.decideDue(Number.POSITIVE_INFINITY, true);
    for (const tc of this.traced.values()) tc.rtpSession?.setTap(null);
    this.traced.clear();
  }

  received(data: Buffer, remote: Remote, local: ListenPoint, msg: SipMessage | null): void {
    try {
      this.context = this.record(data, false, remote, local, msg);
    } catch {
      this.context = 0;
    }
  }

  handled(): void {
    this.context = 0;
  }

  sent(data: Buffer, remote: Remote, local: ListenPoint, msg: SipMessage | null): void {
    try {
      this.record(data, true, remote, local, msg);
    } catch {
      /* a trace is never worth a lost packet */
    }
  }

  /** the packet path: one copy into the ring, a few numbers; returns the Call-ID's hash (0: not recorded) */
  private record(data: Buffer, out: boolean, remote: Remote, local: ListenPoint, msg: SipMessage | null): number {
    let callId: string | undefined;
    let status: number;
    let method: string;
    if (msg !== null) {
      callId = msg.get('call-id');
      status = msg.status;
      method = msg.method;
    } else {
      const s = scanSip(data);
      if (s === null) return 0;
      callId = s.callId;
      status = s.status;
      method = s.method;
    }
    if (callId === undefined || callId === '') return 0;
    const len = data.length;
    if (len > this.cap >> 3) {
      this.skipped++;
      return 0;
    }
    const hash = callIdHash(callId);
    const t = this.now();
    // the bytes: a message never wraps, the rest of the lap is left unused
    if (this.buf === null) this.buf = Buffer.allocUnsafeSlow(this.cap);
    let at = this.head % this.cap;
    if (at + len > this.cap) {
      this.head += this.cap - at;
      at = 0;
    }
    this.buf.set(data, at);
    const seq = this.seq++;
    const slot = seq & this.mask;
    const isRequest = status === 0;
    const mcode = isRequest ? methodCode(method) : 0;
    this.tArr[slot] = t;
    this.posArr[slot] = this.head;
    this.lenArr[slot] = len;
    this.hashArr[slot] = hash;
    this.methodArr[slot] = mcode;
    this.flagArr[slot] =
      (out ? OUT : 0) |
      (isRequest ? REQUEST : status >= 200 ? FINAL : 0) |
      (mcode === 3 ? ACK : mcode === 4 ? BYE : 0) |
      ((remote.transport === 'udp' ? 0 : TRANSPORTS.indexOf(remote.transport)) << TRANSPORT_SHIFT);
    const address = remote.address;
    this.addrArr[slot] = address === this.lastAddress ? this.lastAddressIndex : this.intern(address);
    this.portArr[slot] = remote.port;
    this.locals[slot] = local;
    this.head += len;
    // records whose bytes or slot are taken again are no longer whole
    const floor = this.head - this.cap;
    if (this.oldest < seq + 1 - this.n) this.oldest = seq + 1 - this.n;
    while (this.oldest < seq && this.posArr[this.oldest & this.mask]! < floor) this.oldest++;

    if (isRequest) {
      // a request that may answer a challenge on its Call-ID (RFC 3261 §22.2: the same request with credentials)
      if (this.challenged.size + this.challengedOld.size > 0) this.noteAnswer(hash, mcode, seq);
      // an INVITE sent while another call's message is handled opens that call's new leg (B2BUA)
      if (out && mcode === 1 && this.context !== 0 && this.context !== hash && this.parentOf(hash) === undefined) this.link(hash, this.context);
      // Palisade's own BYE, not sent on a party's: perhaps Palisade ended the call on every leg
      else if (mcode === 4) {
        if (!out) this.noteByeIn(hash);
        else {
          this.noteByeOut(hash);
          if (this.context === 0 && !this.byeJustReceived(hash)) this.enqueue(seq, K_BYE_OUT, t + this.linger, hash, 0);
        }
      }
    } else if (status >= 300) {
      const cseq = msg !== null ? cseqMethodOf(msg) : (scanSip(data)?.cseqMethod ?? '');
      if (status === 401 || status === 407) {
        const code = methodCode(cseq) || 255;
        this.noteChallenged(hash, code);
        this.enqueue(seq, K_CHALLENGE, t + this.linger, hash, code);
      } else this.enqueue(seq, K_FAIL, t + this.linger, hash, status);
    }
    if (this.o.extensions.any || this.traced.size > 0) this.followTraced(data, hash, out, isRequest, method, status, msg, seq);
    // a decision whose message is about to be overwritten is taken now
    if (this.qFirst < this.qSeq.length && this.atRisk(this.qSeq[this.qFirst]!)) this.decideDue(t, false);
    return hash;
  }

  /** remote addresses are kept as small numbers: no string or object held per message */
  private intern(address: string): number {
    let i = this.addressIndex.get(address);
    if (i === undefined) {
      if (this.addresses.length >= 65536) {
        // a scan from very many addresses: start the table again (older records show an unknown address)
        this.addresses = [];
        this.addressIndex = new Map();
      }
      i = this.addresses.length;
      this.addresses.push(address);
      this.addressIndex.set(address, i);
    }
    this.lastAddress = address;
    this.lastAddressIndex = i;
    return i;
  }

  private parentOf(child: number): number | undefined {
    return this.links.get(child) ?? this.linksOld.get(child);
  }

  private link(child: number, parent: number): void {
    if (this.links.size >= this.maxOpen >> 1) {
      this.linksOld = this.links;
      this.links = new Map();
      this.kidsOld = this.kids;
      this.kids = new Map();
    }
    this.links.set(child, parent);
    const ks = this.kids.get(parent);
    if (ks === undefined) this.kids.set(parent, [child]);
    else ks.push(child);
    const tc = this.traced.get(parent);
    if (tc !== undefined && !this.traced.has(child)) {
      tc.hashes.add(child);
      this.traced.set(child, tc);
    }
  }

  /**
   * Whether a party's BYE on this call was received (a B2BUA passes one on
   * once it has answered it, at once or after some asynchronous steps): then
   * Palisade's BYE is no sign of a call Palisade ended itself, and nothing is
   * left to decide. A set of the Call-ID hashes of recent BYEs received (and
   * their parent legs'), in two generations like the links: one entry per
   * call, whatever the load.
   */
  private byeJustReceived(hash: number): boolean {
    const parent = this.parentOf(hash);
    return this.byesIn.has(hash) || this.byesInOld.has(hash) || (parent !== undefined && (this.byesIn.has(parent) || this.byesInOld.has(parent)));
  }

  private noteChallenged(hash: number, code: number): void {
    if (this.challenged.size >= this.maxOpen) {
      this.challengedOld = this.challenged;
      this.challenged = new Map();
    }
    this.challengedOld.delete(hash);
    this.challenged.set(hash, code);
  }

  /** a request of a challenged Call-ID: it answers the challenge when it is the challenged method */
  private noteAnswer(hash: number, mcode: number, seq: number): void {
    const map = this.challenged.has(hash) ? this.challenged : this.challengedOld;
    const v = map.get(hash);
    if (v === undefined) return;
    const code = v % 256;
    if (code === mcode || code === 255) map.set(hash, (seq + 1) * 256 + code);
  }

  /** was the challenge recorded at `seq` answered by a later request of its Call-ID */
  private challengeAnswered(seq: number, hash: number, code: number): boolean {
    const v = this.challenged.get(hash) ?? this.challengedOld.get(hash);
    if (v !== undefined) return Math.floor(v / 256) - 1 > seq;
    // the maps moved on (very many challenges since): look in the ring
    this.challengeScans++;
    for (let s = Math.max(seq + 1, this.oldest); s < this.seq; s++) {
      const slot = s & this.mask;
      if (this.hashArr[slot] === hash && this.flagArr[slot]! & REQUEST && (this.methodArr[slot] === code || code === 255)) return true;
    }
    return false;
  }

  private noteByeIn(hash: number): void {
    if (this.byesIn.size >= this.maxOpen) {
      this.byesInOld = this.byesIn;
      this.byesIn = new Set();
    }
    this.byesIn.add(hash);
    const parent = this.parentOf(hash);
    if (parent !== undefined) this.byesIn.add(parent);
  }

  private noteByeOut(hash: number): void {
    if (this.byesOut.size >= this.maxOpen) {
      this.byesOutOld = this.byesOut;
      this.byesOut = new Set();
    }
    this.byesOut.add(hash);
  }

  private enqueue(seq: number, kind: number, due: number, hash: number, code: number): void {
    this.qSeq.push(seq);
    this.qKind.push(kind);
    this.qDue.push(due);
    this.qHash.push(hash);
    this.qCode.push(code);
  }

  /** within the oldest quarter of the ring (in records or in bytes) */
  private atRisk(seq: number): boolean {
    if (seq < this.oldest) return true;
    if (seq - this.oldest < this.n >> 2 && this.seq - this.oldest > this.n - (this.n >> 2)) return true;
    return this.posArr[seq & this.mask]! < this.head - this.cap + (this.cap >> 2);
  }

  /** the record `seq` as an object, its bytes copied out of the ring (the cold path) */
  private rec(seq: number): Rec | null {
    if (seq < this.oldest || seq >= this.seq || this.buf === null) return null;
    const slot = seq & this.mask;
    const at = this.posArr[slot]! % this.cap;
    const data = Buffer.from(this.buf.subarray(at, at + this.lenArr[slot]!));
    const s = scanSip(data);
    if (s === null) return null;
    const flags = this.flagArr[slot]!;
    const local = this.locals[slot]!;
    return {
      t: this.tArr[slot]!,
      dir: flags & OUT ? 'out' : 'in',
      transport: TRANSPORTS[(flags >> TRANSPORT_SHIFT) & 7]!,
      remote: { address: this.addresses[this.addrArr[slot]!] ?? '0.0.0.0', port: this.portArr[slot]! },
      local: { address: local.address, port: local.port },
      data,
      callId: s.callId,
      isRequest: s.isRequest,
      method: s.method,
      status: s.status,
      cseqMethod: s.cseqMethod,
    };
  }

  /** the Call-ID hashes of the call `hash` is a leg of (B2BUA and Dial() links) */
  private group(hash: number): Set<number> {
    let root = hash;
    for (let k = 0; k < 16; k++) {
      const p = this.parentOf(root);
      if (p === undefined || p === root) break;
      root = p;
    }
    const out = new Set<number>();
    this.addLegs(root, out);
    if (!out.has(hash)) this.addLegs(hash, out);
    return out;
  }

  /** `top` and every leg below it (a child whose link relate() moved elsewhere is left out) */
  private addLegs(top: number, out: Set<number>): void {
    out.add(top);
    const todo = [top];
    while (todo.length > 0) {
      const p = todo.pop()!;
      for (const m of [this.kidsOld, this.kids]) {
        const ks = m.get(p);
        if (ks === undefined) continue;
        for (const c of ks) {
          if (out.has(c) || this.parentOf(c) !== p) continue;
          out.add(c);
          todo.push(c);
        }
      }
    }
  }

  /** the ring's records of those Call-IDs, oldest first */
  private collect(hashes: Set<number>): Rec[] {
    const out: Rec[] = [];
    const h = this.hashArr;
    const m = this.mask;
    // a call of one or two legs (nearly all) is compared as numbers, without a set look-up per record
    const [a = 0, b = a] = hashes.size <= 2 ? [...hashes] : [];
    const few = hashes.size <= 2;
    for (let s = this.oldest; s < this.seq; s++) {
      const x = h[s & m]!;
      if (few ? x !== a && x !== b : !hashes.has(x)) continue;
      const r = this.rec(s);
      if (r !== null) out.push(r);
    }
    return out;
  }

  /** a traced extension's call: found at its first request, its messages copied aside while it lasts */
  private followTraced(data: Buffer, hash: number, out: boolean, isRequest: boolean, method: string, status: number, msg: SipMessage | null, seq: number): void {
    let tc = this.traced.get(hash);
    if (tc === undefined) {
      if (!isRequest || !this.o.extensions.any || method === 'ACK' || method === 'BYE' || method === 'CANCEL') return;
      const mark = this.o.extensions.firstOf(callUsers(data, bodyOffset(data)));
      if (mark === undefined) return;
      if (this.traced.size >= this.maxOpen) {
        this.skipped++;
        return;
      }
      tc = new TracedCall(mark, method);
      tc.hashes.add(hash);
      this.traced.set(hash, tc);
    }
    const r = this.rec(seq);
    if (r === null) return;
    tc.last = r.t;
    let leg = tc.legs.get(hash);
    if (leg === undefined) {
      leg = { head: [], tail: [], tailNext: 0, elided: 0 };
      tc.legs.set(hash, leg);
    }
    if (leg.head.length < this.ringHead) leg.head.push(r);
    else if (leg.tail.length < this.ringTail) leg.tail.push(r);
    else {
      leg.tail[leg.tailNext] = r;
      leg.tailNext = (leg.tailNext + 1) % this.ringTail;
      leg.elided++;
    }
    if (out && tc.rtp === null && this.o.rtp) {
      const bodyStart = bodyOffset(data);
      if (bodyStart < data.length) this.maybeCaptureRtp(tc, data, bodyStart);
    }
    if (isRequest || status < 200) return;
    const cseq = msg !== null ? cseqMethodOf(msg) : r.cseqMethod;
    if (cseq === 'INVITE' && status < 300) tc.established = true;
    // its end: a BYE answered, the opening request answered (not a challenge), or the INVITE refused
    const challenge = status === 401 || status === 407;
    if (cseq === 'BYE' || (!challenge && cseq === tc.method && (tc.method !== 'INVITE' || status >= 300))) {
      this.enqueue(seq, K_TRACED_END, r.t + this.linger, hash, 0);
    }
  }

  /** Palisade's own SDP names the relay port: attach a capture to that relay session */
  private maybeCaptureRtp(tc: TracedCall, data: Buffer, bodyStart: number): void {
    const sdp = data.toString('latin1', bodyStart);
    const m = /^m=audio (\d+) /m.exec(sdp);
    const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
    if (!m || !c) return;
    const session = this.o.rtp!.sessionAt(Number(m[1]));
    if (!session) return;
    tc.rtp = new RtpCapture(c[1]!, this.maxRtp, tc.mark.payload, this.now);
    tc.rtpSession = session;
    session.setTap(tc.rtp.tap);
  }

  /** takes the decisions that are due, and looks for requests never answered */
  sweep(): void {
    const now = this.now();
    this.decideDue(now, false);
    this.checkNoAnswer(now);
  }

  /**
   * A request the ring holds, older than noAnswer, with no final answer
   * after it on its Call-ID, is a failure. Requests overwritten before that
   * age are not looked at (a busy server's ring holds less than noAnswer).
   */
  private checkNoAnswer(now: number): void {
    let s = Math.max(this.naCursor, this.oldest);
    const limit = now - this.noAnswer;
    for (; s < this.seq && this.tArr[s & this.mask]! <= limit; s++) {
      const slot = s & this.mask;
      const f = this.flagArr[slot]!;
      if (!(f & REQUEST) || f & ACK) continue;
      const h = this.hashArr[slot]!;
      let answered = false;
      for (let k = s + 1; k < this.seq && !answered; k++) {
        const ks = k & this.mask;
        if (this.hashArr[ks] === h && this.flagArr[ks]! & FINAL) answered = true;
      }
      if (!answered) this.enqueue(s, K_NO_ANSWER, now, h, 0);
    }
    this.naCursor = s;
    this.decideDue(now, false);
  }

  private decideDue(now: number, all: boolean): void {
    while (this.qFirst < this.qSeq.length) {
      const i = this.qFirst;
      const seq = this.qSeq[i]!;
      if (!all && this.qDue[i]! > now && !this.atRisk(seq)) break;
      this.qFirst++;
      try {
        this.decide(seq, this.qKind[i]!, this.qHash[i]!, this.qCode[i]!, this.qDue[i]!);
      } catch {
        this.skipped++;
      }
    }
    if (this.qFirst > 1024 && this.qFirst * 2 > this.qSeq.length) {
      for (const q of [this.qSeq, this.qKind, this.qDue, this.qHash, this.qCode]) q.splice(0, this.qFirst);
      this.qFirst = 0;
    }
  }

  private decide(seq: number, kind: number, hash: number, code: number, due: number): void {
    const tc = this.traced.get(hash);
    if (kind === K_TRACED_END) {
      // something passed after the end was seen (a challenge answered, a re-INVITE): a later end decides
      if (tc === undefined || tc.last > due - this.linger) return;
      this.keepTraced(tc, `traced extension ${tc.mark.extension}`, false);
      return;
    }
    if (kind === K_CHALLENGE) {
      // RFC 3261 §22.2: answered by the same request with credentials, normally at once
      if (this.challengeAnswered(seq, hash, code)) return;
    } else if (kind === K_BYE_OUT && !this.endedByPalisade(hash)) return;
    const r = this.rec(seq);
    if (r === null) {
      this.skipped++;
      return;
    }
    let reason = '';
    if (kind === K_FAIL) reason = `${code} ${r.cseqMethod}`;
    else if (kind === K_NO_ANSWER) reason = 'no final answer';
    else if (kind === K_CHALLENGE) reason = `${r.status} ${r.cseqMethod} never answered`;
    else if (kind === K_BYE_OUT) reason = 'ended by Palisade on every leg';
    // a failure of a call kept already, with everything up to this message, is let be
    const kept = this.o.store.find(r.callId);
    if (kept?.failed && kept.end >= r.t) {
      this.dropped++;
      return;
    }
    if (tc !== undefined) {
      this.keepTraced(tc, `failed: ${reason}`, true);
      return;
    }
    const now = this.now();
    this.tokens = Math.min(KEEP_BURST, this.tokens + ((now - this.tokensAt) * KEEP_RATE) / 1000);
    this.tokensAt = now;
    if (this.tokens < 1) {
      this.skipped++;
      return;
    }
    this.tokens--;
    const g = this.group(hash);
    this.o.store.add(this.build(this.collect(g), `failed: ${reason}`, true));
  }

  /** every leg of the call that had a BYE had only Palisade's, and two legs or more did */
  private endedByPalisade(hash: number): boolean {
    const g = this.group(hash);
    if (g.size < 2) return false;
    let byeOut = 0;
    for (const h of g) {
      if (this.byesIn.has(h) || this.byesInOld.has(h)) return false;
      if (this.byesOut.has(h) || this.byesOutOld.has(h)) byeOut++;
    }
    return byeOut >= 2;
  }

  private keepTraced(tc: TracedCall, reason: string, failed: boolean): void {
    for (const h of tc.hashes) if (this.traced.get(h) === tc) this.traced.delete(h);
    tc.rtpSession?.setTap(null);
    const recs: Rec[] = [];
    const elided = new Map<string, number>();
    for (const leg of tc.legs.values()) {
      const tail = leg.tail.length < this.ringTail ? leg.tail : [...leg.tail.slice(leg.tailNext), ...leg.tail.slice(0, leg.tailNext)];
      recs.push(...leg.head, ...tail);
      if (leg.head[0]) elided.set(leg.head[0].callId, leg.elided);
    }
    recs.sort((a, b) => a.t - b.t);
    this.o.store.add(this.build(recs, reason, failed, tc, elided));
  }

  /** the kept form: legs in order of appearance, messages in time order, redacted */
  private build(recs: Rec[], reason: string, failed: boolean, tc?: TracedCall, elidedBefore?: Map<string, number>): Omit<CallTrace, 'id'> {
    const byLeg = new Map<string, Rec[]>();
    for (const r of recs) {
      let l = byLeg.get(r.callId);
      if (l === undefined) byLeg.set(r.callId, (l = []));
      l.push(r);
    }
    const legs: TraceLeg[] = [];
    const sip: TracedSip[] = [];
    let bytes = 256;
    let i = 0;
    for (const [callId, all] of byLeg) {
      const opening = all.find((r) => r.isRequest) ?? all[0]!;
      // a long dialog keeps its first and its last messages
      const cut = all.length > this.ringHead + this.ringTail;
      const kept = cut ? [...all.slice(0, this.ringHead), ...all.slice(all.length - this.ringTail)] : all;
      const elided = (elidedBefore?.get(callId) ?? 0) + all.length - kept.length;
      legs.push({ callId, method: opening.isRequest ? opening.method : opening.cseqMethod, users: callUsers(opening.data, bodyOffset(opening.data)), elided });
      for (const r of kept) {
        const data = redactSipMessage(r.data, bodyOffset(r.data));
        const src = r.dir === 'in' ? r.remote : r.local;
        const dst = r.dir === 'in' ? r.local : r.remote;
        sip.push({ t: r.t, leg: i, dir: r.dir, transport: r.transport, src, dst, data });
        bytes += data.length + 96;
      }
      i++;
    }
    sip.sort((a, b) => a.t - b.t);
    const rtp = tc?.rtp?.packets ?? [];
    bytes += tc?.rtp?.bytes ?? 0;
    return {
      legs,
      reason,
      failed,
      start: sip[0]?.t ?? 0,
      end: sip.at(-1)?.t ?? 0,
      sip,
      rtp,
      rtpDropped: tc?.rtp?.dropped ?? 0,
      rtpPayload: tc?.rtp?.payload ?? false,
      bytes,
    };
  }

  /**
   * Ties a leg Palisade opened later (a Dial() branch, sent from the
   * dialplan, not while the caller's message was handled) to the call that
   * opened it: one trace, one ladder, one capture. False when the child leg
   * is not in the ring.
   */
  relate(parentCallId: string, childCallId: string): boolean {
    const parent = callIdHash(parentCallId);
    const child = callIdHash(childCallId);
    if (parent === child) return true;
    let found = false;
    // the child's INVITE was sent moments ago: looked for from the newest record back
    for (let s = this.seq - 1; s >= this.oldest && !found; s--) if (this.hashArr[s & this.mask] === child) found = true;
    if (!found) return false;
    const ptc = this.traced.get(parent);
    const ctc = this.traced.get(child);
    if (ptc !== undefined && ctc !== undefined && ptc !== ctc) {
      // both followed: the child's copies join the parent's call
      for (const [h, leg] of ctc.legs) ptc.legs.set(h, leg);
      for (const h of ctc.hashes) {
        ptc.hashes.add(h);
        this.traced.set(h, ptc);
      }
      if (ptc.rtp === null && ctc.rtp !== null) {
        ptc.rtp = ctc.rtp;
        ptc.rtpSession = ctc.rtpSession;
      } else ctc.rtpSession?.setTap(null);
    }
    this.links.delete(child);
    this.linksOld.delete(child);
    this.link(child, parent);
    return true;
  }

  stats(): RecorderStats {
    const messages = this.seq - this.oldest;
    const bytes = messages === 0 ? 0 : this.head - this.posArr[this.oldest & this.mask]!;
    const windowMs = messages === 0 ? 0 : this.tArr[(this.seq - 1) & this.mask]! - this.tArr[this.oldest & this.mask]!;
    return {
      messages,
      bytes,
      windowSeconds: Math.round(windowMs) / 1000,
      pending: this.qSeq.length - this.qFirst,
      tracedOpen: new Set(this.traced.values()).size,
      skipped: this.skipped,
      dropped: this.dropped,
      challengeScans: this.challengeScans,
    };
  }
}

/** the CSeq method of a parsed message ('' without a CSeq) */
function cseqMethodOf(m: SipMessage): string {
  try {
    return m.cseq.method;
  } catch {
    return '';
  }
}
