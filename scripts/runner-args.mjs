// The test runner's own arguments for the test line (scripts/run-tests.mjs),
// apart so a test can run a file under the same ones (test/helpers/reap.test.ts).
//
// A file ends when its tests do (--test-force-exit), even when a failed test
// left a peer running whose pipes would keep it alive: the run would wait for
// it forever (a CI run ran out of its 90 minutes that way). A file that hangs
// all the same fails after `fileTimeoutS` (TEST_FILE_TIMEOUT_S, 15 minutes by
// default; the slowest file takes a few), and the rest of the run goes on.
// What a file started ends with it (test/helpers/reap.ts). Both flags reach
// each file's process too; there --test-timeout is only the default of a test
// that sets no timeout of its own.
import { join } from 'node:path';

// The output: TAP, then the slowest files (scripts/file-times.mjs) once the run is over.
export function runnerArgs({ concurrency, fileTimeoutS }) {
  return [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-force-exit',
    `--test-timeout=${fileTimeoutS * 1000}`,
    '--test-reporter=tap',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(import.meta.dirname, 'file-times.mjs')}`,
    '--test-reporter-destination=stdout',
  ];
}
