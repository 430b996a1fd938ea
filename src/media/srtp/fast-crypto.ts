// The two primitives SRTP runs per packet, made cheap: node's createCipheriv
// and createHmac cost ~4.5 µs and ~3.4 µs per call here, more than the whole
// relay hop. AES-CM reuses one AES-ECB cipher per session key to encrypt the
// counter blocks (RFC 3711 §4.1.1: keystream = E(k, IV + j)); HMAC-SHA1
// (RFC 2104) hashes with precomputed ipad/opad keys through one-shot hashing.
import crypto, { createCipheriv, createHash, type Cipher } from 'node:crypto';

export class AesCm {
  private readonly ecb: Cipher;
  private ctr = Buffer.alloc(0);

  constructor(key: Buffer) {
    this.ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.ecb.setAutoPadding(false);
  }

  /**
   * out[outOffset..] = data XOR keystream(iv). The IV's low 16 bits must be
   * zero (they are for SRTP and SRTCP: the IV is a value times 2^16), so block
   * j's counter is the IV with j in its last two bytes; 2^16 blocks suffice
   * for any packet.
   */
  xor(iv: Buffer, data: Buffer, out: Buffer, outOffset: number): void {
    const blocks = (data.length + 15) >>> 4;
    const need = blocks << 4;
    if (this.ctr.length < need) this.ctr = Buffer.alloc(Math.max(need, 256));
    const ctr = this.ctr;
    // plain loops: Buffer#copy costs more per call than 14 byte stores
    for (let j = 0; j < blocks; j++) {
      const o = j << 4;
      for (let b = 0; b < 14; b++) ctr[o + b] = iv[b]!;
      ctr[o + 14] = j >>> 8;
      ctr[o + 15] = j & 0xff;
    }
    const ks = this.ecb.update(ctr.subarray(0, need));
    for (let i = 0; i < data.length; i++) out[outOffset + i] = data[i]! ^ ks[i]!;
  }
}

const oneShot = (crypto as unknown as { hash?: (alg: string, data: Buffer, enc: 'buffer') => Buffer }).hash;
const sha1 = oneShot ? (b: Buffer) => oneShot('sha1', b, 'buffer') : (b: Buffer) => createHash('sha1').update(b).digest();

export class HmacSha1 {
  private readonly ipad = Buffer.alloc(64, 0x36);
  private readonly opad = Buffer.alloc(84, 0x5c);

  constructor(key: Buffer) {
    // keys up to 64 bytes are used as they are (RFC 2104 §2); SRTP's are 20
    const k = key.length > 64 ? sha1(key) : key;
    for (let i = 0; i < k.length; i++) {
      this.ipad[i]! ^= k[i]!;
      this.opad[i]! ^= k[i]!;
    }
  }

  /** HMAC-SHA1(key, a || b), where b is optional (the ROC for SRTP) */
  digest(a: Buffer, b?: Buffer): Buffer {
    const inner = Buffer.allocUnsafe(64 + a.length + (b?.length ?? 0));
    inner.set(this.ipad, 0);
    inner.set(a, 64);
    if (b) inner.set(b, 64 + a.length);
    // opad's last 20 bytes are scratch for the inner hash (one request at a time)
    this.opad.set(sha1(inner), 64);
    return sha1(this.opad);
  }
}
