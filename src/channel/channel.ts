// The protocol-neutral call object the dialplan drives (docs/architecture.md,
// Layers: the dialplan never sees SIP or IAX2). A SIP channel implements it over a
// B2BUA leg and a media endpoint; tests implement it in memory. Applications
// (src/dialplan/apps/app-*.ts) and features (voicemail, conference) only ever
// talk to this interface.
import type { TransportKind } from '../transport/types.js';

/** why a channel ended; SIP maps these to status codes (486, 480, 404...) */
export type HangupCause = 'normal' | 'busy' | 'noanswer' | 'congestion' | 'unallocated' | 'rejected' | 'failure';

export interface PlayOptions {
  /** DTMF digits that stop playback early ('' = none; Background uses all) */
  interruptDigits?: string;
}

export interface PlayResult {
  /** the digit that interrupted playback, if any */
  digit?: string;
  /** false when the caller hung up during playback */
  completed: boolean;
}

export interface ReadDigitsOptions {
  /** stop after this many digits (0 = until the terminator or timeout) */
  maxDigits: number;
  /** wait at most this long for the first digit, and between digits */
  timeoutMs: number;
  /** digits that end input without being part of it ('#' by default) */
  terminators?: string;
  /** digits already typed (e.g. the one that interrupted a prompt) */
  initial?: string;
}

export interface RecordOptions {
  /** WAV file to write (8 kHz mono 16-bit PCM) */
  path: string;
  maxMs: number;
  /** stop after this much continuous silence (0 = off) */
  silenceMs?: number;
  /** digits that end the recording ('#' by default) */
  stopDigits?: string;
  /** play a short beep before recording */
  beep?: boolean;
}

export interface RecordResult {
  durationMs: number;
  /** the digit that ended the recording */
  digit?: string;
  /** 'digit' | 'silence' | 'max' | 'hangup' */
  reason: 'digit' | 'silence' | 'max' | 'hangup';
}

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
}

/** Asterisk's DIALSTATUS values */
export type DialStatus = 'ANSWER' | 'BUSY' | 'NOANSWER' | 'CANCEL' | 'CONGESTION' | 'CHANUNAVAIL' | 'INVALIDARGS';

export interface DialResult {
  status: DialStatus;
  /** how long the bridged call lasted once answered */
  answeredMs?: number;
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

  /** answer the call with Palisade's own media (SDP from the media engine) */
  answer(): Promise<void>;
  /** send 180 Ringing / 183 with early media before answering */
  ring(): Promise<void>;
  progress(): Promise<void>;
  hangup(cause?: HangupCause): Promise<void>;
  /** resolves when the far end hangs up (or hangup() was called) */
  readonly ended: Promise<HangupCause>;

  /** play prompts/files in order; names resolve through the prompt store */
  play(files: string[], opts?: PlayOptions): Promise<PlayResult>;
  /** say digits / a number with the prompt set */
  sayDigits(digits: string, opts?: PlayOptions): Promise<PlayResult>;
  sayNumber(n: number, opts?: PlayOptions): Promise<PlayResult>;
  /** collect DTMF (RFC 4733, SIP INFO or in-band, whichever the channel gets) */
  readDigits(opts: ReadDigitsOptions): Promise<string>;
  /** next DTMF digit within timeoutMs, or null */
  waitDigit(timeoutMs: number): Promise<string | null>;
  record(opts: RecordOptions): Promise<RecordResult>;
  /** start/stop recording both directions mixed into a WAV (MixMonitor) */
  startMixMonitor(path: string): void;
  stopMixMonitor(): void;
  /** music on hold until stop() or the timeout */
  musicOnHold(className: string, timeoutMs: number): Promise<PlayResult>;
  /** silence for ms (interruptible by hangup only) */
  wait(ms: number): Promise<boolean>;
  /** Echo(): the caller hears itself for ms (0 = until hangup); optional, SIP channels have it */
  echo?(ms: number): Promise<boolean>;

  /** ring targets at once; the first to answer is bridged with this channel */
  dial(targets: DialTarget[], opts: DialOptions): Promise<DialResult>;
  /** join a conference room; resolves when this channel leaves it */
  confBridge(room: string): Promise<void>;
}
