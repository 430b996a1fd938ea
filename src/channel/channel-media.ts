// The media services: what applications do with a call's audio — prompts,
// numbers and digits said, DTMF collected, recordings, MixMonitor, music on
// hold, Echo(), conference rooms. They work on the protocol-neutral media
// endpoint a channel exposes (src/media/media-endpoint.ts), so one
// implementation (endpoint-media.ts) serves SIP, IAX2 and local channels
// alike. A channel factory makes one ChannelMedia per channel and hands both
// to the dialplan as a MediaCall (docs/architecture.md, "Channels and media
// services"); applications call `call.media.play(...)`.
import type { Channel } from './channel.js';

export interface PlayOptions {
  /** DTMF digits that stop playback early ('' = none; Background uses all) */
  interruptDigits?: string;
  /** stops playback (music on hold) when aborted, e.g. when a queue member is free */
  signal?: AbortSignal;
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

export interface ChannelMedia {
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
  /** music on hold of a class until the timeout (0 = until hangup); an interrupt digit ends it */
  musicOnHold(className: string, timeoutMs: number, opts?: PlayOptions): Promise<PlayResult>;
  /** silence for ms (interruptible by hangup only); false when the call ended */
  wait(ms: number): Promise<boolean>;
  /** Echo(): the caller hears itself for ms (0 = until hangup); false when the call ended */
  echo(ms: number): Promise<boolean>;
  /** join a conference room (answering first); resolves when this channel leaves it */
  confBridge(room: string): Promise<void>;
}

/** a call as an application sees it: the channel and the media services working on it */
export interface MediaCall {
  readonly channel: Channel;
  readonly media: ChannelMedia;
}
