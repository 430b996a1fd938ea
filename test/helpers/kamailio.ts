// Kamailio 5.6 as a reference registrar + authenticating proxy
// (bench/kamailio/kamailio.cfg: users 1000..1999, secrets from
// users.ts benchSecret), run as a child with its own runtime dir and pid
// file, stopped by PID.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './sip-probe.js';
import { freeLocalPorts, repoRoot } from './sipp.js';
import { reapOnExit } from './reap.js';

export interface KamailioProcess {
  pid: number;
  port: number;
  target: string;
  log(): string;
  stop(): Promise<void>;
}

/** pid's direct children (Kamailio's workers), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

export interface KamailioOptions {
  tcp?: boolean;
  port?: number;
  /** listen address (127.0.0.1 by default) */
  address?: string;
  /** another configuration than the bench's reference server, e.g. examples/cluster/kamailio.cfg */
  cfg?: string;
  /** further -A defines, e.g. ['DS_LIST="/tmp/x/nodes.list"'] */
  defines?: readonly string[];
  /** shared memory in MB (-m; 64 by default): a stateful proxy under load holds a transaction per request for its wait timer */
  shmMb?: number;
}

/** Starts Kamailio on 127.0.0.1 (UDP, and TCP when tcp is set) on a free port. */
export async function startKamailio(o: KamailioOptions = {}): Promise<KamailioProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-kamailio-'));
  const [port] = o.port ? [o.port] : await freeLocalPorts(1);
  const address = o.address ?? '127.0.0.1';
  const pidFile = join(dir, 'kamailio.pid');
  const args = [
    '-f',
    o.cfg ?? join(repoRoot(), 'bench', 'kamailio', 'kamailio.cfg'),
    '-A',
    `LISTEN_ADDR=udp:${address}:${port}`,
    ...(o.defines ?? []).flatMap((d) => ['-A', d]),
    ...(o.tcp ? ['-A', 'WITH_TCP', '-A', `TCP_LISTEN_ADDR=tcp:${address}:${port}`] : []),
    '-DD',
    '-E',
    '-Y',
    dir,
    '-P',
    pidFile,
    '-m',
    String(o.shmMb ?? 64),
    '-M',
    '8',
  ];
  const child = reapOnExit(spawn('kamailio', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-50_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pid = child.pid!;
  const deadline = Date.now() + 10_000;
  while (!existsSync(pidFile) && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    // Collect the workers first: once the main process is gone they are
    // re-parented and could not be found any more.
    const tree = [pid, ...childrenOf(pid)];
    if (pidAlive(pid)) child.kill('SIGTERM');
    const until = Date.now() + 5000;
    while (tree.some(pidAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    for (const p of tree) {
      if (pidAlive(p)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* exited */
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (!existsSync(pidFile)) {
    await stop();
    throw new Error(`kamailio did not start:\n${log.slice(-3000)}`);
  }
  return { pid, port, target: `${address}:${port}`, log: () => log, stop };
}
