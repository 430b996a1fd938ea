// tshark capturing on loopback for interop tests: started and awaited until
// dumpcap has its socket open ("Capturing on 'Loopback: lo'"), stopped with
// SIGINT so the pcap is complete (SIGKILL after 5 s).
import { spawn, type ChildProcess } from 'node:child_process';

/** capture packets matching the BPF `filter` on lo into `pcap` (at most 60 s) */
export async function startCapture(pcap: string, filter: string): Promise<ChildProcess> {
  const proc = spawn('tshark', ['-i', 'lo', '-f', filter, '-a', 'duration:60', '-w', pcap, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
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
