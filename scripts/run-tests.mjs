#!/usr/bin/env node
// Finds the compiled test files under dist/ and runs them with Node's test runner.
// --unit runs only the unit tests beside the code (src/**/*.test.js).
// Any further argument filters test files by substring. After the TAP
// output it prints the slowest files (scripts/file-times.mjs).
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { runnerArgs } from './runner-args.mjs';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
const roots = unitOnly ? ['dist/src'] : ['dist/src', 'dist/test'];

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = roots.flatMap((r) => walk(r, [])).sort();
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
// Two test files at a time (one on a one-core machine): each file is its own process, and an interop
// file spends most of its time waiting on its peers (SIPp's pauses, a phone's registration, timers),
// so two of them share 2 cores without starving each other. Every file takes its own ports (from
// port blocks its process claims: test/helpers/sipp.ts, claimPortBlock), table prefix and temp dir.
// TEST_CONCURRENCY=1 runs them one by one, as before (a flaky file's log is then its own).
const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.min(2, availableParallelism()));
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`TEST_CONCURRENCY must be a whole number of at least 1, not "${process.env.TEST_CONCURRENCY}"`);
  process.exit(2);
}
const fileTimeoutS = Number(process.env.TEST_FILE_TIMEOUT_S ?? 900);
if (!Number.isInteger(fileTimeoutS) || fileTimeoutS < 1) {
  console.error(`TEST_FILE_TIMEOUT_S must be a whole number of seconds, not "${process.env.TEST_FILE_TIMEOUT_S}"`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [...runnerArgs({ concurrency, fileTimeoutS }), ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
