// Every process a test file starts ends with that file.
//
// A test that fails between starting a peer and its `finally` (an office that
// refuses its configuration after the first office is up, say) leaves that
// peer running. Its pipes then keep the file's own process alive after its
// tests are done, and the run waits for it forever: a CI run ran out of its
// 90 minutes that way. The test line runs with --test-force-exit (a file ends
// when its tests do) and --test-timeout (a file that hangs ends too); this
// module ends what such a file had started, on its exit or on the runner's
// signal, so no peer outlives it to hold a port another file then takes.
import type { ChildProcess } from 'node:child_process';

interface Tracked {
  child: ChildProcess;
  /** signal the whole process group (the child leads one: `timeout`, or spawned detached) */
  group: boolean;
}

const live = new Set<Tracked>();
let hooked = false;

/** ends `child` (and with `group`, its process group) when this process exits or is signalled */
export function reapOnExit<T extends ChildProcess>(child: T, opts: { group?: boolean } = {}): T {
  const t: Tracked = { child, group: opts.group ?? false };
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return child;
  live.add(t);
  child.once('exit', () => live.delete(t));
  if (!hooked) {
    hooked = true;
    process.on('exit', reapAll);
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const) {
      process.once(signal, () => {
        reapAll();
        process.exit(code);
      });
    }
  }
  return child;
}

function reapAll(): void {
  for (const { child, group } of live) {
    try {
      if (group) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
  live.clear();
}
