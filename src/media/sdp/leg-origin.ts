// The o= line Palisade uses toward one leg of a call.
//
// RFC 3264 §8: "When issuing an offer that modifies the session, the "o="
// line of the new SDP MUST be identical to that in the previous SDP, except
// that the version in the origin field MUST increment by one from the
// previous SDP. If the version in the origin line does not increment, the
// SDP MUST be identical to the SDP with that version number."
//
// The B2BUA may feed one leg with descriptions from different parties over
// the life of a call (transfer, music on hold), so copying the other party's
// o= line would break that rule. One LegOrigin per leg keeps the session id
// of the first description sent on the leg and counts versions itself.
import type { Sdp } from './sdp-types.js';
import { serializeSdp } from './serialize-sdp.js';

export interface LegOriginOptions {
  /** the address Palisade advertises in o= on this leg */
  address: string;
  username?: string;
}

export class LegOrigin {
  private readonly username: string;
  private readonly address: string;
  private sessionId: string | null = null;
  private version = 0n;
  private lastContent: string | null = null;

  constructor(opts: LegOriginOptions) {
    this.address = opts.address;
    this.username = opts.username ?? 'palisade';
  }

  /** the version last written, or null before the first stamp */
  get currentVersion(): string | null {
    return this.sessionId === null ? null : this.version.toString();
  }

  /**
   * Replaces sdp.origin with this leg's origin. The version goes up by one
   * when the description differs from the last one sent on this leg, or
   * when `newVersion` asks for it; an unchanged description keeps it.
   */
  stamp(sdp: Sdp, opts: { newVersion?: boolean } = {}): void {
    const first = this.sessionId === null;
    if (first) {
      this.sessionId = sdp.origin.sessionId;
      this.version = BigInt(sdp.origin.sessionVersion);
    }
    sdp.origin = {
      username: this.username,
      sessionId: this.sessionId as string,
      sessionVersion: '0',
      netType: 'IN',
      addrType: this.address.indexOf(':') >= 0 ? 'IP6' : 'IP4',
      address: this.address,
    };
    const content = serializeSdp(sdp);
    if (!first && (opts.newVersion === true || content !== this.lastContent)) this.version += 1n;
    this.lastContent = content;
    sdp.origin.sessionVersion = this.version.toString();
  }
}
