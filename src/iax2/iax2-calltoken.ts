// Call tokens (Asterisk's `requirecalltoken`, chan_iax2.c since 1.6.2): a
// NEW, REGREQ or REGREL opens state only once the sender proved it receives
// at its source address. The first frame carries an empty CALLTOKEN element;
// we answer with a CALLTOKEN frame holding `<unix time>?<mac>`, where the MAC
// covers the source address, port and time under a key of this process; the
// sender repeats its frame with that token. No state is kept until then, so
// a forged source opens nothing. The token is kept short (19 characters) so
// the answer is one small datagram: iax2-engine.ts answers only requests at
// least two thirds of its size (a bandwidth factor of at most 1.5, one
// datagram for one) and drops the rest.
import { createHmac, randomBytes } from 'node:crypto';

/** Asterisk's MAX_CALLTOKEN_DELAY: a token is good for 10 s */
export const CALLTOKEN_LIFETIME_S = 10;

export class CallTokens {
  private readonly key: Buffer;

  constructor(
    private readonly now: () => number = () => Date.now(),
    key?: Buffer,
  ) {
    this.key = key ?? randomBytes(32);
  }

  issue(address: string, port: number): string {
    const t = Math.floor(this.now() / 1000);
    return `${t.toString(36)}?${this.mac(address, port, t)}`;
  }

  /** true for a token we issued to this address and port within the lifetime */
  verify(token: string, address: string, port: number): boolean {
    const q = token.indexOf('?');
    if (q <= 0 || q > 8) return false;
    const t = Number.parseInt(token.slice(0, q), 36);
    if (!Number.isInteger(t) || t.toString(36) !== token.slice(0, q)) return false;
    const age = Math.floor(this.now() / 1000) - t;
    if (age < 0 || age > CALLTOKEN_LIFETIME_S) return false;
    const mac = token.slice(q + 1);
    const want = this.mac(address, port, t);
    // constant-length compare (a mismatch in length fails anyway)
    if (mac.length !== want.length) return false;
    let diff = 0;
    for (let i = 0; i < mac.length; i++) diff |= mac.charCodeAt(i) ^ want.charCodeAt(i);
    return diff === 0;
  }

  private mac(address: string, port: number, t: number): string {
    // 72 bits of HMAC-SHA1 are plenty for a token that lives 10 s
    return createHmac('sha1', this.key).update(`${address}|${port}|${t}`).digest().subarray(0, 9).toString('base64url');
  }
}
