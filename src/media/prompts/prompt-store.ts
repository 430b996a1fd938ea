// Resolves a prompt name ("vm-intro", "digits/5", or a path) to a WAV file:
// the administrator's folder overrides the generated set; decoded samples
// are cached, since the same prompts are played on every call. A cached
// prompt is looked at on disk again at most once a second (a recording
// replaced through the API or by hand is played from then on), so a busy IVR
// costs no file-system call per play.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { readWavSamples } from '../player/wav-file.js';
import { PalisadeError } from '../../core/errors.js';

export class PromptNotFoundError extends PalisadeError {
  declare readonly code: 'PAL_ERR_PROMPT_NOT_FOUND';
  constructor(message: string) {
    super('PAL_ERR_PROMPT_NOT_FOUND', message);
  }
}

interface Cached {
  path: string;
  samples: Int16Array;
  /** the file's modification time when read: a recording replaced (the API's PUT /prompts) is read again */
  mtime: number;
  /** when the name was last resolved and the file looked at (ms, the store's clock) */
  checked: number;
}

/** how long a cached prompt is played without looking at the disk */
export const PROMPT_RECHECK_MS = 1000;

export class PromptStore {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly generatedDir: string,
    private readonly customDir: string | null = null,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** the file a name resolves to, or null */
  resolve(name: string): string | null {
    if (isAbsolute(name)) {
      for (const p of [name, `${name}.wav`]) if (existsSync(p) && p.endsWith('.wav')) return p;
      return null;
    }
    // names are relative and must stay inside the prompt folders
    const rel = normalize(name.endsWith('.wav') ? name : `${name}.wav`);
    if (rel.startsWith('..')) return null;
    for (const dir of [this.customDir, this.generatedDir]) {
      if (!dir) continue;
      const p = join(dir, rel);
      if (existsSync(p)) return p;
    }
    return null;
  }

  /** samples of a prompt; throws PromptNotFoundError */
  load(name: string): Int16Array {
    // absolute paths (recordings) change; cache only prompt-folder files
    if (isAbsolute(name)) return readWavSamples(this.found(name));
    const now = this.now();
    const hit = this.cache.get(name);
    if (hit !== undefined && now - hit.checked < PROMPT_RECHECK_MS) return hit.samples;
    // resolved again: a recording added to the custom folder now wins over the generated prompt
    const path = this.found(name);
    const mtime = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (hit !== undefined && hit.path === path && hit.mtime === mtime) {
      hit.checked = now;
      return hit.samples;
    }
    const samples = readWavSamples(path);
    this.cache.set(name, { path, samples, mtime, checked: now });
    return samples;
  }

  /** forget cached prompts (all, or one name): the next play reads the disk (a recording replaced or deleted through the API) */
  forget(name?: string): void {
    if (name === undefined) this.cache.clear();
    else this.cache.delete(name);
  }

  private found(name: string): string {
    const path = this.resolve(name);
    if (!path) throw new PromptNotFoundError(`prompt "${name}" not found in ${[this.customDir, this.generatedDir].filter(Boolean).join(' or ')}`);
    return path;
  }
}
