#!/usr/bin/env node
// Generates the English prompt set (espeak-ng + sox) into prompts/en/, the
// set shipped in the repository (or into the folder given as the first
// argument). Idempotent: only missing or
// changed prompts are made. Needs a build (`npm run build`) first.
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { generatePrompts } = await import(join(root, 'dist', 'src', 'media', 'prompts', 'generate-prompts.js'));
const dir = resolve(process.argv[2] ?? join(root, 'prompts', 'en'));
const t0 = Date.now();
const r = await generatePrompts(dir);
console.log(`make-prompts: ${r.generated.length} generated, ${r.unchanged} unchanged in ${dir} (${Date.now() - t0} ms)`);
