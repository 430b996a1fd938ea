// Generates the English prompt set into a cache folder with espeak-ng (text
// to speech) and sox (resample to 8 kHz mono 16-bit, tones, music on hold).
// Idempotent: a manifest records the text/arguments each file was made
// from, and only missing or changed files are regenerated.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SPOKEN_PROMPTS, TONE_PROMPTS } from './prompt-set.js';

const run = promisify(execFile);

/**
 * The English prompt set shipped with Palisade: <install dir>/prompts/en,
 * made by scripts/make-prompts.mjs and committed, so a machine without
 * espeak-ng still speaks. Used when the configuration names no prompts.dir.
 */
export function defaultPromptDir(): string {
  // dist/src/media/prompts/generate-prompts.js → the install dir is four levels up
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'prompts', 'en');
}
const MANIFEST = 'manifest.json';
const VERSION = 1;

export interface GenerateResult {
  generated: string[];
  unchanged: number;
}

function spec(name: string): string {
  const text = SPOKEN_PROMPTS[name];
  return text !== undefined ? `v${VERSION} say:${text}` : `v${VERSION} synth:${(TONE_PROMPTS[name] ?? []).join(' ')}`;
}

async function makeOne(dir: string, name: string): Promise<void> {
  const out = join(dir, `${name}.wav`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}.wav`;
  const text = SPOKEN_PROMPTS[name];
  const fmt = ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
  try {
    if (text !== undefined) {
      const raw = `${out}.tmp-${process.pid}-raw.wav`;
      try {
        await run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text], { timeout: 30_000 });
        // trim leading silence, normalise to -3 dBFS, pad 100 ms of silence after
        await run('sox', [raw, ...fmt, tmp, 'silence', '1', '0.02', '0.5%', 'norm', '-3', 'pad', '0', '0.1'], { timeout: 30_000 });
      } finally {
        rmSync(raw, { force: true });
      }
    } else {
      await run('sox', ['-n', ...fmt, tmp, 'synth', ...TONE_PROMPTS[name]!], { timeout: 30_000 });
    }
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** makes missing/changed prompts in `dir`; `concurrency` espeak/sox processes at a time */
export async function generatePrompts(dir: string, concurrency = 2): Promise<GenerateResult> {
  mkdirSync(dir, { recursive: true });
  const manifestPath = join(dir, MANIFEST);
  let manifest: Record<string, string> = {};
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
  } catch {
    manifest = {};
  }
  const names = [...Object.keys(SPOKEN_PROMPTS), ...Object.keys(TONE_PROMPTS)];
  const todo = names.filter((n) => manifest[n] !== spec(n) || !existsSync(join(dir, `${n}.wav`)));
  const queue = [...todo];
  const worker = async (): Promise<void> => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      await makeOne(dir, n);
      manifest[n] = spec(n);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  } finally {
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  }
  return { generated: todo, unchanged: names.length - todo.length };
}

/** true when every prompt exists with the current text */
export function promptsComplete(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Record<string, string>;
    return [...Object.keys(SPOKEN_PROMPTS), ...Object.keys(TONE_PROMPTS)].every((n) => manifest[n] === spec(n) && existsSync(join(dir, `${n}.wav`)));
  } catch {
    return false;
  }
}
