// GSM 06.10: Palisade's encoder and decoder in CPU µs per 20 ms frame,
// beside libgsm (C, through sox) on the same 5 minutes of speech-like audio.
// CPU time (user + system), not wall time, so that other work on the machine
// counts less. sox's figure is its whole run (WAV read, libgsm, file write,
// from /usr/bin/time) minus a run that only copies the WAV, divided by the
// frames. Run after `npm run build`:
//   node bench/gsm-codec-bench.mjs [seconds-of-audio]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GsmEncoder } from '../dist/src/media/codecs/codec-gsm-encoder.js';
import { GsmDecoder } from '../dist/src/media/codecs/codec-gsm.js';
import { readWavSamples } from '../dist/src/media/player/wav-file.js';

const seconds = Number(process.argv[2] ?? 300);
const dir = mkdtempSync(join(tmpdir(), 'gsm-bench-'));
try {
  const wav = join(dir, 'in.wav');
  // a voice-band mix that keeps the LTP search and every RPE grid busy
  execFileSync(
    'sox',
    [
      '-D',
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      '-b',
      '16',
      '-e',
      'signed-integer',
      wav,
      'synth',
      String(seconds),
      'sine',
      '120-900',
      'pinknoise',
      'remix',
      '1v0.4,2v0.2',
      'tremolo',
      '4',
      '60',
    ],
    { timeout: 120_000 },
  );
  const pcm = readWavSamples(wav);
  const frames = Math.floor(pcm.length / 160);

  const best = (fn, runs = 3) => Math.min(...Array.from({ length: runs }, () => fn()));
  const ms = (fn) => {
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / 1000;
  };
  /** CPU ms of one sox run */
  const soxMs = (...args) => {
    const r = spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', 'sox', ...args], { encoding: 'utf8', timeout: 120_000 });
    const m = /cpu ([0-9.]+) ([0-9.]+)\s*$/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`sox ${args.join(' ')}: ${r.stderr}`);
    return (Number(m[1]) + Number(m[2])) * 1000;
  };

  const out = new Uint8Array(frames * 33);
  const encMs = best(() =>
    ms(() => {
      const e = new GsmEncoder();
      for (let f = 0; f < frames; f++) e.encodeFrame(pcm, out, f * 160, f * 33);
    }),
  );
  const pcmOut = new Int16Array(160);
  const decMs = best(() =>
    ms(() => {
      const d = new GsmDecoder();
      for (let f = 0; f < frames; f++) d.decodeFrame(out.subarray(f * 33, f * 33 + 33), pcmOut);
    }),
  );

  const gsm = join(dir, 'ref.gsm');
  const copy = join(dir, 'copy.wav');
  const back = join(dir, 'back.wav');
  const soxCopy = best(() => soxMs('-D', wav, copy));
  const soxEnc = best(() => soxMs('-D', wav, gsm)) - soxCopy;
  const soxDec = best(() => soxMs(gsm, '-b', '16', '-e', 'signed-integer', back)) - soxCopy;
  const identical = Buffer.from(out).equals(readFileSync(gsm).subarray(0, out.length));

  const us = (t) => ((t * 1000) / frames).toFixed(1).padStart(6);
  console.log(`GSM 06.10, ${frames} frames (${seconds} s), ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(`encode  Palisade ${us(encMs)} µs/frame   libgsm via sox ${us(soxEnc)} µs/frame   frames identical: ${identical}`);
  console.log(`decode  Palisade ${us(decMs)} µs/frame   libgsm via sox ${us(soxDec)} µs/frame`);
  console.log(`one call's GSM both ways costs ${((((encMs + decMs) / frames) * 50) / 10).toFixed(2)} % of a core (50 frames/s each way)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
