// Where Record() and MixMonitor() may write: a relative name lands under the
// recordings directory; ".." is refused so that a variable holding caller
// input can never steer a recording outside it.
import { isAbsolute, resolve } from 'node:path';

export function recordingPath(dir: string, name: string): string | null {
  const n = name.trim();
  if (n === '' || n.split(/[\\/]/).includes('..') || n.includes('\0')) return null;
  return isAbsolute(n) ? n : resolve(dir, n);
}
