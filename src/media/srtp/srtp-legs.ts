// SDES keys of a relayed call (RFC 4568): Palisade terminates SRTP on each
// leg. What a party sends is decrypted with the key in that party's own
// a=crypto; what Palisade sends the party is encrypted with a key Palisade
// made for that leg and put in the SDP it sent there. Each leg has its own
// pair, so neither party ever learns the other's keys.
import { SrtpContext, type SrtpSuite } from './srtp-context.js';
import { chooseCrypto, formatCrypto, newKeySalt } from './sdes.js';
import { PalisadeError } from '../../core/errors.js';

export type Leg = 'a' | 'b';

interface Keyed {
  suite: SrtpSuite;
  key: Buffer;
  ctx: SrtpContext;
}

export class SrtpError extends PalisadeError {
  declare readonly code: 'PAL_ERR_SRTP_OFFER';
  constructor(message: string) {
    super('PAL_ERR_SRTP_OFFER', message);
  }
}

/** RTP/SAVP and RTP/SAVPF (RFC 3711 §12, RFC 5124) */
export function isSecureProfile(proto: string): boolean {
  const p = proto.toUpperCase();
  return p === 'RTP/SAVP' || p === 'RTP/SAVPF';
}

export class SrtpLegs {
  /** the key each party sends with (from its SDP) */
  private fromParty: Record<Leg, Keyed | null> = { a: null, b: null };
  /** the key Palisade sends to each party with (in the SDP Palisade sent it) */
  private toParty: Record<Leg, Keyed | null> = { a: null, b: null };

  /**
   * An SDP m-line from party `from`: learns its key and returns the a=crypto
   * value to put in what goes to the other party (null: plain RTP there).
   * Throws SrtpError when the sender insists on SRTP with nothing usable.
   */
  onMedia(from: Leg, proto: string, cryptoValues: string[]): string | null {
    const to: Leg = from === 'a' ? 'b' : 'a';
    if (cryptoValues.length === 0) {
      if (isSecureProfile(proto)) throw new SrtpError(`${proto} without a=crypto (DTLS-SRTP is not supported on this path)`);
      this.plain();
      return null;
    }
    const c = chooseCrypto(cryptoValues);
    if (c === null) {
      if (isSecureProfile(proto)) throw new SrtpError('no a=crypto with a supported suite (AES_CM_128_HMAC_SHA1_80/_32, one inline key, no MKI)');
      // best-effort SRTP over RTP/AVP we cannot use: plain RTP both ways
      this.plain();
      return null;
    }
    const cur = this.fromParty[from];
    if (!cur || cur.suite !== c.suite || !cur.key.equals(c.keySalt)) {
      // a new key is a new cryptographic context (RFC 4568 §7.1.4)
      this.fromParty[from] = { suite: c.suite, key: c.keySalt, ctx: new SrtpContext(c.suite, c.keySalt) };
    }
    let mine = this.toParty[to];
    if (!mine || mine.suite !== c.suite) {
      const key = newKeySalt();
      mine = { suite: c.suite, key, ctx: new SrtpContext(c.suite, key) };
      this.toParty[to] = mine;
    }
    // same tag and suite as the sender's chosen line: in an answer that is the
    // tag the other party offered (Palisade forwarded only that one line)
    return formatCrypto(c.tag, c.suite, mine.key);
  }

  /**
   * An SDP without usable a=crypto: the session that results is plain on
   * both legs (an offer so answered, or an answer refusing best-effort SRTP
   * offered as RTP/AVP: the offerer then sends plain RTP too).
   */
  private plain(): void {
    this.fromParty = { a: null, b: null };
    this.toParty = { a: null, b: null };
  }

  /** contexts for a leg: decrypt what the party sends, encrypt what it receives */
  contexts(leg: Leg): { fromParty: SrtpContext | null; toParty: SrtpContext | null } {
    return { fromParty: this.fromParty[leg]?.ctx ?? null, toParty: this.toParty[leg]?.ctx ?? null };
  }

  /** whether the leg's party sends SRTP (for the encryption-required policy and call listings) */
  isSecure(leg: Leg): boolean {
    return this.fromParty[leg] !== null;
  }
}
