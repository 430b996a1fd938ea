// iaxmodem (Debian's package: libiax2 and spandsp) as an independent IAX2
// peer for interop tests. It reads its configuration from
// /etc/iaxmodem/NAME, registers to `server` as `peername` with `secret`, and
// exposes a pty at `device` that takes modem AT commands: ATD<number> dials
// over IAX2, ATA answers a call announced by RING. With `record` it writes
// what it received over IAX2 to /tmp/<peername>-iax.raw (16-bit 8 kHz).
// Started and stopped by PID; its configuration file is removed at stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import tty from 'node:tty';
import { reapOnExit } from './reap.js';

export interface IaxModemOptions {
  /** unique per test (the /etc/iaxmodem file name) */
  name: string;
  device: string;
  /** its own UDP port */
  port: number;
  server: string;
  serverPort: number;
  peername: string;
  secret: string;
  cidnumber: string;
  codec?: 'ulaw' | 'alaw' | 'slinear';
}

export interface IaxModem {
  proc: ChildProcess;
  /** what the modem printed on the pty so far */
  readonly output: string;
  /** writes an AT command (CR added) */
  at(cmd: string): void;
  /** writes raw text (no CR): the +++ escape */
  raw(text: string): void;
  waitFor(text: string | RegExp, timeoutMs: number, from?: number): Promise<void>;
  /** what it received over IAX2 in all its calls (s16le samples); complete only once stopped (stdio buffers it) */
  recording(): Int16Array;
  /** ends the process (the recording stays readable) and removes its configuration */
  stop(): Promise<void>;
  removeRecordings(): void;
}

export async function startIaxModem(o: IaxModemOptions): Promise<IaxModem> {
  mkdirSync('/etc/iaxmodem', { recursive: true });
  const cfgFile = `/etc/iaxmodem/${o.name}`;
  const rec = `/tmp/${o.peername}-iax.raw`;
  rmSync(rec, { force: true });
  rmSync(`/tmp/${o.peername}-dsp.raw`, { force: true });
  writeFileSync(
    cfgFile,
    [
      `device\t\t${o.device}`,
      'owner\t\troot:root',
      'mode\t\t660',
      `port\t\t${o.port}`,
      'refresh\t\t60',
      `server\t\t${o.server}:${o.serverPort}`,
      `peername\t${o.peername}`,
      `secret\t\t${o.secret}`,
      `cidname\t\tModem ${o.peername}`,
      `cidnumber\t${o.cidnumber}`,
      `codec\t\t${o.codec ?? 'ulaw'}`,
      'record',
      '',
    ].join('\n'),
  );
  const proc = reapOnExit(spawn('iaxmodem', [o.name], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const t0 = Date.now();
  while (!existsSync(o.device)) {
    if (Date.now() - t0 > 10_000 || proc.exitCode !== null) throw new Error(`iaxmodem did not create ${o.device}: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  spawnSync('stty', ['-F', o.device, 'raw', '-echo']);
  const fd = openSync(o.device, 'r+');
  const rs = new tty.ReadStream(fd);
  const ws = new tty.WriteStream(fd);
  let output = '';
  const waiters = new Set<() => void>();
  rs.on('data', (d: Buffer) => {
    output += d.toString('latin1');
    for (const w of waiters) w();
  });
  rs.on('error', () => {});
  return {
    proc,
    get output() {
      return output;
    },
    at(cmd) {
      ws.write(`${cmd}\r`);
    },
    raw(text) {
      ws.write(text);
    },
    waitFor(text, timeoutMs, from = 0) {
      const hit = () => (typeof text === 'string' ? output.indexOf(text, from) >= 0 : text.test(output.slice(from)));
      if (hit()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = () => {
          if (!hit()) return;
          waiters.delete(w);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`iaxmodem ${o.peername}: no ${String(text)} within ${timeoutMs} ms; pty: ${JSON.stringify(output)}; log: ${log.slice(-1500)}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    recording() {
      if (!existsSync(rec)) return new Int16Array(0);
      const b = readFileSync(rec);
      return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2));
    },
    async stop() {
      rs.destroy();
      ws.destroy();
      if (proc.exitCode === null && proc.pid) {
        const gone = new Promise((r) => proc.once('exit', r));
        process.kill(proc.pid, 'SIGTERM');
        const t = setTimeout(() => proc.pid && proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 3000);
        await gone;
        clearTimeout(t);
      }
      rmSync(cfgFile, { force: true });
    },
    removeRecordings() {
      rmSync(rec, { force: true });
      rmSync(`/tmp/${o.peername}-dsp.raw`, { force: true });
    },
  };
}
