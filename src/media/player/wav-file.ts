// Reads WAV files for playout: 8 kHz mono, 16-bit PCM, or G.711 µ-law
// (format 7) / A-law (format 6) as Asterisk's .wav-ulaw style files are.
import { readFileSync } from 'node:fs';
import { ALAW_DECODE, ULAW_DECODE } from '../codecs/codec-g711.js';
import { PalisadeError } from '../../core/errors.js';

export class WavFormatError extends PalisadeError {
  declare readonly code: 'PAL_ERR_WAV_FORMAT';
  constructor(message: string) {
    super('PAL_ERR_WAV_FORMAT', message);
  }
}

/** samples of an 8 kHz mono WAV file; throws WavFormatError for anything else */
export function readWavSamples(path: string): Int16Array {
  return parseWav(readFileSync(path), path);
}

export function parseWav(buf: Buffer, name = 'WAV'): Int16Array {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError(`${name}: not a RIFF/WAVE file`);
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      let format = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the sub-format GUID's first two bytes
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24);
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError(`${name}: data chunk before fmt chunk`);
      if (fmt.rate !== 8000 || fmt.channels !== 1) throw new WavFormatError(`${name}: need 8000 Hz mono, got ${fmt.rate} Hz ${fmt.channels} channels`);
      // a file whose header was never fixed up (size 0 or too large) is read to its end
      const end = size === 0 || size === 0xffffffff || body + size > buf.length ? buf.length : body + size;
      const data = buf.subarray(body, end);
      if (fmt.format === 1 && fmt.bits === 16) {
        const n = data.length >> 1;
        const out = new Int16Array(n);
        for (let i = 0; i < n; i++) out[i] = data.readInt16LE(i * 2);
        return out;
      }
      if ((fmt.format === 7 || fmt.format === 6) && fmt.bits === 8) {
        const table = fmt.format === 7 ? ULAW_DECODE : ALAW_DECODE;
        const out = new Int16Array(data.length);
        for (let i = 0; i < data.length; i++) out[i] = table[data[i]!]!;
        return out;
      }
      throw new WavFormatError(`${name}: unsupported encoding (format ${fmt.format}, ${fmt.bits} bits); need 16-bit PCM, µ-law or A-law`);
    }
    off = body + size + (size & 1);
  }
  throw new WavFormatError(`${name}: no data chunk`);
}
