// Authenticate() and ReportAuthFailure() through the dialplan engine with an
// in-memory caller: what the caller hears, and what the defences are told —
// every wrong PIN against the caller's signalling address and extension,
// never the PIN itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryChannel } from '../../../test/support/memory-channel.js';
import { DialplanEngine, type StepRecord } from '../engine.js';
import { parseExtensionsConfText } from '../parse-extensions-conf.js';
import type { PinOutcome } from '../../core/pin-outcome.js';
import { pinOutcomeEvent } from '../../security/ids/auth-events.js';

const PEER = { transport: 'udp', address: '203.0.113.9', port: 5070, account: '1004' } as const;

async function run(conf: string, script: string): Promise<{ ch: MemoryChannel; outcomes: PinOutcome[]; steps: StepRecord[] }> {
  const outcomes: PinOutcome[] = [];
  const steps: StepRecord[] = [];
  const engine = new DialplanEngine(parseExtensionsConfText(conf, 'extensions.conf'), {
    pinOutcome: (o) => void outcomes.push(o),
    onStep: (_c, s) => void steps.push(s),
  });
  const ch = new MemoryChannel({ context: 'c', dialed: '100', callerIdNum: '1004', script, peer: PEER });
  await engine.run(ch, ch.media);
  return { ch, outcomes, steps };
}

const AUTH = '[c]\nexten => 100,1,Authenticate(582914)\n same => n,Playback(welcome-in)\n';

test('Authenticate: the right PIN plays auth-thankyou and the dialplan goes on', async () => {
  const { ch, outcomes } = await run(AUTH, '582914#~');
  assert.deepEqual(ch.played, ['agent-pass', 'auth-thankyou', 'welcome-in']);
  assert.deepEqual(
    outcomes.map((o) => [o.ok, o.service, o.account]),
    [[true, 'Authenticate', '1004']],
  );
});

test("Authenticate: three wrong PINs → auth-incorrect, goodbye, hang-up; each one counts against the caller's address and extension", async () => {
  const { ch, outcomes, steps } = await run(AUTH, '1111#2222#3333#');
  assert.deepEqual(ch.played, ['agent-pass', 'auth-incorrect', 'auth-incorrect', 'goodbye']);
  assert.equal(ch.cause, 'normal');
  assert.ok(!ch.played.includes('welcome-in'), 'the dialplan did not go on');
  const events = outcomes.map(pinOutcomeEvent);
  assert.deepEqual(
    events.map((e) => [e.type, e.service, e.account, e.remote, e.sessionId, e.extra?.caller]),
    Array(3).fill(['InvalidPassword', 'Authenticate', '1004', { transport: 'udp', address: '203.0.113.9', port: 5070 }, ch.id, '1004']),
  );
  // no PIN, right or wrong, in what the defences, LASTDATA, the CDR or the path trace get
  const seen = JSON.stringify([events, steps, [...ch.vars]]);
  assert.doesNotMatch(seen, /582914|1111|2222|3333/);
  assert.equal(ch.vars.get('LASTDATA'), '***');
});

test('Authenticate: a wrong PIN then the right one; maxdigits ends input without #; silence is not a guess', async () => {
  const { ch, outcomes } = await run('[c]\nexten => 100,1,Authenticate(4827,,4)\n same => n,Playback(in)\n', '~99994827~');
  assert.deepEqual(ch.played, ['agent-pass', 'auth-incorrect', 'auth-incorrect', 'auth-thankyou', 'in']);
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [false, true],
    'the empty entry was not reported',
  );
});

test('Authenticate(/file): any PIN listed in the file; an unreadable file lets nobody in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-auth-'));
  try {
    const file = join(dir, 'pins');
    writeFileSync(file, '  \n730215\n918364\n');
    const ok = await run(`[c]\nexten => 100,1,Authenticate(${file})\n same => n,Playback(in)\n`, '918364#~');
    assert.deepEqual(ok.ch.played.at(-1), 'in');
    const none = await run(`[c]\nexten => 100,1,Authenticate(${join(dir, 'missing')})\n same => n,Playback(in)\n`, '918364#918364#918364#');
    assert.equal(none.ch.played.at(-1), 'goodbye');
    assert.equal(none.outcomes.filter((o) => !o.ok).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ReportAuthFailure: a wrong PIN the dialplan checked itself counts against the caller, with the account it names', async () => {
  const conf = [
    '[c]',
    'exten => 100,1,Read(ID)',
    ' same => n,Read(PIN)',
    ' same => n,GotoIf($["${PIN}" = "271828"]?ok)',
    ' same => n,ReportAuthFailure(attendance,${ID})',
    ' same => n,ReportAuthFailure(bad service!)',
    ' same => n,Hangup()',
    ' same => n(ok),Playback(in)',
  ].join('\n');
  const { outcomes, steps } = await run(conf, '240001#123456#');
  const events = outcomes.map(pinOutcomeEvent);
  assert.deepEqual(
    events.map((e) => [e.type, e.service, e.account, e.remote?.address]),
    [
      ['InvalidPassword', 'attendance', '240001', '203.0.113.9'],
      ['InvalidPassword', 'dialplan', '1004', '203.0.113.9'],
    ],
  );
  assert.doesNotMatch(JSON.stringify(events), /123456/);
  assert.ok(steps.some((s) => s.app === 'ReportAuthFailure'));
  const right = await run(conf, '240001#271828#');
  assert.deepEqual(right.outcomes, [], 'nothing reported for the right PIN');
});
