// The helper against the real Palisade process: ready line, registration by
// a real SIPp peer with the imported secrets, clean exit on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade } from './palisade-process.js';
import { runSipp } from './sipp.js';
import { makeUsers, sippCsv } from './users.js';

test('startPalisade: ready, REGISTER with the imported secrets, stop by SIGTERM', { timeout: 90_000 }, async () => {
  const users = makeUsers(3, { first: 1000 });
  const pal = await startPalisade({ users });
  const dir = mkdtempSync(join(tmpdir(), 'palisade-proc-test-'));
  try {
    assert.ok(
      pal.events().some((e) => e.event === 'ready'),
      'ready event recorded',
    );
    assert.ok(existsSync(pal.configPath));
    const ok = join(dir, 'ok.csv');
    writeFileSync(ok, sippCsv(users));
    for (const transport of ['u1', 't1'] as const) {
      const r = await runSipp({ scenario: 'register-auth', target: pal.target, transport, inf: [ok], calls: users.length, rate: 20, timeoutS: 20, dir });
      assert.equal(r.stats?.successful, users.length, `${transport}: ${r.errors}\n${r.stdout.slice(-1500)}`);
    }
    const wrong = join(dir, 'wrong.csv');
    writeFileSync(wrong, sippCsv(users.slice(0, 1), { wrongPassword: true }));
    const w = await runSipp({ scenario: 'register-wrong-password', target: pal.target, inf: [wrong], calls: 1, timeoutS: 20, traceLogs: true, dir });
    assert.equal(w.stats?.successful, 1, w.errors);
    assert.match(w.logs, /wrong-password-result: (401|403)/);
  } finally {
    const exit = await pal.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(exit.killed, false, 'Palisade needed SIGKILL');
    assert.equal(exit.code, 0);
    assert.equal(existsSync(pal.dir), false, 'temp dir removed');
  }
});
