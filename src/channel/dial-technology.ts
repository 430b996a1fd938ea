// Dial() technologies beyond the SIP extensions the SIP channel rings
// itself: a module (trunks, IAX2, queues' local members...) registers a
// technology under the names the dialplan writes — `IAX2/office-b/2001`,
// `PJSIP/2001@office-b`, `SIP/office-b/2001` — and Dial() asks the registry
// for targets it does not serve natively. A technology places one outgoing
// leg per target; the channel bridges the first leg to answer with its own
// media endpoint (audio frames both ways, transcoded through PCM), so the
// dialplan and the calling channel never see the protocol of the leg.
// docs/architecture.md, "Channels and media services".
import type { MediaEndpoint } from '../media/media-endpoint.js';
import type { MediaSession } from '../media/media-session.js';
import type { ChannelPeer, DialStatus, DialTarget, HangupCause } from './channel.js';
import type { AnsweredLeg } from './sip-dial.js';
import type { HoldLink } from './hold-link.js';

/** an answered outgoing leg of another technology */
export interface OutboundLeg {
  /** 'IAX2/office-b-00000003' style name for logs and the CDR dstchannel */
  readonly name: string;
  /** who answered (the number dialled at the far end) */
  readonly number: string;
  /** the leg's audio and DTMF: what it receives is the far end's voice */
  readonly endpoint: MediaEndpoint;
  /** resolves when the far end hangs up (or hangup() was called) */
  readonly ended: Promise<HangupCause>;
  hangup(cause?: HangupCause): void;
  /**
   * A SIP leg (a SIP trunk's call, one of our phones): its dialog and RTP
   * session. A SIP channel bridges such a leg as it bridges its own
   * extensions' (dial-bridge.ts): packet by packet, with re-INVITEs and
   * UPDATEs (hold, resume, a new codec) relayed between the two dialogs.
   */
  readonly sip?: { readonly leg: AnsweredLeg; readonly session: MediaSession };
  /**
   * Hold across a frame bridge (hold-link.ts): the far party's holds, and
   * what this leg does when the bridged party holds it (an IAX2 HOLD frame,
   * music on hold). A leg without one is simply not told.
   */
  readonly holdLink?: HoldLink;
}

export type DialOutcome = { status: 'ANSWER'; leg: OutboundLeg } | { status: Exclude<DialStatus, 'ANSWER'> };

/** one target being rung */
export interface DialAttempt {
  /** settles once: answered (with the leg) or failed with Asterisk's DIALSTATUS */
  readonly result: Promise<DialOutcome>;
  /** the far end rings (SIP 180, IAX2 RINGING): the caller is told */
  onRinging?: (() => void) | null;
  /** the caller gave up or another target answered first; a later answer is hung up */
  cancel(): void;
}

/** who is dialling, as a technology needs it (caller ID rules, the call gate) */
export interface DialContext {
  /** the calling channel's name and id (CDR linkage, logs) */
  readonly channelName: string;
  readonly channelId: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  /** the caller's context and the extension it proved, for per-trunk policy */
  readonly context: string;
  readonly peer: ChannelPeer;
  /** Dial()'s ring timeout (0: none) */
  readonly timeoutMs: number;
  /** the channel's variables (e.g. a route's CALLERID override); read-only by convention */
  readonly vars: ReadonlyMap<string, string>;
}

export interface DialTechnology {
  /** technology names as written in the dialplan, upper case: ['IAX2'] */
  readonly names: readonly string[];
  /**
   * Ring one target (tech/resource as parsed by Dial()). Returns null when
   * this technology does not know the target (an unknown trunk): Dial() then
   * treats it as unavailable (CHANUNAVAIL) if no other target answers.
   */
  dial(target: DialTarget, ctx: DialContext): DialAttempt | null;
  /** the registration state of a trunk this technology carries (`palisade show trunks`); undefined when not its trunk */
  trunkStatus?(trunk: string): TrunkLinkStatus | undefined;
}

/** a trunk's link as its technology sees it (the SIP trunks module shows its own) */
export interface TrunkLinkStatus {
  /** registered, registering, rejected, timeout (we register); peer-registered, peer-unregistered (host: dynamic); none */
  registration: string;
  /** where calls go now: the far end's address (a dynamic trunk's registered address) or null */
  address: string | null;
  /** seconds until the registration runs out ('' when there is none) */
  expires: number | '';
  registrations: number | '';
  failures: number | '';
  lastError: string;
  /** calls in progress on the trunk */
  active: number;
}

/** the one registry of Dial() technologies; modules register at start() */
export class DialTechnologies {
  private readonly byName = new Map<string, DialTechnology[]>();

  register(t: DialTechnology): () => void {
    for (const n of t.names) {
      const k = n.toUpperCase();
      const list = this.byName.get(k) ?? [];
      list.push(t);
      this.byName.set(k, list);
    }
    return () => {
      for (const n of t.names) {
        const list = this.byName.get(n.toUpperCase());
        const i = list?.indexOf(t) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
      }
    };
  }

  /** the first registered technology that knows this target, and its attempt */
  dial(target: DialTarget, ctx: DialContext): DialAttempt | null {
    for (const t of this.byName.get(target.tech.toUpperCase()) ?? []) {
      const a = t.dial(target, ctx);
      if (a) return a;
    }
    return null;
  }

  /** the first technology's view of a trunk's link (IAX2 trunks: the iax2 module) */
  trunkStatus(trunk: string): TrunkLinkStatus | undefined {
    for (const list of this.byName.values())
      for (const t of list) {
        const st = t.trunkStatus?.(trunk);
        if (st) return st;
      }
    return undefined;
  }

  has(tech: string): boolean {
    return (this.byName.get(tech.toUpperCase())?.length ?? 0) > 0;
  }
}
