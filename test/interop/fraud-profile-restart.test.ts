// The toll-fraud guard's learned calling profiles survive a restart of the
// real Palisade process: 2001 calls 2100 three times over SIP (SIPp; three
// calls are the whole learning period here), Palisade is stopped with
// SIGTERM and started again on the same database, and 2001's first call to
// a number it never called (2101) is flagged at once, while 2100 is not.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeOptions, type PalisadeProcess } from '../helpers/palisade-process.js';
import { runSipp } from '../helpers/sipp.js';
import { sippCsv, strongSecret, type TestUser } from '../helpers/users.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-profile-'));
const user = (number: string): TestUser => ({ number, secret: strongSecret(number), name: `Test ${number}` });
const caller = user('2001');
/** extensions that are never registered: their calls pass the gate, then end 480 */
const callees = [user('2100'), user('2101')];
const running: PalisadeProcess[] = [];
after(async () => {
  for (const p of running) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

const OPTIONS: PalisadeOptions = {
  dir,
  extraYaml: ['registrar:', '  qualify_interval: 0', 'fraud:', '  defaults: { calls_per_minute: 0 }', '  anomaly: { mode: flag, min_calls: 3, hour_share: 0 }'].join('\n'),
};

/** `count` calls from 2001 to `dialled`; each call's final status */
async function calls(pal: PalisadeProcess, dialled: string, count: number): Promise<string[]> {
  const csv = join(dir, `calls-${dialled}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [dialled] }));
  const r = await runSipp({ scenario: 'call-expect-uac', target: pal.target, inf: [csv], calls: count, rate: 5, pauseMs: 100, timeoutS: 30, traceLogs: true, dir });
  const results = [...r.logs.matchAll(/call-result: (\S+)/g)].map((m) => m[1]!);
  assert.equal(results.length, count, `2001 → ${dialled}: exit ${r.code}\n${r.errors.slice(0, 2000)}\n${r.stdout.slice(-1200)}`);
  return results;
}

const flagged = (pal: PalisadeProcess) =>
  pal
    .events()
    .filter((e) => e.event === 'security-event' && e.account === '2001' && /^anomaly:/.test(String(e.detail)))
    .map((e) => String(e.detail));

test('after SIGTERM and a new start on the same database, a call to a destination 2001 never called is flagged at once', { timeout: 90_000 }, async () => {
  const first = await startPalisade({ ...OPTIONS, users: [caller, ...callees] });
  running.push(first);
  assert.deepEqual(await calls(first, '2100', 3), ['480', '480', '480']);
  assert.deepEqual(flagged(first), [], 'nothing is judged while learning');
  assert.equal((await first.stop()).code, 0);

  const second = await startPalisade(OPTIONS);
  running.push(second);
  assert.ok(
    second.events().some((e) => e.event === 'security-ready' && e.calling_profiles_restored === 1),
    'the profile is loaded at start',
  );
  assert.deepEqual(await calls(second, '2100', 1), ['480']);
  assert.deepEqual(flagged(second), [], 'the learned destination is not flagged');
  assert.deepEqual(await calls(second, '2101', 1), ['480']); // flagged, not blocked
  assert.deepEqual(flagged(second), ['anomaly:new-destination']);
});
