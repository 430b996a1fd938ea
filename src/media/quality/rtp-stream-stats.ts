// Per-stream receive statistics with Wireshark's definitions (its RTP stream
// analysis, `tshark -z rtp,streams`, ui/tap-rtp-analysis.c and
// ui/tap-rtp-common.c), so that a figure Palisade stores for a call can be
// checked against a capture of the same packets. docs/media-quality.md
// explains each figure.
//
// This runs for every relayed packet: one call reads header bytes, updates
// numeric fields and a preallocated ring, and allocates nothing. Figures are
// copied out with snapshot() once, when a call ends.

/** RFC 3551 §6 static payload types: name and RTP clock rate (0: unknown/not audio here) */
const STATIC_NAMES: Record<number, string> = { 0: 'PCMU', 3: 'GSM', 4: 'G723', 8: 'PCMA', 9: 'G722', 13: 'CN', 18: 'G729', 19: 'CN' };
const STATIC_CLOCK = new Uint32Array(128);
for (const pt of [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 18, 19]) STATIC_CLOCK[pt] = 8000;
STATIC_CLOCK[6] = 16000; // DVI4/16000
// RFC 3551 §4.5.2: G.722's RTP clock is 8000 although it samples at 16 kHz (already 8000 above)

/** RFC 3389 comfort noise (13) and the old CN number (19): Wireshark leaves them out of delta and jitter */
function isCn(pt: number): boolean {
  return pt === 13 || pt === 19;
}

/** clock and name tables with an SDP's dynamic types, shared by every stream that names the same ones */
const PT_TABLES = new Map<string, { clocks: Uint32Array; names: Record<number, string> }>();

/** how far back a sequence number is remembered to tell a duplicate from a late packet */
const SEEN_WINDOW = 512;

export interface FarEndReport {
  /** RTCP SR/RR packets read from this party */
  reports: number;
  /** of the last report's first block (RFC 3550 §6.4.1): fraction lost since the previous report, 0..1 */
  fractionLost: number;
  /** cumulative number of packets lost (may be negative with duplicates) */
  cumulativeLost: number;
  /** interarrival jitter, ms (converted with the stream's clock rate) */
  jitterMs: number;
}

export interface StreamQuality {
  ssrc: number;
  /** payload type of the audio (the last non-CN type with a known clock), -1 before any */
  payloadType: number;
  codec: string;
  clockRate: number;
  /** timestamp step between consecutive packets, ms; 0 when unknown */
  ptimeMs: number;
  packets: number;
  /** Wireshark's "Lost": expected − received, expected = last seq (extended) − first seq + 1 */
  expected: number;
  lost: number;
  lossPct: number;
  /** Wireshark's "Seq errs": packets whose sequence number was not the next one */
  sequenceErrors: number;
  /** a sequence number seen again (within the last 512) */
  duplicates: number;
  /** arrived after a higher sequence number (late, not duplicate) */
  outOfOrder: number;
  /** RFC 3550 A.8 jitter in ms as Wireshark computes it: mean over the packets, and the maximum */
  jitterMeanMs: number;
  jitterMaxMs: number;
  /** largest gap between consecutive in-order packets, ms */
  maxDeltaMs: number;
  /** packets too short or not RTP version 2 (not counted above) */
  malformed: number;
  /** what the party reported about the stream it receives (RTCP SR/RR), null when it sent none */
  farEnd: FarEndReport | null;
}

export class RtpStreamStats {
  /** false: onRtp/onRtcp return at once (bench comparison, or accounting switched off) */
  enabled = true;
  // ---- Wireshark's tap_rtp_stat_t, as numbers
  private first = true;
  private ssrc = 0;
  private startSeq = 0;
  private stopSeq = 0;
  private seqNum = 0;
  private seqCycles = 0;
  private under = false;
  private sequence = 0;
  private totalNr = 0;
  private firstTs = 0;
  private lastNominal = 0;
  private prevSeq = 0;
  private prevTs = 0;
  private time = 0;
  private delta = 0;
  private jitter = 0;
  private maxJitter = 0;
  private meanJitter = 0;
  private maxDelta = 0;
  private pt = -1;
  private audioPt = -1;
  private clock = 0;
  private tsStep = 0;
  // ---- RFC 3550 A.1 extended highest sequence number, duplicates, reordering
  private highest = 0;
  /** extended sequence numbers by slot; allocated at the first packet (many streams never carry one) */
  private seen: Int32Array | null = null;
  private duplicates = 0;
  private outOfOrder = 0;
  private malformed = 0;
  // ---- figures of earlier SSRCs on the same flow (a new source restarts the sequence baseline)
  private prevExpected = 0;
  private prevPackets = 0;
  private prevSeqErrors = 0;
  private prevJitterSum = 0;
  private prevJitterN = 0;
  // ---- the party's RTCP reports
  private rrCount = 0;
  private rrFraction = 0;
  private rrCumLost = 0;
  private rrJitter = 0;
  /** clock rates for dynamic payload types (96-127) from the SDP; shared until one is set */
  private clocks: Uint32Array = STATIC_CLOCK;
  private names: Record<number, string> = STATIC_NAMES;
  /** the dynamic types named so far, the key of the shared table in use */
  private tableKey = '';

  /**
   * Names a dynamic payload type from the SDP's a=rtpmap. As in Wireshark,
   * telephone-event (RFC 4733) gets no clock: its timestamps stay put during
   * an event and would read as jitter.
   */
  setPayloadType(pt: number, name: string, clockRate: number): void {
    if (pt < 0 || pt > 127) return;
    const clock = name.toLowerCase() === 'telephone-event' ? 0 : clockRate;
    if (this.clocks[pt] === clock && this.names[pt] === name) return;
    // every call's SDP names the same few types: share one table per set of names, never mutated
    this.tableKey += `${pt}/${name}/${clock};`;
    const hit = PT_TABLES.get(this.tableKey);
    if (hit) {
      this.clocks = hit.clocks;
      this.names = hit.names;
      return;
    }
    const clocks = this.clocks.slice();
    clocks[pt] = clock;
    const names = { ...this.names, [pt]: name };
    if (PT_TABLES.size < 256) PT_TABLES.set(this.tableKey, { clocks, names });
    this.clocks = clocks;
    this.names = names;
  }

  /** One received RTP packet; `nowMs` is its arrival time in ms (any origin, e.g. performance.now()). */
  onRtp(msg: Buffer, nowMs: number): void {
    if (!this.enabled) return;
    if (msg.length < 12 || msg[0]! >> 6 !== 2) {
      this.malformed++;
      return;
    }
    const b1 = msg[1]!;
    const pt = b1 & 0x7f;
    const seq = (msg[2]! << 8) | msg[3]!;
    const ts = ((msg[4]! << 24) | (msg[5]! << 16) | (msg[6]! << 8) | msg[7]!) >>> 0;
    const ssrc = ((msg[8]! << 24) | (msg[9]! << 16) | (msg[10]! << 8) | msg[11]!) >>> 0;
    if (this.first || ssrc !== this.ssrc) {
      if (!this.first) this.foldSource();
      this.start(pt, seq, ts, ssrc, nowMs);
      return;
    }
    this.track(seq);

    // Wireshark: a timestamp before the stream's first one is a "wrong
    // timestamp"; such a packet takes no part in delta and jitter
    const inTime = ts >= this.firstTs && ts - this.firstTs < 0x80000000;
    let wrongSeq = false;
    // ---- sequence cycles and errors, exactly as tap-rtp-analysis.c counts them
    if (seq < this.startSeq && inTime && !this.under) {
      this.seqCycles++;
      this.under = true;
    } else if (seq === 0 && this.stopSeq === 65535 && inTime && !this.under) {
      this.seqCycles++;
      this.under = true;
    } else if (seq > this.startSeq && inTime && this.under) {
      this.under = false;
    }
    if (inTime && this.seqNum + 1 === seq) this.seqNum = seq;
    else if (inTime && this.seqNum === 65535 && seq === 0) this.seqNum = seq;
    else if (inTime && (this.seqNum + 1 < seq || this.seqNum - seq > 0xff00)) {
      this.seqNum = seq;
      this.sequence++;
      wrongSeq = true;
    } else if (this.seqNum + 1 > seq) {
      this.sequence++;
      wrongSeq = true;
    }
    const followCn = isCn(this.pt);
    this.pt = pt;
    const clock = this.clocks[pt]!;
    let diff = 0;
    if (inTime) {
      if (clock !== 0) {
        // RFC 3550 A.8 in ms: D = |arrival − (last arrival + (ts − last ts)/rate)|, J += (D − J)/16;
        // the last ts is that of the last packet with a clock (telephone-event has none)
        const nominal = (ts - this.firstTs) / (clock / 1000);
        diff = Math.abs(nowMs - (this.time + (nominal - this.lastNominal)));
        this.jitter = (15 * this.jitter + diff) / 16;
        this.lastNominal = nominal;
        if (!isCn(pt)) {
          this.clock = clock;
          this.audioPt = pt;
          if (!wrongSeq && seq === ((this.prevSeq + 1) & 0xffff) && ts > this.prevTs) this.tsStep = ts - this.prevTs;
        }
      }
      this.delta = nowMs - this.time;
    }
    // Wireshark's "regular" packets: not marked, not comfort noise, not after CN, not back in time
    if ((b1 & 0x80) === 0 && !isCn(pt) && !followCn && inTime) {
      if (this.delta > this.maxDelta) this.maxDelta = this.delta;
      if (clock !== 0) {
        if (this.jitter > this.maxJitter) this.maxJitter = this.jitter;
        // Wireshark's "Mean Jitter": J averaged over the packets after the first
        this.meanJitter = (this.meanJitter * (this.totalNr - 1) + this.jitter) / this.totalNr;
      }
    }
    if (inTime) this.time = nowMs;
    this.prevSeq = seq;
    this.prevTs = ts;
    this.stopSeq = seq;
    this.totalNr++;
  }

  private start(pt: number, seq: number, ts: number, ssrc: number, nowMs: number): void {
    this.first = false;
    this.ssrc = ssrc;
    this.startSeq = seq;
    this.stopSeq = seq;
    this.seqNum = seq;
    this.seqCycles = 0;
    this.under = false;
    this.sequence = 0;
    this.totalNr = 1;
    this.firstTs = ts;
    this.lastNominal = 0;
    this.prevSeq = seq;
    this.prevTs = ts;
    this.time = nowMs;
    this.delta = 0;
    this.jitter = 0;
    this.meanJitter = 0;
    this.pt = pt;
    if (this.clocks[pt]! !== 0 && !isCn(pt)) {
      this.audioPt = pt;
      this.clock = this.clocks[pt]!;
    }
    this.highest = 0x10000 + seq;
    const seen = (this.seen ??= new Int32Array(SEEN_WINDOW));
    seen.fill(-1);
    seen[this.highest % SEEN_WINDOW] = this.highest;
  }

  /** RFC 3550 A.1-style extension of `seq` around the highest so far; counts duplicates and late packets */
  private track(seq: number): void {
    let d = (seq - (this.highest & 0xffff)) & 0xffff;
    if (d >= 0x8000) d -= 0x10000;
    const ext = this.highest + d;
    const slot = ext % SEEN_WINDOW;
    const seen = this.seen!;
    if (seen[slot] === ext) {
      this.duplicates++;
      return;
    }
    seen[slot] = ext;
    if (d > 0) this.highest = ext;
    else this.outOfOrder++;
  }

  /** a new SSRC on the flow: keep what the old source added up to, start the sequence over */
  private foldSource(): void {
    this.prevExpected += this.expectedNow();
    this.prevPackets += this.totalNr;
    this.prevSeqErrors += this.sequence;
    this.prevJitterSum += this.meanJitter * this.totalNr;
    this.prevJitterN += this.totalNr;
  }

  private expectedNow(): number {
    return this.first ? 0 : this.stopSeq + this.seqCycles * 0x10000 - this.startSeq + 1;
  }

  /** One RTCP compound packet from the party (RFC 3550 §6.1): keeps the first report block of its last SR/RR. */
  onRtcp(msg: Buffer): void {
    if (!this.enabled) return;
    let off = 0;
    while (off + 8 <= msg.length) {
      if (msg[off]! >> 6 !== 2) return;
      const kind = msg[off + 1]!;
      const len = (((msg[off + 2]! << 8) | msg[off + 3]!) + 1) * 4;
      if (off + len > msg.length) return;
      const count = msg[off]! & 0x1f;
      if ((kind === 200 || kind === 201) && count > 0) {
        const b = off + (kind === 200 ? 28 : 8);
        if (b + 24 <= off + len) {
          this.rrCount++;
          this.rrFraction = msg[b + 4]! / 256;
          const cl = (msg[b + 5]! << 16) | (msg[b + 6]! << 8) | msg[b + 7]!;
          this.rrCumLost = cl & 0x800000 ? cl - 0x1000000 : cl;
          this.rrJitter = ((msg[b + 12]! << 24) | (msg[b + 13]! << 16) | (msg[b + 14]! << 8) | msg[b + 15]!) >>> 0;
        }
      }
      off += len;
    }
  }

  get packets(): number {
    return this.prevPackets + this.totalNr;
  }

  snapshot(): StreamQuality {
    const packets = this.packets;
    const expected = this.prevExpected + this.expectedNow();
    const lost = expected - packets;
    const n = this.prevJitterN + this.totalNr;
    const clock = this.clock || 8000;
    return {
      ssrc: this.ssrc,
      payloadType: this.audioPt,
      codec: this.audioPt < 0 ? '' : (this.names[this.audioPt] ?? `PT${this.audioPt}`),
      clockRate: this.clock,
      ptimeMs: this.tsStep > 0 && this.clock > 0 ? (this.tsStep * 1000) / this.clock : 0,
      packets,
      expected,
      lost,
      lossPct: expected > 0 ? (lost * 100) / expected : 0,
      sequenceErrors: this.prevSeqErrors + this.sequence,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      jitterMeanMs: n > 0 ? (this.prevJitterSum + this.meanJitter * this.totalNr) / n : 0,
      jitterMaxMs: this.maxJitter,
      maxDeltaMs: this.maxDelta,
      malformed: this.malformed,
      farEnd: this.rrCount === 0 ? null : { reports: this.rrCount, fractionLost: this.rrFraction, cumulativeLost: this.rrCumLost, jitterMs: (this.rrJitter * 1000) / clock },
    };
  }
}
