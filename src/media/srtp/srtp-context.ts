// SRTP and SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80 / _32: one context
// per direction of a leg (the key a party sends with, or the key Palisade
// sends to it with). Each SSRC seen keeps its own rollover counter and
// replay window (§3.2.3); the keys are shared, which SDES allows since the
// IV includes the SSRC.
import { timingSafeEqual } from 'node:crypto';
import { deriveSessionKeys, MASTER_KEY_LEN, MASTER_SALT_LEN, type SessionKeys } from './srtp-keys.js';
import { AesCm, HmacSha1 } from './fast-crypto.js';

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
export const SUPPORTED_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** RFC 3711 §3.3.2: a replay list of at least 64 packets */
const REPLAY_WINDOW = 64n;
const RTCP_TAG_LEN = 10; // SRTCP always uses the 80-bit tag (RFC 4568 §6.2.1)
/** SSRCs remembered per context: a call has one or two; a plain leg spraying SSRCs must not grow memory */
const MAX_STREAMS = 32;

function remember<T>(map: Map<number, T>, ssrc: number, v: T): T {
  if (map.size >= MAX_STREAMS) map.delete(map.keys().next().value!);
  map.set(ssrc, v);
  return v;
}

interface RtpStream {
  roc: number;
  /** highest sequence number seen (s_l) */
  sl: number;
  /** bit i set = index (highest - i) received */
  window: bigint;
  highest: bigint;
  started: boolean;
}

interface RtcpStream {
  /** next SRTCP index we send */
  nextIndex: number;
  window: bigint;
  highest: number;
  started: boolean;
}

export interface SrtpCounters {
  /** authentication tag mismatch: forged, corrupted, or the wrong key */
  authFailures: number;
  replays: number;
  /** too short to be (S)RTP(C) */
  malformed: number;
}

export class SrtpContext {
  readonly suite: SrtpSuite;
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly rtpCipher: AesCm;
  private readonly rtcpCipher: AesCm;
  private readonly rtpMac: HmacSha1;
  private readonly rtcpMac: HmacSha1;
  private readonly tagLen: number;
  private readonly rtpStreams = new Map<number, RtpStream>();
  private readonly rtcpStreams = new Map<number, RtcpStream>();
  readonly counters: SrtpCounters = { authFailures: 0, replays: 0, malformed: 0 };

  /** keyAndSalt: the 30 bytes of an SDES inline key (master key || master salt) */
  constructor(suite: SrtpSuite, keyAndSalt: Buffer) {
    if (keyAndSalt.length !== MASTER_KEY_LEN + MASTER_SALT_LEN) throw new RangeError('SRTP key||salt must be 30 bytes');
    this.suite = suite;
    const key = keyAndSalt.subarray(0, MASTER_KEY_LEN);
    const salt = keyAndSalt.subarray(MASTER_KEY_LEN);
    this.rtp = deriveSessionKeys(key, salt, false);
    this.rtcp = deriveSessionKeys(key, salt, true);
    this.rtpCipher = new AesCm(this.rtp.encKey);
    this.rtcpCipher = new AesCm(this.rtcp.encKey);
    this.rtpMac = new HmacSha1(this.rtp.authKey);
    this.rtcpMac = new HmacSha1(this.rtcp.authKey);
    this.tagLen = suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
  }

  // ---- RTP

  /** RTP → SRTP (§3.1): payload encrypted, tag over header||payload||ROC appended */
  protectRtp(pkt: Buffer): Buffer | null {
    const hdr = rtpHeaderLength(pkt);
    if (hdr < 0) {
      this.counters.malformed++;
      return null;
    }
    const ssrc = pkt.readUInt32BE(8);
    const seq = pkt.readUInt16BE(2);
    let s = this.rtpStreams.get(ssrc);
    if (!s) {
      s = remember(this.rtpStreams, ssrc, { roc: 0, sl: seq, window: 0n, highest: BigInt(seq), started: true });
    }
    // The packets we send are another party's stream relayed, maybe
    // reordered: the same estimate a receiver makes (Appendix A) keeps the
    // index both ends compute in step across a sequence number wrap.
    const roc = estimateRoc(s, seq);
    const index = (BigInt(roc) << 16n) | BigInt(seq);
    if (index > s.highest) {
      s.highest = index;
      s.roc = roc;
      s.sl = seq;
    }
    const out = Buffer.allocUnsafe(pkt.length + this.tagLen);
    pkt.copy(out, 0, 0, hdr);
    this.rtpCipher.xor(rtpIv(this.rtp.salt, ssrc, roc, seq), pkt.subarray(hdr), out, hdr);
    this.tag(out.subarray(0, pkt.length), roc).copy(out, pkt.length, 0, this.tagLen);
    return out;
  }

  /** SRTP → RTP (§3.3): null when too short, forged (tag mismatch) or replayed */
  unprotectRtp(pkt: Buffer): Buffer | null {
    const hdr = rtpHeaderLength(pkt);
    if (hdr < 0 || pkt.length < hdr + this.tagLen) {
      this.counters.malformed++;
      return null;
    }
    const ssrc = pkt.readUInt32BE(8);
    const seq = pkt.readUInt16BE(2);
    let s = this.rtpStreams.get(ssrc);
    // Appendix A: guess the ROC (v) from the highest sequence number seen
    const v = s?.started ? estimateRoc(s, seq) : 0;
    const index = (BigInt(v) << 16n) | BigInt(seq);
    if (s?.started && this.isReplay(index, s)) {
      this.counters.replays++;
      return null;
    }
    const body = pkt.length - this.tagLen;
    const expected = this.tag(pkt.subarray(0, body), v).subarray(0, this.tagLen);
    if (!timingSafeEqual(expected, pkt.subarray(body))) {
      this.counters.authFailures++;
      return null;
    }
    const out = Buffer.allocUnsafe(body);
    pkt.copy(out, 0, 0, hdr);
    this.rtpCipher.xor(rtpIv(this.rtp.salt, ssrc, v, seq), pkt.subarray(hdr, body), out, hdr);
    // only an authentic packet moves the state (§3.3.1)
    if (!s) {
      s = remember(this.rtpStreams, ssrc, { roc: v, sl: seq, window: 1n, highest: index, started: true });
    } else this.accept(index, s, v, seq);
    return out;
  }

  private isReplay(index: bigint, s: RtpStream): boolean {
    if (index > s.highest) return false;
    const delta = s.highest - index;
    if (delta >= REPLAY_WINDOW) return true; // too old to tell: treated as a replay (§3.3.2)
    return ((s.window >> delta) & 1n) === 1n;
  }

  private accept(index: bigint, s: RtpStream, v: number, seq: number): void {
    if (index > s.highest) {
      const shift = index - s.highest;
      s.window = shift >= REPLAY_WINDOW ? 1n : ((s.window << shift) | 1n) & ((1n << REPLAY_WINDOW) - 1n);
      s.highest = index;
      s.roc = v;
      s.sl = seq;
    } else s.window |= 1n << (s.highest - index);
  }

  // ---- RTCP

  /** RTCP → SRTCP (§3.4): everything after the first 8 bytes encrypted, E||index and an 80-bit tag appended */
  protectRtcp(pkt: Buffer): Buffer | null {
    if (pkt.length < 8 || pkt[0]! >> 6 !== 2) {
      this.counters.malformed++;
      return null;
    }
    const ssrc = pkt.readUInt32BE(4);
    let s = this.rtcpStreams.get(ssrc);
    if (!s) s = remember(this.rtcpStreams, ssrc, { nextIndex: 1, window: 0n, highest: 0, started: false });
    const index = s.nextIndex;
    s.nextIndex = (s.nextIndex + 1) & 0x7fffffff;
    const out = Buffer.allocUnsafe(pkt.length + 4 + RTCP_TAG_LEN);
    pkt.copy(out, 0, 0, 8);
    this.rtcpCipher.xor(rtcpIv(this.rtcp.salt, ssrc, index), pkt.subarray(8), out, 8);
    out.writeUInt32BE((0x80000000 | index) >>> 0, pkt.length);
    this.rtcpMac.digest(out.subarray(0, pkt.length + 4)).copy(out, pkt.length + 4, 0, RTCP_TAG_LEN);
    return out;
  }

  unprotectRtcp(pkt: Buffer): Buffer | null {
    if (pkt.length < 8 + 4 + RTCP_TAG_LEN || pkt[0]! >> 6 !== 2) {
      this.counters.malformed++;
      return null;
    }
    const body = pkt.length - RTCP_TAG_LEN;
    const expected = this.rtcpMac.digest(pkt.subarray(0, body)).subarray(0, RTCP_TAG_LEN);
    if (!timingSafeEqual(expected, pkt.subarray(body))) {
      this.counters.authFailures++;
      return null;
    }
    const word = pkt.readUInt32BE(body - 4);
    const encrypted = (word & 0x80000000) !== 0;
    const index = word & 0x7fffffff;
    const ssrc = pkt.readUInt32BE(4);
    let s = this.rtcpStreams.get(ssrc);
    if (!s) s = remember(this.rtcpStreams, ssrc, { nextIndex: 1, window: 0n, highest: 0, started: false });
    if (s.started) {
      if (index <= s.highest) {
        const delta = BigInt(s.highest - index);
        if (delta >= REPLAY_WINDOW || ((s.window >> delta) & 1n) === 1n) {
          this.counters.replays++;
          return null;
        }
        s.window |= 1n << delta;
      } else {
        const shift = BigInt(index - s.highest);
        s.window = shift >= REPLAY_WINDOW ? 1n : ((s.window << shift) | 1n) & ((1n << REPLAY_WINDOW) - 1n);
        s.highest = index;
      }
    } else {
      s.started = true;
      s.highest = index;
      s.window = 1n;
    }
    const plainLen = body - 4;
    const out = Buffer.allocUnsafe(plainLen);
    pkt.copy(out, 0, 0, 8);
    if (encrypted) {
      this.rtcpCipher.xor(rtcpIv(this.rtcp.salt, ssrc, index), pkt.subarray(8, plainLen), out, 8);
    } else pkt.copy(out, 8, 8, plainLen);
    return out;
  }

  /** §4.2: HMAC-SHA1 over the authenticated portion || ROC (full 20 bytes; callers truncate) */
  private tag(authenticated: Buffer, roc: number): Buffer {
    const r = Buffer.allocUnsafe(4);
    r.writeUInt32BE(roc >>> 0, 0);
    return this.rtpMac.digest(authenticated, r);
  }
}

/** RFC 3711 Appendix A: the ROC of a packet with sequence number seq, given the highest seen (s_l) */
function estimateRoc(s: RtpStream, seq: number): number {
  if (s.sl < 0x8000) return seq - s.sl > 0x8000 ? (s.roc - 1) >>> 0 : s.roc;
  return s.sl - 0x8000 > seq ? (s.roc + 1) >>> 0 : s.roc;
}

/** header length incl. CSRCs and extension (RFC 3550 §5.1, §5.3.1); -1 when malformed */
export function rtpHeaderLength(pkt: Buffer): number {
  if (pkt.length < 12 || pkt[0]! >> 6 !== 2) return -1;
  let len = 12 + 4 * (pkt[0]! & 0x0f);
  if (pkt[0]! & 0x10) {
    if (pkt.length < len + 4) return -1;
    len += 4 + 4 * pkt.readUInt16BE(len + 2);
  }
  return len <= pkt.length ? len : -1;
}

// one IV at a time: the relay is single-threaded and each IV is used at once
const IV = Buffer.alloc(16);

/** §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = ROC || SEQ */
function rtpIv(salt: Buffer, ssrc: number, roc: number, seq: number): Buffer {
  const iv = IV;
  iv.set(salt, 0);
  iv[14] = 0;
  iv[15] = 0;
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
  return iv;
}

/** §4.1.1 for SRTCP: the 31-bit SRTCP index takes the place of i */
function rtcpIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = IV;
  iv.set(salt, 0);
  iv[14] = 0;
  iv[15] = 0;
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // index occupies the low 48 bits of i: bytes 8..13 ← 0x0000 || index(32 bits)
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  return iv;
}
