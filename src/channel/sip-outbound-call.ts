// One call Palisade places to a SIP peer that is not one of its phones: an
// INVITE with Palisade's own SDP to the peer's targets (RFC 3263 order, the
// next one on 408, 503 or no answer), a 401/407 answered once by the
// caller's credentials hook, caller ID as asked (From, P-Asserted-Identity,
// Privacy; RFC 3325, RFC 3323). Once answered it is an OutboundLeg
// (dial-technology.ts) whose endpoint is an RTP MediaLeg: the calling
// channel bridges it like any technology's leg. Used by the trunks module
// (a provider, with the trunk's digest: "answer an INVITE challenge on a
// trunk with the trunk's credentials, not the caller's") and by the office
// module's hand-over of a call to another worker.
import { SipMessage } from '../sip-message/sip-message.js';
import { Dialog, newToken } from '../sip/dialog/dialog.js';
import { formatHost } from '../transport/address.js';
import type { Remote } from '../transport/types.js';
import type { SipLegHost } from '../sip/b2bua/leg-host.js';
import type { ClientTxHandle } from '../sip/b2bua/types.js';
import { AnsweredLeg } from './sip-dial.js';
import { sipFrameSide } from './sip-frame-side.js';
import type { HoldMusicSource } from './hold-link.js';
import type { DialAttempt, DialOutcome, OutboundLeg } from './dial-technology.js';
import type { DialStatus, HangupCause } from './channel.js';
import { MediaLeg } from '../media/media-leg.js';
import { MediaSession } from '../media/media-session.js';
import type { SocketPair } from '../media/rtp/rtp-endpoint.js';
import type { Logger } from '../observability/logger.js';

export interface OutboundCallHost {
  legs: SipLegHost;
  allocatePair(): SocketPair;
  /** the address our SDP offers */
  mediaAddress: string;
  log: Logger;
  /** the music the far party hears while a caller of another technology (IAX2) holds it */
  moh: HoldMusicSource;
}

/** who the far end is told is calling */
export interface PresentedId {
  number: string;
  name: string;
  /** Privacy: id — the far end must not show the number (RFC 3323 §4.2, RFC 3325 §7) */
  hide: boolean;
  /** add P-Asserted-Identity (a trusted peer passes it on instead of From) */
  pai: boolean;
}

/** the far end as the INVITE names it (a trunk's settings: trunk-config.ts) */
export interface OutboundPeer {
  name: string;
  /** a host name, an address, or 'dynamic' (the far end registered to us) */
  host: string;
  /** the port was written: the Request-URI names it even when it is 5060 */
  portGiven: boolean;
  /** host part of our From (default: the host) */
  fromDomain: string | null;
  /** user part of our From (default: the caller ID) */
  fromUser: string | null;
  /** our Contact's user part (default: the From user) */
  username: string | null;
}

/** the credentials for a challenge (a 401 or 407 to our INVITE): the header to add, or null when there are none */
export type AnswerChallenge = (challenge: SipMessage, invite: { method: 'INVITE'; uri: string }) => { header: string; value: string } | null;

export interface OutboundCallRequest {
  peer: OutboundPeer;
  number: string;
  /** the targets, best first; for a dynamic trunk the contact it registered */
  targets: Remote[];
  /** Request-URI per target (a dynamic trunk's registered contact); default sip:number@host */
  requestUri?: (target: Remote) => string;
  caller: PresentedId;
  /** name of the leg, e.g. SIP/office-b-00000003 */
  legName: string;
  /** the Call-ID (default: a fresh one) */
  callId?: string;
  /** headers added to each INVITE sent */
  headers?: ReadonlyArray<{ name: string; value: string }>;
  /** a 401/407 is answered once with these; absent: the call fails on a challenge */
  credentials?: AnswerChallenge;
  /** the log events' names and the field naming the peer: 'trunk' gives trunk-call-failed { trunk: name } */
  logAs?: string;
  /** the attempt is over (failed, or the answered leg ended) */
  onDone(): void;
}

/** Asterisk's DIALSTATUS for a far end's final answer; outbound routes fail over on CONGESTION and CHANUNAVAIL */
export function outboundDialStatus(status: number): Exclude<DialStatus, 'ANSWER'> {
  if (status === 486 || status === 600 || status === 603) return 'BUSY';
  if (status === 480 || status === 487) return 'NOANSWER';
  if (status >= 500) return 'CONGESTION';
  // 408, 404, 403 and other refusals: this peer cannot place the call; the next may
  return 'CHANUNAVAIL';
}

export class SipOutboundCall implements DialAttempt {
  readonly result: Promise<DialOutcome>;
  onRinging: (() => void) | null = null;
  /** the last final status a target gave (0: none), for logs and tests */
  lastStatus = 0;
  private resolve!: (o: DialOutcome) => void;
  private settled = false;
  private cancelled = false;
  private tx: ClientTxHandle | null = null;
  private provisional = false;
  private media: MediaLeg | null = null;
  private session: MediaSession | null = null;
  private readonly callId: string;
  private readonly fromTag = newToken();
  private readonly logAs: string;
  private cseq = 0;

  constructor(
    private readonly host: OutboundCallHost,
    private readonly r: OutboundCallRequest,
  ) {
    this.result = new Promise((res) => (this.resolve = res));
    this.logAs = r.logAs ?? 'trunk';
    this.callId = r.callId ?? `${newToken()}@palisade`;
    try {
      this.media = new MediaLeg(host.allocatePair(), host.mediaAddress, 0);
      this.session = new MediaSession(this.media, host.mediaAddress);
    } catch (err) {
      host.log.warn(`${this.logAs}-no-media`, { [this.logAs]: r.peer.name, error: (err as Error).message });
      queueMicrotask(() => this.fail('CONGESTION'));
      return;
    }
    if (r.targets.length === 0) {
      queueMicrotask(() => this.fail('CHANUNAVAIL'));
      return;
    }
    this.invite(0, null, 0);
  }

  cancel(): void {
    if (this.settled || this.cancelled) return;
    this.cancelled = true;
    // RFC 3261 §9.1: CANCEL only once a provisional came; before that the transaction ends on its own
    if (this.provisional) this.tx?.cancel();
    this.fail('CANCEL');
  }

  private requestUri(target: Remote): string {
    if (this.r.requestUri) return this.r.requestUri(target);
    const t = this.r.peer;
    const hostPart = t.portGiven || target.port !== 5060 ? `${formatHost(target.address)}:${target.port}` : t.host;
    return `sip:${this.r.number}@${hostPart}${target.transport === 'udp' ? '' : `;transport=${target.transport}`}`;
  }

  private build(target: Remote, offer: Buffer): { req: SipMessage; fromUri: string; toUri: string; contact: string } {
    const t = this.r.peer;
    const c = this.r.caller;
    const local = this.host.legs.localFor(target);
    const domain = t.fromDomain ?? (t.host === 'dynamic' ? formatHost(local.address) : t.host);
    const user = t.fromUser ?? (c.number || 'anonymous');
    const name = c.name.replace(/["\\\r\n]/g, '');
    const fromUri = c.hide && !t.fromUser ? `"Anonymous" <sip:anonymous@anonymous.invalid>` : `${name ? `"${name}" ` : ''}<sip:${user}@${domain}>`;
    const toUri = `<sip:${this.r.number}@${t.host === 'dynamic' ? formatHost(target.address) : t.host}>`;
    const contact = `<sip:${t.username ?? (user === 'anonymous' ? 'palisade' : user)}@${formatHost(local.address)}:${local.port}${target.transport === 'udp' ? '' : `;transport=${target.transport}`}>`;
    const req = new SipMessage();
    req.method = 'INVITE';
    req.uri = this.requestUri(target);
    req.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `${fromUri};tag=${this.fromTag}` },
      { name: 'to', value: toUri },
      { name: 'call-id', value: this.callId },
      { name: 'cseq', value: `${++this.cseq} INVITE` },
      { name: 'contact', value: contact },
      { name: 'allow', value: this.host.legs.allow },
      { name: 'user-agent', value: this.host.legs.userAgent },
    );
    // RFC 3325 §9.1 / RFC 3323 §4.2: the asserted identity with the real number, hidden on request
    if (c.pai && c.number) req.headers.push({ name: 'p-asserted-identity', value: `${name ? `"${name}" ` : ''}<sip:${c.number}@${domain}>` });
    if (c.hide) req.headers.push({ name: 'privacy', value: 'id' });
    if (this.r.headers) req.headers.push(...this.r.headers);
    req.headers.push({ name: 'content-type', value: 'application/sdp' });
    req.body = offer;
    return { req, fromUri, toUri, contact };
  }

  private invite(i: number, auth: { header: string; value: string } | null, authTries: number): void {
    if (this.settled) return;
    const target = this.r.targets[i]!;
    const offer = this.session!.offer();
    const { req, fromUri, toUri, contact } = this.build(target, offer);
    if (auth) req.headers.splice(req.headers.length - 1, 0, { name: auth.header, value: auth.value });
    this.provisional = false;
    this.tx = this.host.legs.sendRequest(req, target, {
      onResponse: (res) => {
        if (res.status < 200) {
          if (res.status > 100) {
            this.provisional = true;
            if (!this.settled) this.onRinging?.();
          } else this.provisional = true;
          return;
        }
        if (res.status < 300) return this.answered(res, target, { fromUri, toUri, contact });
        this.lastStatus = res.status;
        if (this.settled) return;
        if ((res.status === 401 || res.status === 407) && authTries < 1 && this.r.credentials) {
          const answer = this.r.credentials(res, { method: 'INVITE', uri: req.uri });
          if (answer) return this.invite(i, answer, authTries + 1);
        }
        // RFC 3263 §4.3: a 503 from one target moves on to the next
        if (res.status === 503 && i + 1 < this.r.targets.length) return this.invite(i + 1, null, 0);
        this.host.log.info(`${this.logAs}-call-failed`, { [this.logAs]: this.r.peer.name, status: res.status, target: `${target.address}:${target.port}` });
        this.fail(outboundDialStatus(res.status));
      },
      onTimeout: () => {
        this.lastStatus = 408;
        if (this.settled) return;
        if (i + 1 < this.r.targets.length && !this.provisional) return this.invite(i + 1, null, 0);
        this.host.log.info(`${this.logAs}-call-failed`, { [this.logAs]: this.r.peer.name, status: 408, target: `${target.address}:${target.port}` });
        this.fail('CHANUNAVAIL');
      },
    });
  }

  private answered(res: SipMessage, target: Remote, u: { fromUri: string; toUri: string; contact: string }): void {
    const dialog = new Dialog({
      callId: this.callId,
      localTag: this.fromTag,
      remoteTag: res.to.params.tag ?? '',
      localUri: u.fromUri,
      remoteUri: u.toUri,
      remoteTarget: res.contacts[0]?.uri.raw ?? this.requestUri(target),
      // RFC 3261 §12.1.2: the route set is the Record-Route of the 2xx, reversed
      routeSet: res.getAll('record-route').reverse(),
      localCseq: this.cseq,
      remoteCseq: 0,
      remote: target,
      localContact: u.contact,
    });
    // RFC 3261 §13.2.2.4: every 2xx is ACKed, even one we no longer want
    this.host.legs.sendStateless(dialog.createRequest('ACK', { cseq: this.cseq }), target);
    const leg = new AnsweredLeg(this.host.legs, dialog, this.r.number);
    if (this.settled) {
      leg.hangup();
      return;
    }
    try {
      this.session!.takeAnswer(res.body);
    } catch (err) {
      this.host.log.info(`${this.logAs}-bad-answer`, { [this.logAs]: this.r.peer.name, error: (err as Error).message });
      leg.hangup();
      this.fail('CHANUNAVAIL');
      return;
    }
    const media = this.media!;
    media.start();
    this.settled = true;
    const ended = leg.ended.then((): HangupCause => {
      media.close();
      this.r.onDone();
      return 'normal';
    });
    const out: OutboundLeg = {
      name: this.r.legName,
      number: this.r.number,
      endpoint: media,
      ended,
      hangup: () => leg.hangup(),
      sip: { leg, session: this.session! },
      // bridged frame by frame (an IAX2 caller): the provider's re-INVITEs are answered here and hold
      // crosses as the caller's technology signals it; a SIP caller relays them instead (dial-bridge.ts)
      holdLink: sipFrameSide({ ua: this.host.legs, log: this.host.log, moh: this.host.moh }, leg, this.session!),
    };
    this.host.log.info(`${this.logAs}-call-answered`, { [this.logAs]: this.r.peer.name, leg: out.name, codec: media.codec });
    this.resolve({ status: 'ANSWER', leg: out });
  }

  private fail(status: Exclude<DialStatus, 'ANSWER'>): void {
    if (this.settled) return;
    this.settled = true;
    this.media?.close();
    this.r.onDone();
    this.resolve({ status });
  }
}
