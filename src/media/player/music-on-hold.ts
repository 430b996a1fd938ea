// Music on hold: a class is a folder of WAV files played in a loop (in name
// order). Classes live under the prompt folders as moh/<class>/, so the
// administrator's folder can add or override classes like prompts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readWavSamples } from './wav-file.js';

export class MusicOnHold {
  private readonly cache = new Map<string, Int16Array[]>();

  constructor(private readonly dirs: Array<string | null>) {}

  /** the files of a class, decoded; empty when the class does not exist */
  load(className: string): Int16Array[] {
    if (!/^[A-Za-z0-9_-]+$/.test(className)) return [];
    const hit = this.cache.get(className);
    if (hit) return hit;
    for (const d of this.dirs) {
      if (!d) continue;
      const folder = join(d, 'moh', className);
      let names: string[];
      try {
        names = readdirSync(folder)
          .filter((n) => n.endsWith('.wav'))
          .sort();
      } catch {
        continue;
      }
      if (names.length === 0) continue;
      const files = names.map((n) => readWavSamples(join(folder, n)));
      this.cache.set(className, files);
      return files;
    }
    return [];
  }
}
