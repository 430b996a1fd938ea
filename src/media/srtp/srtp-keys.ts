// SRTP key derivation (RFC 3711 §4.3): the session keys for RTP and RTCP are
// AES-CM keystream under the master key, started at an IV made from the
// master salt XOR (label || r). Palisade uses a key derivation rate of 0
// (RFC 4568 §6.1 default), so r = 0 and derivation happens once per key.
import { createCipheriv } from 'node:crypto';

export const MASTER_KEY_LEN = 16; // AES-128
export const MASTER_SALT_LEN = 14; // 112 bits
export const AUTH_KEY_LEN = 20; // HMAC-SHA1, 160 bits (RFC 3711 §4.2.1 default n_a)

/** RFC 3711 §4.3.2 labels */
export enum KeyLabel {
  RtpEncryption = 0,
  RtpAuth = 1,
  RtpSalt = 2,
  RtcpEncryption = 3,
  RtcpAuth = 4,
  RtcpSalt = 5,
}

export interface SessionKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

/** §4.3.1 with r = 0: x = (label << 48) XOR master_salt; IV = x * 2^16; output = AES-CM keystream */
export function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: KeyLabel, length: number): Buffer {
  if (masterKey.length !== MASTER_KEY_LEN) throw new RangeError(`master key must be ${MASTER_KEY_LEN} bytes`);
  if (masterSalt.length !== MASTER_SALT_LEN) throw new RangeError(`master salt must be ${MASTER_SALT_LEN} bytes`);
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  // key_id = label || r (7 bytes, r = 0) aligned to the low end of the 112-bit salt: the label is byte 7
  iv[7]! ^= label;
  const c = createCipheriv('aes-128-ctr', masterKey, iv);
  return c.update(Buffer.alloc(length));
}

export function deriveSessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean): SessionKeys {
  const base = rtcp ? KeyLabel.RtcpEncryption : KeyLabel.RtpEncryption;
  return {
    encKey: deriveKey(masterKey, masterSalt, base, MASTER_KEY_LEN),
    authKey: deriveKey(masterKey, masterSalt, (base + 1) as KeyLabel, AUTH_KEY_LEN),
    salt: deriveKey(masterKey, masterSalt, (base + 2) as KeyLabel, MASTER_SALT_LEN),
  };
}
