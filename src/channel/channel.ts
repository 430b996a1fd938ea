// The protocol-neutral call object the dialplan drives (docs/architecture.md,
// "Channels and media services": the dialplan never sees SIP or IAX2). It
// holds only what every technology must offer — who calls, the call's
// variables and state, answer/ring/progress/hangup, a media endpoint and
// Dial(). A SIP channel implements it over a SIP leg (sip-channel.ts,
// sip-leg.ts); tests implement it in memory (test/support/memory-channel.ts).
// What applications do with the audio (prompts, digits, recording,
// conference) is the media services' (channel-media.ts), not the channel's.
import type { TransportKind } from '../transport/types.js';
import type { MediaEndpoint } from '../media/media-endpoint.js';

/** why a channel ended; SIP maps these to status codes (486, 480, 404...) */
export type HangupCause = 'normal' | 'busy' | 'noanswer' | 'congestion' | 'unallocated' | 'rejected' | 'failure';

export interface DialTarget {
  /** technology/resource as written in the dialplan: 'SIP/1002', 'PJSIP/1002' */
  tech: string;
  resource: string;
}

export interface DialOptions {
  /** ring for at most this long (0 = until the callee answers or refuses) */
  timeoutMs: number;
  /** Asterisk Dial options as given: r (ring indication), m (music on hold) ... */
  options: string;
  /** told once, when a target answers and before the bridge starts (queues log CONNECT there): which target it was */
  onAnswer?: (target: DialTarget) => void;
  /**
   * the extension on whose behalf the call leaves (follow-me to a mobile):
   * technologies judge and route the call as that extension's, in its
   * context; the caller checks it with the call gate first
   */
  onBehalfOf?: { account: string; context: string };
}

/** Asterisk's DIALSTATUS values */
export type DialStatus = 'ANSWER' | 'BUSY' | 'NOANSWER' | 'CANCEL' | 'CONGESTION' | 'CHANUNAVAIL' | 'INVALIDARGS';

export interface DialResult {
  status: DialStatus;
  /** how long the bridged call lasted once answered */
  answeredMs?: number;
  /** the target that answered (one of those dialled) */
  answeredBy?: DialTarget;
}

/**
 * Who is calling, as the defences see it, whatever the protocol: where the
 * call's signalling comes from (the address an IDS ban or a reputation mark
 * is for) and the local account the caller authenticated as.
 */
export interface ChannelPeer {
  /** the signalling transport ('udp' for SIP over UDP and for IAX2) */
  readonly transport: TransportKind;
  readonly address: string;
  readonly port: number;
  /** the extension the caller proved (digest, IAX2 MD5); absent for a caller that did not authenticate as one */
  readonly account?: string;
}

export interface Channel {
  /** unique id, also the CDR uniqueid */
  readonly id: string;
  /** 'SIP/1001-00000001' style name for logs and the CDR channel field */
  readonly name: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  /** the number dialled, as it entered the dialplan */
  readonly dialed: string;
  /** the caller's context (from its extension) */
  readonly context: string;
  /** the caller's signalling address and authenticated account (for in-call PIN checks and the IDS) */
  readonly peer: ChannelPeer;
  /** channel variables (Set(), ${VAR}); the dialplan engine owns the namespace */
  readonly vars: Map<string, string>;
  readonly answered: boolean;
  readonly hungUp: boolean;
  /** resolves when the far end hangs up (or hangup() was called) */
  readonly ended: Promise<HangupCause>;

  /** answer the call with Palisade's own media */
  answer(): Promise<void>;
  /** tell the caller it rings (SIP: 180 Ringing) */
  ring(): Promise<void>;
  /** early media: the caller hears our endpoint before the answer (SIP: 183 with SDP) */
  progress(): Promise<void>;
  hangup(cause?: HangupCause): Promise<void>;

  /** the call's audio and DTMF as Palisade terminates them; the media services work on it */
  readonly endpoint: MediaEndpoint;

  /** ring targets at once; the first to answer is bridged with this channel until one side ends */
  dial(targets: DialTarget[], opts: DialOptions): Promise<DialResult>;
}
