// The size of V8's young generation in a server process (docs/operations.md,
// "Memory"). New objects are born in two semi-spaces; V8 doubles them, up to
// 16 MB each, whenever many objects survive a scavenge — which a server's
// start and any steady load (contacts, transactions) do at once. Both
// semi-spaces are then touched: 32 MB of resident memory per worker for a
// nursery that a SIP worker's short-lived objects do not need.
//
// Node has a flag for the ceiling (--max-semi-space-size), read only when the
// process starts; `palisade start` runs in the process it was given. The
// growth factor, though, is read at each growth: Palisade lets the nursery
// double only while it is below the ceiling, checked after each garbage
// collection. An operator who starts node with their own semi-space flags
// (NODE_OPTIONS or node's arguments) keeps them, and this stays out of the way.
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/** semi-space ceiling (MB each): measured as the RSS/CPU knee for REGISTER load, see docs/operations.md */
export const SEMI_SPACE_MB = 8;

const OWN_FLAGS = /^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|min[-_]semi[-_]space[-_]size)\b/;

/** whether node's own options already size the young generation */
export function hasSemiSpaceFlags(args: readonly string[]): boolean {
  return args.some((a) => OWN_FLAGS.test(a));
}

function newSpaceBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

let holding: PerformanceObserver | undefined;

/**
 * Hold the young generation at `maxMb` per semi-space (it may reach the next
 * doubling when several scavenges run before the check). Returns false, and
 * changes nothing, when node was started with its own semi-space flags.
 */
export function holdYoungGeneration(maxMb = SEMI_SPACE_MB, nodeArgs: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]): boolean {
  if (hasSemiSpaceFlags(nodeArgs)) return false;
  if (holding) return true;
  // new_space's size counts both semi-spaces
  const ceiling = maxMb * 2 * 2 ** 20;
  // no growth until the first check after a collection: a start that allocates for seconds without
  // yielding would otherwise double the nursery to V8's ceiling before any check could run
  let grow = false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  const decide = () => {
    const want = newSpaceBytes() < ceiling;
    if (want === grow) return;
    grow = want;
    // 2 is V8's default; 1 stops growth (shrinking, on low allocation, is unaffected)
    v8.setFlagsFromString(`--semi-space-growth-factor=${want ? 2 : 1}`);
  };
  holding = new PerformanceObserver(decide);
  holding.observe({ entryTypes: ['gc'] });
  return true;
}
