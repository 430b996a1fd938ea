import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasSemiSpaceFlags } from './young-generation.js';

const MODULE = fileURLToPath(new URL('./young-generation.js', import.meta.url));

// A child that allocates like a loaded server (most objects die young, a share
// survives for a while), yielding between batches, then prints its nursery
// size in MB. `hold`: call holdYoungGeneration(2) first.
function nurseryAfterLoad(hold: boolean, nodeArgs: string[] = []): number {
  const script = `
    import v8 from 'node:v8';
    const m = await import(${JSON.stringify(MODULE)});
    const took = ${hold} ? m.holdYoungGeneration(2) : false;
    const keep = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 40000; i++) {
        const o = { n: i, s: 'x' + i, a: [i, i + 1] };
        if (i % 4 === 0) keep.push(o);
      }
      if (keep.length > 150000) keep.splice(0, 100000);
      await new Promise((r) => setImmediate(r));
    }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(JSON.stringify({ took, mb: ns.space_size / 2 ** 20 }));
  `;
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { took: boolean; mb: number };
  assert.equal(out.took, hold && nodeArgs.length === 0);
  return out.mb;
}

test('node options that size the young generation are recognised, in either spelling', () => {
  assert.equal(hasSemiSpaceFlags(['--max-semi-space-size=16']), true);
  assert.equal(hasSemiSpaceFlags(['--inspect', '--max_semi_space_size', '8']), true);
  assert.equal(hasSemiSpaceFlags(['--semi-space-growth-factor=4']), true);
  assert.equal(hasSemiSpaceFlags(['--max-old-space-size=512', '--expose-gc', '']), false);
});

test('held at 2 MB a semi-space, the nursery stays within one doubling of it under load; without, the same load grows it past that', () => {
  const held = nurseryAfterLoad(true);
  const free = nurseryAfterLoad(false);
  // new_space counts both semi-spaces: 2 x 2 MB, or 2 x 4 MB after a doubling the check came too late for
  assert.ok(held <= 8, `held nursery ${held} MB`);
  assert.ok(free > 8, `the load grows an unheld nursery (${free} MB), so the bound above is the holding's doing`);
});

test("node's own --max-semi-space-size is left alone", () => {
  assert.ok(nurseryAfterLoad(true, ['--max-semi-space-size=16']) > 8);
});
