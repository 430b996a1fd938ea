// The import rules of .dependency-cruiser.cjs (docs/architecture.md, Layers)
// run by dependency-cruiser itself on small trees made here: a back-import
// (value or type-only) and a cycle between two folders fail the check, while
// downward imports, a cycle inside one folder and unit tests do not.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const root = repoRoot();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** writes a src/ tree (path → source) beside a tsconfig, and runs the project's rules on it */
function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pal-depcruise-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts'] }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const bin = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const r = spawnSync(process.execPath, [bin, 'src', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('imports down the layers, a cycle inside one folder and a unit test importing upward all pass', () => {
  const r = cruise({
    'src/core/errors.ts': 'export class PalisadeError extends Error {}\n',
    'src/observability/log.ts': "import { PalisadeError } from '../core/errors.js';\nexport const log = (e: PalisadeError) => e.message;\n",
    'src/sip-message/parser.ts': "import { log } from '../observability/log.js';\nexport const parse = () => log;\n",
    'src/sip/transaction/client.ts': "import { parse } from '../../sip-message/parser.js';\nimport { server } from './server.js';\nexport const client = () => [parse, server];\n",
    'src/sip/transaction/server.ts': "import { client } from './client.js';\nexport const server = () => client;\n",
    'src/channel/channel.ts': "import { client } from '../sip/transaction/client.js';\nexport const channel = () => client;\n",
    'src/media/rtp.test.ts': "import { channel } from '../channel/channel.js';\nexport const t = channel;\n",
    'src/cli/main.ts': "import { channel } from '../channel/channel.js';\nexport const main = channel;\n",
  });
  assert.equal(r.status, 0, r.out);
});

test('a back-import fails the check, a type-only one too, and so does a cycle between two folders', () => {
  const r = cruise({
    'src/core/errors.ts': "import { log } from '../media/log.js';\nexport const e = log;\n",
    'src/media/log.ts': 'export const log = 1;\n',
    'src/sip-message/parser.ts': "import type { Channel } from '../channel/channel.js';\nexport type P = Channel;\n",
    'src/config/load.ts': "import { ban } from '../security/ban.js';\nexport const load = ban;\n",
    'src/security/ban.ts': 'export const ban = 1;\n',
    'src/channel/channel.ts': 'export interface Channel { id: string }\n',
    'src/sip/ua/registrar.ts': "import { call } from '../b2bua/call.js';\nexport const reg = () => call;\n",
    'src/sip/b2bua/call.ts': "import { reg } from '../ua/registrar.js';\nexport const call = () => reg;\n",
  });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /rank-0-core-imports-upward: src\/core\/errors\.ts → src\/media\/log\.ts/);
  assert.match(r.out, /rank-1-\S+-imports-upward: src\/sip-message\/parser\.ts → src\/channel\/channel\.ts/, 'type-only imports count');
  assert.match(r.out, /rank-3-\S+-imports-upward: src\/config\/load\.ts → src\/security\/ban\.ts/);
  assert.match(r.out, /no-cycle-between-folders: src\/sip\/(ua|b2bua)/);
});

test('a folder that has no rank yet is refused until docs/architecture.md and the rules give it one', () => {
  const r = cruise({
    'src/iax3/frames.ts': "import { log } from '../observability/log.js';\nexport const f = log;\n",
    'src/observability/log.ts': 'export const log = 1;\n',
  });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /folder-without-rank: src\/iax3\/frames\.ts → src\/observability\/log\.ts/);
});
