// Server nonces for digest authentication, verifiable without server state,
// and the nonce-count (nc) tracker that stops replays.
//
// A nonce is base64url(ts:u32 || counter:u32 || HMAC-SHA256(key, ts||counter||realm)[0..16]),
// 32 characters. RFC 7616 §3.3 leaves the nonce format to the server and
// suggests exactly this shape: a time stamp plus a keyed hash, so the server
// recomputes the hash on receipt and checks the time stamp for freshness.
// One HMAC per issue and per check keeps it cheap at thousands per second.
import crypto, { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ownString } from '../../core/own-string.js';

// One-shot hashing (node >= 20.12): no Hash object per call. createHmac costs
// ~2.6 µs here, of which the hashing is a fraction; two one-shot SHA-256 over
// precomputed ipad/opad blocks (RFC 2104 §2) give the same MAC in ~0.9 µs.
// Hex output and Buffer#write(hex) are the cheap way in and out: asking the
// one-shot for a Buffer costs twice a hex string.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: Buffer, enc: 'hex') => string }).hash;
const BLOCK = 64; // SHA-256 block size

const MAC_LEN = 16;
const RAW_LEN = 8 + MAC_LEN; // 24 bytes -> 32 base64url chars, no padding
const NONCE_LEN = 32;

export type NonceState = 'fresh' | 'expired' | 'invalid';

export interface NonceCheck {
  state: NonceState;
  /** issue time in epoch seconds (0 when invalid) */
  issuedAt: number;
}

export interface NonceManagerOptions {
  realm: string;
  lifetimeSec: number;
  /** the HMAC key (fixed in tests); random when absent. Never shared between processes: the nc record that stops replays is per process */
  key?: Buffer;
  clock?: () => number; // epoch ms
}

export class NonceManager {
  readonly lifetimeSec: number;
  private readonly key: Buffer;
  private readonly realm: Buffer;
  private readonly clock: () => number;
  private counter: number;
  // scratch buffers reused per call: the nonce path allocates only the output string
  private readonly raw = Buffer.alloc(RAW_LEN);
  private readonly check8 = Buffer.alloc(RAW_LEN);
  private readonly macOut = Buffer.alloc(MAC_LEN);
  // HMAC's two hash inputs, key-padded once: ipad-key || ts || counter || realm, and opad-key || inner digest
  private readonly inner: Buffer;
  private readonly outer: Buffer;

  constructor(opts: NonceManagerOptions) {
    if (opts.key !== undefined && opts.key.length < 16) throw new Error('PAL_ERR_NONCE_KEY: nonce key must be at least 16 bytes');
    this.key = opts.key ?? randomBytes(32);
    this.realm = Buffer.from(opts.realm, 'utf8');
    this.lifetimeSec = opts.lifetimeSec;
    this.clock = opts.clock ?? Date.now;
    // random start so two workers sharing a key rarely issue the same nonce in the same second
    this.counter = randomBytes(4).readUInt32BE(0);
    // keys longer than a block are hashed first (RFC 2104 §2)
    const k = this.key.length > BLOCK ? createHash('sha256').update(this.key).digest() : this.key;
    this.inner = Buffer.alloc(BLOCK + 8 + this.realm.length, 0x36);
    this.outer = Buffer.alloc(BLOCK + 32, 0x5c);
    for (let i = 0; i < k.length; i++) {
      this.inner[i]! ^= k[i]!;
      this.outer[i]! ^= k[i]!;
    }
    this.realm.copy(this.inner, BLOCK + 8);
  }

  issue(): string {
    const ts = Math.floor(this.clock() / 1000) >>> 0;
    this.counter = (this.counter + 1) >>> 0;
    const raw = this.raw;
    raw.writeUInt32BE(ts, 0);
    raw.writeUInt32BE(this.counter, 4);
    this.mac(raw).copy(raw, 8);
    return raw.toString('base64url');
  }

  check(nonce: string): NonceCheck {
    if (nonce.length !== NONCE_LEN || !isBase64Url(nonce)) return INVALID;
    const buf = this.check8;
    if (buf.write(nonce, 'base64url') !== RAW_LEN) return INVALID;
    if (!timingSafeEqual(this.mac(buf), buf.subarray(8, RAW_LEN))) return INVALID;
    const issuedAt = buf.readUInt32BE(0);
    const now = this.clock() / 1000;
    // a time stamp from the future is only possible with a forged or foreign-clock nonce
    if (issuedAt > now + 5) return INVALID;
    return { state: now - issuedAt > this.lifetimeSec ? 'expired' : 'fresh', issuedAt };
  }

  /** the first MAC_LEN bytes of HMAC-SHA256(key, raw[0..8] || realm), in a scratch buffer valid until the next call */
  private mac(raw: Buffer): Buffer {
    if (oneShot === undefined) {
      createHmac('sha256', this.key).update(raw.subarray(0, 8)).update(this.realm).digest().copy(this.macOut, 0, 0, MAC_LEN);
      return this.macOut;
    }
    raw.copy(this.inner, BLOCK, 0, 8);
    this.outer.write(oneShot('sha256', this.inner, 'hex'), BLOCK, 32, 'hex');
    this.macOut.write(oneShot('sha256', this.outer, 'hex'), 0, MAC_LEN, 'hex');
    return this.macOut;
  }
}

// Node's base64url decoder also accepts '+' '/' and skips junk; only the
// canonical spelling is ours, so one nonce has exactly one string (the nc
// tracker is keyed by it).
function isBase64Url(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

const INVALID: NonceCheck = Object.freeze({ state: 'invalid', issuedAt: 0 }) as NonceCheck;

/** issue time (epoch s) encoded in a nonce of ours; the caller has already verified it */
function issuedAtOf(nonce: string): number {
  return Buffer.from(nonce.slice(0, 8), 'base64url').readUInt32BE(0);
}

/**
 * Highest nonce-count accepted per nonce (RFC 7616 §3.4.5: the server
 * "SHOULD" check nc to detect replays). A Map in first-use order: expired
 * nonces are dropped from the front on each insert, and when the map is full
 * the oldest entry is evicted and its issue time becomes a watermark — any
 * nonce issued at or before it that is no longer tracked is answered "stale"
 * (the client silently retries with a fresh nonce) instead of risking a
 * replay of a forgotten nonce. Memory is bounded by maxEntries.
 */
export class NonceCountTracker {
  private readonly seen = new Map<string, number>();
  private watermark = 0; // epoch s

  constructor(
    private readonly lifetimeSec: number,
    private readonly maxEntries = 200_000,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * Accept nc for a verified, fresh nonce. Returns 'ok', 'replay' (nc not
   * above the last accepted one) or 'forgotten' (nonce older than the
   * eviction watermark and not tracked any more).
   */
  accept(nonce: string, issuedAt: number, nc: number, nowSec: number): 'ok' | 'replay' | 'forgotten' {
    const last = this.seen.get(nonce);
    if (last !== undefined) {
      if (nc <= last) return 'replay';
      this.seen.set(nonce, nc); // keeps its insertion position: Map.set on an existing key does not reorder
      return 'ok';
    }
    if (issuedAt <= this.watermark) return 'forgotten';
    this.dropExpired(nowSec);
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
      this.watermark = Math.max(this.watermark, issuedAtOf(oldest));
      if (issuedAt <= this.watermark) return 'forgotten';
    }
    // the nonce is cut from the request's Authorization header: kept as a key, a slice would keep the whole request
    this.seen.set(ownString(nonce), nc);
    return 'ok';
  }

  private dropExpired(nowSec: number): void {
    // entries are in first-use order, which follows issue order closely; stop at the first live one
    let n = 0;
    for (const k of this.seen.keys()) {
      if (nowSec - issuedAtOf(k) <= this.lifetimeSec || ++n > 64) break;
      this.seen.delete(k);
    }
  }
}
