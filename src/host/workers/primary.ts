// The primary process of `palisade start` with sip.workers > 1 (docs/
// operations.md, "One machine, every core"): forks the workers (worker 0
// first: it runs the database migrations and the once-per-server jobs, then
// the others), relays what they share, gathers control-command answers from
// all of them, restarts a worker that dies, and stops them all on
// SIGTERM/SIGINT. It opens each UDP listen point's sockets, one per worker
// in a group the kernel steers by source address, and gives each worker
// its own (src/transport/steered-udp.ts); it never reads them. Where that
// cannot be done, the workers bind with exclusive: false and node:cluster
// holds one socket here that they all share.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../observability/logger.js';
import { formatListenPoint } from '../../transport/address.js';
import { formatUdpFds, openSteeredGroup, UDP_FDS_ENV } from '../../transport/steered-udp.js';
import type { ListenPoint } from '../../transport/types.js';
import { newWorkerKey, WORKER_ENV, WORKER_KEY_ENV } from '../../core/workers.js';
import type { ToPrimary, ToWorker, WorkerAnswer } from './ipc.js';

const ASK_TIMEOUT_MS = 5000;

interface Ask {
  from: number;
  want: Set<number>;
  answers: WorkerAnswer[];
  timer: NodeJS.Timeout;
}

/** the first descriptor of a worker that holds its UDP sockets: 0-2 are stdio, 3 the IPC channel */
const FIRST_UDP_FD = 4;

/** each UDP listen point's steered group, or none where it cannot be made (the reason is logged) */
function openGroups(points: ListenPoint[], count: number, log: Logger): Array<{ point: ListenPoint; fds: number[] }> {
  const groups: Array<{ point: ListenPoint; fds: number[] }> = [];
  for (const point of points) {
    const listen = formatListenPoint(point);
    try {
      groups.push({ point, fds: openSteeredGroup(point, count) });
      log.info('udp-steered', { listen, workers: count });
    } catch (err) {
      log.warn('udp-steering-unavailable', { listen, reason: (err as Error).message, instead: 'one socket shared by every worker' });
    }
  }
  return groups;
}

export function runPrimary(count: number, log: Logger, udpPoints: ListenPoint[] = []): Promise<number> {
  const workers: Array<Worker | null> = new Array(count).fill(null);
  const ports: Array<number | null> = new Array(count).fill(null);
  const asks = new Map<number, Ask>();
  let stopping = false;
  let exitCode = 0;
  let firstReady = false;
  let resolveExit: (code: number) => void = () => {};
  // signs the calls one worker hands to another (src/core/workers.ts); a restarted worker gets the same
  const key = newWorkerKey();

  const send = (i: number, m: ToWorker) => {
    const w = workers[i];
    if (w?.isConnected()) w.send(m);
  };
  const peers = () => {
    for (let i = 0; i < count; i++) send(i, { t: 'peers', ports });
  };
  const finish = (id: number) => {
    const a = asks.get(id);
    if (!a) return;
    asks.delete(id);
    clearTimeout(a.timer);
    send(a.from, { t: 'answers', id, answers: a.answers.sort((x, y) => x.index - y.index) });
  };

  // set once the primary stops: SIGTERM to every worker
  let stopAll: (why: string) => void = () => {};
  // held for the primary's whole life: a restarted worker gets its own socket back, with what waited in it
  const groups = openGroups(udpPoints, count, log);
  const fork = (index: number) => {
    // worker `index` inherits its socket of each group as descriptors 4, 5, …
    cluster.setupPrimary({ stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...groups.map((g) => g.fds[index]!)] });
    const fds = formatUdpFds(groups.map((g, k) => ({ point: g.point, fd: FIRST_UDP_FD + k })));
    const w = cluster.fork({ [WORKER_ENV]: `${index}/${count}`, [WORKER_KEY_ENV]: key, [UDP_FDS_ENV]: fds });
    workers[index] = w;
    let wasReady = false;
    w.on('message', (m: ToPrimary) => {
      if (m.t === 'port') {
        ports[index] = m.port;
        peers();
      } else if (m.t === 'ready') {
        wasReady = true;
        log.info('worker-ready', { worker: index, pid: w.process.pid });
        if (index === 0 && !firstReady) {
          firstReady = true;
          for (let i = 1; i < count; i++) fork(i);
        }
      } else if (m.t === 'bcast') {
        for (let i = 0; i < count; i++) if (i !== index) send(i, m);
      } else if (m.t === 'ask') {
        const want = new Set<number>();
        for (let i = 0; i < count; i++) if (workers[i]?.isConnected()) want.add(i);
        const timer = setTimeout(() => finish(m.id), ASK_TIMEOUT_MS);
        asks.set(m.id, { from: index, want, answers: [], timer });
        for (const i of want) send(i, { t: 'run', id: m.id, cmd: m.cmd, args: m.args });
      } else if (m.t === 'result') {
        const a = asks.get(m.id);
        if (!a?.want.delete(m.index)) return;
        a.answers.push({ index: m.index, ok: m.ok, value: m.value });
        if (a.want.size === 0) finish(m.id);
      }
    });
    w.on('exit', (code, signal) => {
      if (workers[index] !== w) return;
      workers[index] = null;
      ports[index] = null;
      for (const [id, a] of asks) if (a.want.delete(index) && a.want.size === 0) finish(id);
      if (stopping) {
        if (workers.every((x) => x === null)) resolveExit(exitCode);
        return;
      }
      // one that never came up (a port taken, a broken database) would fail again: everything stops
      if (!wasReady) {
        log.error('worker-failed-to-start', { worker: index, pid: w.process.pid, code, signal });
        exitCode = 1;
        stopAll('worker-failed-to-start');
        if (workers.every((x) => x === null)) resolveExit(exitCode);
        return;
      }
      log.error('worker-died', { worker: index, pid: w.process.pid, code, signal, restart_in_ms: 1000 });
      peers();
      setTimeout(() => {
        if (!stopping) fork(index);
      }, 1000).unref();
    });
  };

  return new Promise<number>((resolve) => {
    resolveExit = resolve;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping-workers', { signal });
      if (workers.every((x) => x === null)) return resolve(exitCode);
      for (const w of workers) w?.process.kill('SIGTERM');
    };
    stopAll = stop;
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    log.info('starting-workers', { workers: count, pid: process.pid });
    fork(0);
  });
}
