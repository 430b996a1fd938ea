// A private NATS server with JetStream (Debian's nats-server) for tests that
// must take the broker away and bring it back, or that run inside a
// loopback-only namespace where the machine's broker is out of reach. Its
// store lives in a directory of its own, kept across stop/start so a
// restarted broker has its streams again. Stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts } from './sipp.js';
import { reapOnExit } from './reap.js';

export interface NatsServer {
  url: string;
  port: number;
  /** kills the server (SIGKILL: a broker that vanishes) */
  kill(): Promise<void>;
  /** starts it again on the same port and store */
  start(): Promise<void>;
  /** stops it for good and removes its store */
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNats(): Promise<NatsServer> {
  const [port] = await freeLocalPorts(1);
  const dir = mkdtempSync(join(tmpdir(), 'palisade-nats-'));
  let child: ChildProcess | null = null;
  let log = '';
  const start = async () => {
    const c = reapOnExit(spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child = c;
    const keep = (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000);
    };
    c.stdout!.on('data', keep);
    c.stderr!.on('data', keep);
    const until = Date.now() + 10_000;
    while (!(await listening(port!))) {
      if (c.exitCode !== null || Date.now() > until) throw new Error(`nats-server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port: port!,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
