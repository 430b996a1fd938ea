import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WORKER_ENV } from './workers.js';

const moduleUrl = new URL('./system-name.js', import.meta.url).href;

/** systemPrefix() in a fresh process with the worker environment `env` and node name `node` */
function prefixIn(env: string | undefined, node = ''): string {
  const code = `const m = await import(${JSON.stringify(moduleUrl)}); m.setSystemName(${JSON.stringify(node)}); process.stdout.write(m.systemPrefix());`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, [WORKER_ENV]: env ?? '' },
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('uniqueid prefixes: none alone, the node in a cluster, the worker when several share one database', () => {
  assert.equal(prefixIn(undefined), '');
  assert.equal(prefixIn('0/1'), '', 'one worker: identifiers as before');
  assert.equal(prefixIn(undefined, 'pbx-a'), 'pbx-a-');
  // two workers each count their own sequence from 1: without the mark both issue EPOCH.1, and the second CDR insert fails
  assert.equal(prefixIn('0/2'), 'w0-');
  assert.equal(prefixIn('1/2'), 'w1-');
  assert.equal(prefixIn('1/2', 'pbx-a'), 'pbx-a-w1-');
});
