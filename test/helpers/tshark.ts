// tshark capturing on loopback for interop tests: started and awaited until
// dumpcap has its socket open ("Capturing on 'Loopback: lo'"), stopped with
// SIGINT so the pcap is complete (SIGKILL after 5 s); and what a capture
// holds, read back as audio.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reapOnExit } from './reap.js';

/** capture packets matching the BPF `filter` on lo into `pcap` (at most 60 s) */
export async function startCapture(pcap: string, filter: string): Promise<ChildProcess> {
  const proc = reapOnExit(spawn('tshark', ['-i', 'lo', '-f', filter, '-a', 'duration:60', '-w', pcap, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tshark did not start capturing within 10 s: ${err}`)), 10_000);
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Capturing on')) {
        clearTimeout(timer);
        res();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`tshark exited with ${code}: ${err}`));
    });
  });
  return proc;
}

export async function stopCapture(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  proc.kill('SIGINT');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/**
 * The G.711 µ-law audio a capture holds toward `dstPort`, laid on a wall-
 * clock timeline from `fromMs` to `toMs` (epoch ms): each RTP packet's
 * payload in the 20 ms slot it was captured in, silence where nothing came. The
 * payloads are decoded by sox, not by Palisade. Also returns the capture
 * time of every audio packet, for counting.
 */
export function receivedUlaw(pcap: string, dstPort: number, fromMs: number, toMs: number, workDir: string): { wav: string; times: number[] } {
  const r = spawnSync(
    'tshark',
    // heuristics first: a port some other dissector registers (47000 is HCrt's, 27500 QuakeWorld's) hid
    // every packet to it from the RTP heuristic, and a hold test counted no audio to a phone that heard it
    [
      '-r',
      pcap,
      '-o',
      'udp.try_heuristic_first:TRUE',
      '-o',
      'rtp.heuristic_rtp:TRUE',
      '-Y',
      `rtp && udp.dstport == ${dstPort} && rtp.p_type == 0`,
      '-T',
      'fields',
      '-e',
      'frame.time_epoch',
      '-e',
      'rtp.payload',
    ],
    { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`tshark -r ${pcap}: ${r.stderr}`);
  const rate = 8000;
  const raw = Buffer.alloc(Math.ceil(((toMs - fromMs) / 1000) * rate), 0xff); // 0xff: µ-law silence
  const times: number[] = [];
  for (const line of r.stdout.split('\n')) {
    const [t, hex] = line.split('\t');
    if (!t || !hex) continue;
    const at = Number(t) * 1000;
    times.push(at);
    if (at < fromMs || at >= toMs) continue;
    const payload = Buffer.from(hex.replace(/:/g, ''), 'hex');
    // on the 20 ms grid (ptime 20): capture jitter would otherwise break the tone's phase
    payload.copy(raw, Math.round((at - fromMs) / 20) * (rate / 50));
  }
  const ul = join(workDir, `rx-${dstPort}.ul`);
  const wav = join(workDir, `rx-${dstPort}.wav`);
  writeFileSync(ul, raw);
  execFileSync('sox', ['-t', 'raw', '-e', 'mu-law', '-b', '8', '-r', String(rate), '-c', '1', ul, '-e', 'signed-integer', '-b', '16', wav], { timeout: 30_000 });
  return { wav, times };
}
