// Music on hold: a class is a folder of WAV files played in a loop (in name
// order). Classes live under the prompt folders as moh/<class>/, so the
// administrator's folder can add or override classes like prompts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readWavSamples } from './wav-file.js';

/** a class name: a folder name under moh/, never a path (config checks and a peer's suggestion use it too) */
export const MUSIC_CLASS = /^[A-Za-z0-9_-]{1,64}$/;

export class MusicOnHold {
  private readonly cache = new Map<string, Int16Array[]>();

  constructor(private readonly dirs: Array<string | null>) {}

  /** the files of a class, decoded; empty when the class does not exist */
  load(className: string): Int16Array[] {
    if (!MUSIC_CLASS.test(className)) return [];
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
