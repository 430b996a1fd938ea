// Where things are, whether a test runs from test/ (tsx) or from dist/test/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the repository root: the nearest ancestor of this file holding package.json */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
}

/** the shared test data beside the checkout (../shared/testdata/NAME), as CI lays it out */
export function sharedTestdata(name: string): string {
  return join(repoRoot(), '..', 'shared', 'testdata', name);
}
