import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { claimInAnotherProcess, claimPortBlock, freeLocalPorts, PORT_BLOCK, parseSippStatCsv, runSipp, startSipp } from './sipp.js';
import { makeUsers, sippCsv } from './users.js';

test('parseSippStatCsv reads the last row of a -trace_stat file', () => {
  const csv = [
    'StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);' +
      'TotalCallCreated;SuccessfulCall(C);FailedCall(C);Retransmissions(C);OutOfCallMsgs(C);DeadCallMsgs(C);1_INVITE_Unexp;2_ACK_Unexp;',
    'x;x;x;00:00:01;00:00:01;10;5;5;5;1;0;0;0;0;0;0;',
    'x;x;x;00:00:01;00:01:02;10;5;5;10;8;2;3;1;0;2;1;',
    '',
  ].join('\n');
  assert.deepEqual(parseSippStatCsv(csv), {
    successful: 8,
    failed: 2,
    created: 10,
    retransmissions: 3,
    elapsedS: 62,
    outOfCall: 1,
    deadCall: 0,
    unexpected: 3,
  });
  assert.equal(parseSippStatCsv('only a header;\n'), null);
});

test('freeLocalPorts hands out distinct, bindable ports below the ephemeral range', async () => {
  const ports = await freeLocalPorts(5, 4);
  assert.equal(new Set(ports).size, 5);
  for (const p of ports) assert.ok(p >= 20000 && p + 3 < 32768, String(p));
});

test('a port block claimed by another living test process is not handed out here; its claim counts for nothing once that process is gone', { timeout: 30_000 }, async () => {
  // another test file's process claims three free blocks from the top of the range (this one's pid slot starts lower)
  const top = Array.from({ length: 120 }, (_, i) => 319 - i);
  const { child, theirs } = await claimInAnotherProcess(top, 3);
  try {
    assert.equal(theirs.length, 3, JSON.stringify(theirs));
    for (const b of theirs) assert.equal(claimPortBlock(b), false, `block ${b} is held by pid ${child.pid}`);
    // ports handed out here never fall in them
    for (const p of await freeLocalPorts(20)) assert.ok(!theirs.includes(Math.floor(p / PORT_BLOCK)), `port ${p} is in a block pid ${child.pid} holds`);
    // killed (no exit hook runs): its claims are left behind, and count for nothing
    child.kill('SIGKILL');
    await once(child, 'exit');
    for (const b of theirs) assert.equal(claimPortBlock(b), true, `block ${b}: a dead process holds nothing`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('runSipp counts successes and failures from a real SIPp pair', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-helper-'));
  try {
    const csv = join(dir, 'u.csv');
    writeFileSync(csv, sippCsv(makeUsers(3)));
    // A callee that answers: all 3 calls succeed.
    const answer = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', set: { challenge: '1' }, timeoutS: 30, dir });
    const ok = await runSipp({ scenario: 'call-auth-uac', target: `127.0.0.1:${answer.port}`, inf: [csv], service: '1500', calls: 3, rate: 20, pauseMs: 100, timeoutS: 20, dir });
    await answer.stop();
    assert.equal(ok.code, 0, ok.errors);
    assert.equal(ok.stats?.successful, 3);
    assert.equal(ok.stats?.failed, 0);
    // A busy callee: the answering-call scenario gets 486 and fails every call.
    const busy = await startSipp({ scenario: 'uas-busy', target: '127.0.0.1', set: { challenge: '1' }, timeoutS: 30, dir });
    const bad = await runSipp({ scenario: 'call-auth-uac', target: `127.0.0.1:${busy.port}`, inf: [csv], service: '1500', calls: 3, rate: 20, timeoutS: 20, dir });
    await busy.stop();
    assert.equal(bad.code, 1);
    assert.equal(bad.stats?.successful, 0);
    assert.equal(bad.stats?.failed, 3);
    assert.match(bad.errors, /SIP\/2\.0 486/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a SIPp client that gets no answer is ended by its timeout', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-helper-'));
  try {
    const [silent] = await freeLocalPorts(1);
    const csv = join(dir, 'u.csv');
    writeFileSync(csv, sippCsv(makeUsers(1)));
    const t0 = Date.now();
    const r = await runSipp({ scenario: 'register-auth', target: `127.0.0.1:${silent}`, inf: [csv], calls: 1, timeoutS: 3, dir });
    assert.ok(Date.now() - t0 < 8000);
    assert.equal(r.timedOut, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
