// The media of one call as Palisade terminates it, whatever carries it (RTP
// for SIP, IAX2 frames, a local channel in memory): 8 kHz audio frames out
// and in, DTMF digits in and out, and the codec in use. A channel exposes
// one (src/channel/channel.ts); the media services (players, recorders,
// MixMonitor, conference, DTMF collection — src/channel/endpoint-media.ts)
// work on it and never see the protocol. MediaLeg is the RTP one.
import type { CodecName } from './codecs/codec-registry.js';

/** something that yields 20 ms frames (a Player, a mixer output) */
export interface FrameSource {
  /** fill `out`; false when there is nothing (more) to send */
  nextFrame(out: Int16Array): boolean;
}

/** how a digit arrived: RFC 4733 events, tones in the audio, or the signalling (SIP INFO) */
export type DigitSource = 'rfc4733' | 'inband' | 'info';

export interface MediaEndpoint {
  /** the codec we send with (null before one is agreed) */
  readonly codec: CodecName | null;
  /** what the far end hears: each 20 ms tick takes the next frame (null: nothing) */
  source: FrameSource | null;
  /** Echo(): what arrives is sent straight back */
  echo: boolean;
  /** every frame received, as 8 kHz PCM; returns the unsubscribe */
  tapReceived(fn: (pcm: Int16Array) => void): () => void;
  /** every frame sent, as 8 kHz PCM; returns the unsubscribe */
  tapSent(fn: (pcm: Int16Array) => void): () => void;
  /** every DTMF digit the caller sends, however it came; returns the unsubscribe */
  tapDigits(fn: (digit: string, via: DigitSource) => void): () => void;
  /** send DTMF to the far end; false when it cannot receive any */
  sendDigits(digits: string): boolean;
}
