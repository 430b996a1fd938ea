// The audio formats Palisade knows by name. G.711 and GSM 06.10 are encoded
// and decoded; G.722 and Opus are recognised so SDP naming them is
// understood, and passed through the relay untouched (never decoded).
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './codec-g711.js';
import { GSM_FRAME_BYTES, GSM_FRAME_SAMPLES, GsmDecoder } from './codec-gsm.js';
import { GsmEncoder } from './codec-gsm-encoder.js';

export type CodecName = 'PCMU' | 'PCMA' | 'GSM' | 'G722' | 'OPUS';

export interface CodecInfo {
  name: CodecName;
  /** RFC 3551 static payload type, or null for dynamic ones */
  staticPt: number | null;
  clockRate: number;
  /** false: recognised but passed through only */
  decodes: boolean;
  encodes: boolean;
}

export const CODECS: Record<CodecName, CodecInfo> = {
  PCMU: { name: 'PCMU', staticPt: 0, clockRate: 8000, decodes: true, encodes: true },
  PCMA: { name: 'PCMA', staticPt: 8, clockRate: 8000, decodes: true, encodes: true },
  GSM: { name: 'GSM', staticPt: 3, clockRate: 8000, decodes: true, encodes: true },
  // RFC 3551 §4.5.2: G.722's RTP clock rate is 8000 although it samples at 16 kHz
  G722: { name: 'G722', staticPt: 9, clockRate: 8000, decodes: false, encodes: false },
  OPUS: { name: 'OPUS', staticPt: null, clockRate: 48000, decodes: false, encodes: false },
};

export function codecByName(name: string): CodecInfo | undefined {
  return CODECS[name.toUpperCase() as CodecName];
}

export function codecByStaticPt(pt: number): CodecInfo | undefined {
  for (const c of Object.values(CODECS)) if (c.staticPt === pt) return c;
  return undefined;
}

/** a decoder for 20 ms payloads of one codec (stateful for GSM) */
export interface FrameDecoder {
  decode(payload: Uint8Array): Int16Array;
}

export function decoderFor(name: CodecName): FrameDecoder | null {
  switch (name) {
    case 'PCMU':
      return { decode: (p) => decodeUlaw(p) };
    case 'PCMA':
      return { decode: (p) => decodeAlaw(p) };
    case 'GSM': {
      const d = new GsmDecoder();
      return { decode: (p) => d.decodePayload(p) };
    }
    default:
      return null;
  }
}

/**
 * An encoder for one stream (stateful for GSM): PCM → an RTP payload. GSM
 * emits whole 160-sample frames and keeps a remainder for the next call, so
 * the payload may be empty; it is only valid until the next call.
 */
export function encoderFor(name: CodecName): ((pcm: Int16Array) => Uint8Array) | null {
  if (name === 'PCMU') return (pcm) => encodeUlaw(pcm);
  if (name === 'PCMA') return (pcm) => encodeAlaw(pcm);
  if (name === 'GSM') {
    const e = new GsmEncoder();
    return (pcm) => e.encode(pcm);
  }
  return null;
}

/** the RTP timestamp advance (samples at 8 kHz) of a payload of `bytes` (RFC 3551 §4.5) */
export function samplesIn(name: CodecName, bytes: number): number {
  return name === 'GSM' ? Math.floor(bytes / GSM_FRAME_BYTES) * GSM_FRAME_SAMPLES : bytes;
}
