#!/usr/bin/env node
// Entry point of the `palisade` command: runs the compiled CLI in dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error('palisade: not built yet; run `npm install` (or `npm run build`) in ' + root);
  process.exit(1);
}
// `palisade start` (and each worker it forks): the server's young generation is held small from
// before its code loads, which alone would grow it to V8's ceiling (src/host/young-generation.ts)
if (process.argv[2] === 'start') (await import(join(root, 'dist', 'src', 'host', 'young-generation.js'))).holdYoungGeneration();
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
