// Resolves a prompt name ("vm-intro", "digits/5", or a path) to a WAV file:
// the administrator's folder overrides the generated set; decoded samples
// are cached, since the same prompts are played on every call.
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

export class PromptStore {
  private readonly cache = new Map<string, Int16Array>();
  /** the modification time each cached file had: a recording replaced (the API's PUT /prompts) is read again */
  private readonly cachedAt = new Map<string, number>();

  constructor(
    private readonly generatedDir: string,
    private readonly customDir: string | null = null,
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
    const path = this.resolve(name);
    if (!path) throw new PromptNotFoundError(`prompt "${name}" not found in ${[this.customDir, this.generatedDir].filter(Boolean).join(' or ')}`);
    // absolute paths (recordings) change; cache only prompt-folder files
    if (isAbsolute(name)) return readWavSamples(path);
    let s = this.cache.get(path);
    const mtime = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (!s || this.cachedAt.get(path) !== mtime) {
      s = readWavSamples(path);
      this.cache.set(path, s);
      this.cachedAt.set(path, mtime);
    }
    return s;
  }
}
