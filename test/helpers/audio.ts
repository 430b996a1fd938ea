// Test audio: makes tone WAVs with sox and measures recorded WAVs (duration,
// RMS per segment, dominant frequency) both in TypeScript (exact, from the
// PCM) and with `sox -n stat` as an independent cross-check.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** writes an 8 kHz mono S16LE sine WAV, the format baresip's aufile expects */
export function makeToneWav(path: string, freqHz: number, seconds: number, volume = 0.5): void {
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', path, 'synth', String(seconds), 'sine', String(freqHz), 'vol', String(volume)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 20_000,
  });
}

export interface Pcm {
  sampleRate: number;
  channels: number;
  /** first channel, normalised to [-1, 1) */
  samples: Float64Array;
}

/**
 * Reads a PCM S16LE WAV. A recording whose header was never finalised
 * (data size 0 or past the end) is read up to the end of the file.
 */
export function readWav(path: string): Pcm {
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${path}: not a RIFF/WAVE file`);
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error(`${path}: data chunk before fmt chunk`);
      // 1 = PCM, 0xFFFE = WAVE_FORMAT_EXTENSIBLE (libsndfile writes either)
      if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.bits !== 16) {
        throw new Error(`${path}: only 16-bit PCM is supported (format ${fmt.format}, ${fmt.bits} bits)`);
      }
      const end = size === 0 || body + size > buf.length ? buf.length : body + size;
      const frameBytes = 2 * fmt.channels;
      const frames = Math.floor((end - body) / frameBytes);
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(body + i * frameBytes) / 32768;
      return { sampleRate: fmt.rate, channels: fmt.channels, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

export function rms(samples: Float64Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i] * samples[i];
  return to > from ? Math.sqrt(sum / (to - from)) : 0;
}

/** RMS of consecutive segments of segmentMs */
export function rmsSegments(pcm: Pcm, segmentMs = 100): number[] {
  const n = Math.max(1, Math.round((pcm.sampleRate * segmentMs) / 1000));
  const out: number[] = [];
  for (let i = 0; i + n <= pcm.samples.length; i += n) out.push(rms(pcm.samples, i, i + n));
  return out;
}

/** signal power at one frequency (Goertzel), normalised by length */
export function goertzelPower(samples: Float64Array, from: number, to: number, freqHz: number, sampleRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freqHz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = samples[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = to - from;
  return n > 0 ? (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n) : 0;
}

/**
 * Frequency with the most power, from a Goertzel scan in stepHz steps (then
 * refined to 1 Hz around the peak) over the samples [from, to).
 */
export function dominantFrequency(pcm: Pcm, from = 0, to = pcm.samples.length, stepHz = 10): number {
  const nyquist = pcm.sampleRate / 2;
  const scan = (lo: number, hi: number, step: number): number => {
    let best = lo;
    let bestP = -1;
    for (let f = lo; f <= hi; f += step) {
      const p = goertzelPower(pcm.samples, from, to, f, pcm.sampleRate);
      if (p > bestP) {
        bestP = p;
        best = f;
      }
    }
    return best;
  };
  const coarse = scan(stepHz, nyquist - stepHz, stepHz);
  return scan(Math.max(1, coarse - stepHz), Math.min(nyquist - 1, coarse + stepHz), 1);
}

/** frequency from the zero-crossing rate: cheap, right for a single clean tone */
export function zeroCrossingFrequency(pcm: Pcm, from = 0, to = pcm.samples.length): number {
  let crossings = 0;
  for (let i = from + 1; i < to; i++) {
    if (pcm.samples[i - 1] < 0 !== pcm.samples[i] < 0) crossings++;
  }
  const seconds = (to - from) / pcm.sampleRate;
  return seconds > 0 ? crossings / 2 / seconds : 0;
}

export interface AudioAnalysis {
  durationSec: number;
  /** RMS over the whole file */
  rms: number;
  /** seconds of segments whose RMS exceeds the activity threshold */
  activeSec: number;
  /** dominant frequency (Goertzel) over the active segments, 0 when none */
  dominantHz: number;
  /** zero-crossing estimate over the active segments */
  zeroCrossingHz: number;
  segmentRms: number[];
}

/**
 * Analyses a WAV: only segments louder than activeThreshold count towards
 * the frequency, so silence before media starts does not blur it.
 */
export function analyseWav(path: string, segmentMs = 100, activeThreshold = 0.02): AudioAnalysis {
  const pcm = readWav(path);
  const segmentRms = rmsSegments(pcm, segmentMs);
  const seg = Math.max(1, Math.round((pcm.sampleRate * segmentMs) / 1000));
  const active = segmentRms.map((r, i) => (r > activeThreshold ? i : -1)).filter((i) => i >= 0);
  let dominantHz = 0;
  let zeroCrossingHz = 0;
  if (active.length > 0) {
    // Longest run of consecutive active segments: one stretch of the tone.
    let bestStart = active[0];
    let bestLen = 1;
    let runStart = active[0];
    for (let k = 1; k <= active.length; k++) {
      if (k < active.length && active[k] === active[k - 1] + 1) continue;
      const len = active[k - 1] - runStart + 1;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
      if (k < active.length) runStart = active[k];
    }
    const from = bestStart * seg;
    const to = Math.min(pcm.samples.length, (bestStart + bestLen) * seg);
    dominantHz = dominantFrequency(pcm, from, to);
    zeroCrossingHz = zeroCrossingFrequency(pcm, from, to);
  }
  return {
    durationSec: pcm.samples.length / pcm.sampleRate,
    rms: rms(pcm.samples),
    activeSec: (active.length * segmentMs) / 1000,
    dominantHz,
    zeroCrossingHz,
    segmentRms,
  };
}

export interface SoxStat {
  lengthSec: number;
  rmsAmplitude: number;
  roughFrequency: number;
}

/** `sox FILE -n stat` (sox prints it on stderr) */
export function soxStat(path: string): SoxStat {
  const r = spawnSync('sox', [path, '-n', 'stat'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`sox stat of ${path} failed: ${r.stderr || r.error?.message}`);
  const num = (label: string): number => {
    const m = new RegExp(`^${label}:\\s*(-?[0-9.]+)`, 'm').exec(r.stderr);
    if (!m) throw new Error(`sox stat of ${path}: no "${label}" in:\n${r.stderr}`);
    return Number(m[1]);
  };
  return { lengthSec: num('Length \\(seconds\\)'), rmsAmplitude: num('RMS\\s+amplitude'), roughFrequency: num('Rough\\s+frequency') };
}
