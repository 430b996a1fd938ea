// Reads the header of a RIFF/WAVE file (the format Channel.record writes and
// the e-mail attaches) to learn its duration, and builds one from PCM for
// generated greetings and tests. Only the chunks needed are parsed.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

export interface WavInfo {
  format: number; // 1 = PCM, 6 = A-law, 7 = µ-law
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataBytes: number;
  /** where the samples start */
  dataOffset: number;
  durationMs: number;
}

/** Parses a WAV header from a buffer holding at least the chunks before "data". */
export function parseWavHeader(buf: Buffer): WavInfo | null {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return null;
  let off = 12;
  let fmt: Omit<WavInfo, 'dataBytes' | 'dataOffset' | 'durationMs'> | null = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      if (off + 8 + 16 > buf.length) return null;
      fmt = {
        format: buf.readUInt16LE(off + 8),
        channels: buf.readUInt16LE(off + 10),
        sampleRate: buf.readUInt32LE(off + 12),
        bitsPerSample: buf.readUInt16LE(off + 22),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.channels === 0 || fmt.sampleRate === 0 || fmt.bitsPerSample === 0) return null;
      const bytesPerSec = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      return { ...fmt, dataBytes: size, dataOffset: off + 8, durationMs: Math.round((size / bytesPerSec) * 1000) };
    }
    off += 8 + size + (size & 1); // chunks are word-aligned (RIFF)
  }
  return null;
}

export function readWavInfo(path: string): WavInfo | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, buf, 0, buf.length, 0);
    const info = parseWavHeader(buf);
    if (!info) return null;
    // A recording cut short (hang-up, crash) may never have had its sizes
    // written: 0 or 0xFFFFFFFF. What the file holds is what counts.
    const held = size - info.dataOffset;
    if (info.dataBytes === 0 || info.dataBytes > held) {
      const bytesPerSec = info.sampleRate * info.channels * (info.bitsPerSample / 8);
      return { ...info, dataBytes: held, durationMs: Math.round((held / bytesPerSec) * 1000) };
    }
    return info;
  } finally {
    closeSync(fd);
  }
}

/** A 16-bit PCM mono WAV around the given samples. */
export function pcmToWav(samples: Int16Array, sampleRate = 8000): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** A sine tone as 16-bit PCM (test recordings, the beep) */
export function tone(freqHz: number, ms: number, sampleRate = 8000, amplitude = 8000): Int16Array {
  const n = Math.round((sampleRate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * i) / sampleRate));
  return out;
}
