// Process bookkeeping for the bench: every process it starts is tracked by
// PID, CPU is read from /proc/PID/stat (utime+stime, in clock ticks), and
// teardown kills by PID only (SIGTERM, then SIGKILL after a grace period).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, openSync, closeSync } from 'node:fs';

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64

const started = new Set();

/** Fields of /proc/PID/stat after the parenthesised command name. */
function statFields(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime+stime of one process in ticks, or null when it is gone. */
export function cpuTicks(pid) {
  const f = statFields(pid);
  // after ')': state(0) ppid(1) ... utime(11) stime(12)
  return f ? Number(f[11]) + Number(f[12]) : null;
}

/** pid and all its descendants (Kamailio forks its workers). */
export function processTree(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const f = statFields(name);
    if (!f) continue;
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    if (cpuTicks(p) === null) continue;
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/** Sum of CPU ticks over a process tree, per PID so dead workers keep their share. */
export function treeTicks(pid) {
  const m = new Map();
  for (const p of processTree(pid)) m.set(p, cpuTicks(p) ?? 0);
  return m;
}

/** CPU% of a tree between two treeTicks() snapshots over wallMs. */
export function cpuPercent(before, after, wallMs) {
  let ticks = 0;
  for (const [p, t] of after) ticks += t - (before.get(p) ?? 0);
  return (ticks / CLK_TCK / (wallMs / 1000)) * 100;
}

/** Resident set size of a process tree in bytes (VmRSS from /proc/PID/status). */
export function treeRss(pid) {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* exited meanwhile */
    }
  }
  return kb * 1024;
}

/**
 * Starts a long-running child, stdout+stderr appended to logPath.
 * With a logPath the child writes to the file itself (its descriptors are
 * the file's): no pipe whose reader — this process, busy with the load —
 * could fall behind and stall a server's synchronous log writes, and no
 * CPU of ours spent copying its lines. Read the file to see what it said.
 * @returns {{pid:number, child:import('node:child_process').ChildProcess, exited:Promise<number|null>}}
 */
export function startProcess(cmd, args, { logPath, cwd, env } = {}) {
  let child;
  if (logPath) {
    const fd = openSync(logPath, 'a');
    try {
      child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  } else {
    child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
  }
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  started.add(child.pid);
  void exited.then(() => started.delete(child.pid));
  return { pid: child.pid, child, exited };
}

/** Tracks a child started elsewhere (a SIPp client) so stopAll() ends it too. */
export function track(child) {
  started.add(child.pid);
  child.on('exit', () => started.delete(child.pid));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to pid, wait, then SIGKILL to pid and any descendant still alive
 * (all collected before the first signal, so orphans are not missed).
 */
export async function stopTree(pid, graceMs = 5000) {
  const tree = processTree(pid);
  if (tree.length === 0) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await sleep(50);
  for (const p of tree) {
    if (alive(p)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* raced with exit */
      }
    }
  }
  started.delete(pid);
}

/** Kills every process started through startProcess that is still running. */
export async function stopAll() {
  await Promise.all([...started].map((p) => stopTree(p, 2000)));
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
