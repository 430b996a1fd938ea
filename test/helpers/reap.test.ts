import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pidAlive } from './sip-probe.js';
import { repoRoot } from './paths.js';

/**
 * A process standing in for a test file: it starts a plain child and a
 * `timeout`-led group through reapOnExit, prints their pids, then ends as
 * `how` says. Resolves with the pids and how it ended.
 */
async function fileProcess(how: 'exit' | 'SIGTERM' | 'untracked'): Promise<{ pids: number[]; code: number | null }> {
  const reap = new URL('./reap.js', import.meta.url).href;
  const script = `
    import { spawn, spawnSync } from 'node:child_process';
    const { reapOnExit } = await import(${JSON.stringify(reap)});
    const plain = spawn('sleep', ['60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const led = spawn('timeout', ['60', 'sleep', '61'], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (${JSON.stringify(how)} !== 'untracked') {
      reapOnExit(plain);
      reapOnExit(led, { group: true });
    }
    setTimeout(() => {
      const inner = Number(spawnSync('pgrep', ['-P', String(led.pid)], { encoding: 'utf8' }).stdout.trim());
      console.log(JSON.stringify([plain.pid, led.pid, inner]));
      if (${JSON.stringify(how)} !== 'SIGTERM') process.exit(0);
      setInterval(() => {}, 1000);
    }, 300);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((res, rej) => {
    child.stdout.once('data', (d: Buffer) => res(d.toString()));
    child.once('exit', (code) => rej(new Error(`the file process exited with ${code} before it printed`)));
  });
  const pids = JSON.parse(line) as number[];
  if (how === 'SIGTERM') child.kill('SIGTERM');
  const code = await new Promise<number | null>((res) => {
    if (child.exitCode !== null) res(child.exitCode);
    else child.once('exit', (c) => res(c));
  });
  return { pids, code };
}

/**
 * Whether the process runs: it exists and is not a zombie. A child killed
 * after its parent (the file process) exited waits as a zombie until this
 * machine's init reaps it, which under load took over 2 s once; dead, it
 * holds no port.
 */
function running(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    // the state is the field after the command name, which ends at the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pids: number[]): Promise<number[]> {
  const deadline = Date.now() + 5000;
  let alive = pids;
  while (Date.now() < deadline && (alive = pids.filter(running)).length > 0) await new Promise((r) => setTimeout(r, 50));
  return alive;
}

test('reapOnExit: what a file process started ends when it exits, and when the runner ends it with SIGTERM; untracked, it would outlive it', { timeout: 30_000 }, async () => {
  const exited = await fileProcess('exit');
  assert.equal(exited.pids.length, 3);
  assert.ok(
    exited.pids.every((p) => Number.isInteger(p) && p > 0),
    String(exited.pids),
  );
  assert.deepEqual(await gone(exited.pids), [], 'left running after the exit');

  const termed = await fileProcess('SIGTERM');
  assert.equal(termed.code, 143);
  assert.deepEqual(await gone(termed.pids), [], 'left running after SIGTERM');

  // the control: the same processes, not tracked, are still there (so the checks above can fail)
  const untracked = await fileProcess('untracked');
  try {
    assert.deepEqual(
      untracked.pids.filter((p) => !running(p)),
      [],
      'an untracked child ended by itself',
    );
  } finally {
    for (const p of untracked.pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

/**
 * A test file as the test line runs it (scripts/runner-args.mjs, with a
 * 4-second file limit): its test starts a peer through reapOnExit and keeps
 * the process alive (as a peer's pipes do) either after passing or by never
 * ending. Returns the runner's status, its seconds, and the peer's pid.
 */
async function underTheLine(kind: 'passes-then-lingers' | 'hangs'): Promise<{ status: number | null; seconds: number; peer: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'reap-line-'));
  try {
    const reap = new URL('./reap.js', import.meta.url).href;
    const file = join(dir, `${kind}.test.mjs`);
    writeFileSync(
      file,
      `import { test } from 'node:test';
       import { spawn } from 'node:child_process';
       import { writeFileSync } from 'node:fs';
       const { reapOnExit } = await import(${JSON.stringify(reap)});
       test(${JSON.stringify(kind)}, async () => {
         const peer = reapOnExit(spawn('sleep', ['60'], { stdio: ['ignore', 'pipe', 'pipe'] }));
         writeFileSync(${JSON.stringify(join(dir, 'peer'))}, String(peer.pid));
         setInterval(() => {}, 1000);
         if (${JSON.stringify(kind)} === 'hangs') await new Promise(() => {});
       });
      `,
    );
    const { runnerArgs } = (await import(pathToFileURL(join(repoRoot(), 'scripts', 'runner-args.mjs')).href)) as {
      runnerArgs(o: { concurrency: number; fileTimeoutS: number }): string[];
    };
    const t0 = Date.now();
    // a runner of its own, not a file of this one's (which skips running files)
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [...runnerArgs({ concurrency: 1, fileTimeoutS: 4 }), file], { encoding: 'utf8', timeout: 30_000, env });
    const seconds = (Date.now() - t0) / 1000;
    const peer = Number(readFileSync(join(dir, 'peer'), 'utf8'));
    return { status: r.status, seconds, peer, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the test line's runner: a file that passes but leaves its process busy ends at once, and the table of slowest files still prints; a file that hangs fails at its limit; neither leaves its peer", {
  timeout: 60_000,
}, async () => {
  const lingers = await underTheLine('passes-then-lingers');
  assert.equal(lingers.status, 0, lingers.out);
  // the line's table of the slowest files still comes out, though the runner exits at once
  assert.match(lingers.out, /# slowest test files \(wall seconds; 1 files[^\n]*\n#\s+[\d.]+\s+\S*passes-then-lingers/);
  assert.ok(lingers.seconds < 3.5, `a finished file held the run for ${lingers.seconds} s`);
  assert.ok(lingers.peer > 0, lingers.out);
  assert.deepEqual(await gone([lingers.peer]), [], 'the peer outlived its file');

  const hangs = await underTheLine('hangs');
  assert.equal(hangs.status, 1, hangs.out);
  assert.match(hangs.out, /not ok/);
  assert.ok(hangs.seconds >= 4 && hangs.seconds < 15, `the hanging file ended after ${hangs.seconds} s`);
  assert.ok(hangs.peer > 0, hangs.out);
  assert.deepEqual(await gone([hangs.peer]), [], 'the peer outlived its hanging file');
});
