// Offer/answer (RFC 3264) over the life of one call leg whose media Palisade
// terminates (a MediaLeg): the far end's offers answered, offers of our own
// made (a hold passed on from the other leg of a bridge, a session refresh)
// and their answers read. The leg follows what was agreed: nothing is sent
// to a party that said sendonly or inactive (RFC 3264 §8.4).
import type { MediaLeg } from './media-leg.js';
import { MIRROR, buildAnswer, buildOffer, type negotiateOffer, readAnswer, type NegotiatedMedia } from './media-sdp.js';
import type { CodecName } from './codecs/codec-registry.js';
import type { SdpDirection } from './sdp/sdp-types.js';

/** an offer read with negotiateOffer: what we chose, and the offer to answer m-line by m-line */
export type ReadOffer = ReturnType<typeof negotiateOffer>;

let sessionSeq = 0;

export class MediaSession {
  /** RFC 3264 §8: one o= session id for the leg, the version up by one whenever the description changes */
  private readonly sessionId = String(Date.now() * 1000 + (++sessionSeq % 1000));
  private version = 0;
  private lastContent = '';
  private theirs: ReadOffer | null = null;
  private waitingAnswer = false;
  /** the direction agreed before an offer of ours that may be refused */
  private agreed: SdpDirection = 'sendrecv';
  /** the direction of the last description we sent */
  direction: SdpDirection = 'sendrecv';

  constructor(
    readonly leg: MediaLeg,
    private readonly address: string,
  ) {}

  /** the far end's offer our answers answer (null before one came) */
  get remoteOffer(): ReadOffer | null {
    return this.theirs;
  }

  /** we made an offer whose answer has not come yet (it may come in an ACK, RFC 3261 §13.2.1) */
  get awaitingAnswer(): boolean {
    return this.waitingAnswer;
  }

  /**
   * Our answer to `offer`, applied to the leg. `direction` is ours and
   * defaults to the mirror of the offer's (RFC 3264 §6.1); a bridge passes on
   * what the other leg answered instead.
   */
  answer(offer: ReadOffer, direction: SdpDirection = MIRROR[offer.media.direction]): Buffer {
    this.theirs = offer;
    // the leg reads the far end's side: what it would have said had it answered ours
    this.leg.configure({ ...offer.media, direction: MIRROR[direction] });
    this.direction = this.agreed = direction;
    return this.stamp((local) => buildAnswer(local, offer.sdp, offer.index, offer.media, direction));
  }

  /** our offer (RFC 3264 §5); the leg changes once the answer comes (takeAnswer) */
  offer(direction: SdpDirection = 'sendrecv', codecs: CodecName[] = ['PCMU', 'PCMA']): Buffer {
    this.waitingAnswer = true;
    this.direction = direction;
    return this.stamp((local) => buildOffer(local, codecs, 101, direction));
  }

  /** the far end's answer to our offer, applied to the leg; throws MediaNegotiationError when unusable */
  takeAnswer(body: Buffer | string): NegotiatedMedia {
    this.waitingAnswer = false;
    const m = readAnswer(body);
    this.leg.configure(m);
    this.agreed = this.direction;
    return m;
  }

  /** an offer of ours was refused: RFC 3261 §14.1, what was agreed before stays */
  offerRefused(): void {
    this.waitingAnswer = false;
    this.direction = this.agreed;
  }

  private stamp(build: (local: { address: string; port: number; sessionId: string; version: number }) => string): Buffer {
    const at = (version: number): string => build({ address: this.address, port: this.leg.port, sessionId: this.sessionId, version });
    // RFC 3264 §8: the same description keeps its version, any change takes the next one
    const content = at(0).replace(/^o=.*\r\n/m, '');
    if (this.version === 0 || content !== this.lastContent) {
      this.version++;
      this.lastContent = content;
    }
    return Buffer.from(at(this.version));
  }
}
