// Guards the baresip harness itself: two real baresip phones call each
// other directly (no server), exchange different tones and RFC 4733 DTMF,
// and the recordings and events prove each piece of the harness works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baresip, findFreePort, rtpPortRange } from '../helpers/baresip.js';
import { analyseWav, makeToneWav, soxStat } from '../helpers/audio.js';
import { waitFor } from '../helpers/wait.js';

const TONE_A = 440;
const TONE_B = 1000;

async function directCall(transport: 'udp' | 'tcp'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `baresip-direct-${transport}-`));
  makeToneWav(join(dir, 'a.wav'), TONE_A, 30);
  makeToneWav(join(dir, 'b.wav'), TONE_B, 30);
  const [sipA, sipB] = [await findFreePort(2), await findFreePort(2)];
  const [ctrlA, ctrlB] = [await findFreePort(1, 39000, 39999), await findFreePort(1, 39000, 39999)];
  const a = new Baresip({
    name: 'a',
    baseDir: dir,
    user: 'alice',
    sipPort: sipA,
    ctrlPort: ctrlA,
    transport,
    audioSource: join(dir, 'a.wav'),
    rtpPorts: rtpPortRange(),
    sipTrace: true,
  });
  const b = new Baresip({
    name: 'b',
    baseDir: dir,
    user: 'bob',
    sipPort: sipB,
    ctrlPort: ctrlB,
    transport,
    audioSource: join(dir, 'b.wav'),
    rtpPorts: rtpPortRange(),
    answerMode: 'auto',
    sipTrace: true,
  });
  let passed = false;
  try {
    await a.start();
    await b.start();
    // With `;transport=tcp` on the account, baresip adds it to the dialled URI itself.
    await a.dial(`sip:bob@127.0.0.1:${sipB}`);
    await a.waitEvent('CALL_ESTABLISHED', 10_000);
    const estB = await b.waitEvent('CALL_ESTABLISHED', 10_000);
    assert.equal(estB.direction, 'incoming');

    await new Promise((r) => setTimeout(r, 3000));
    await a.sendDtmf('1234#');
    await b.waitEvent((e) => e.type === 'CALL_DTMF_START' && e.param === '#', 5000);
    assert.equal(b.dtmfReceived(), '1234#');

    await new Promise((r) => setTimeout(r, 500));
    await a.hangup();
    await a.waitEvent('CALL_CLOSED', 5000);
    await b.waitEvent('CALL_CLOSED', 5000);

    const recA = await waitFor('recording of a', () => a.recordings().dec[0], 5000);
    const recB = await waitFor('recording of b', () => b.recordings().dec[0], 5000);
    // What B received is A's tone and vice versa.
    const heardByB = analyseWav(recB);
    const heardByA = analyseWav(recA);
    assert.ok(heardByB.activeSec >= 2.5, `b heard ${heardByB.activeSec}s of audio`);
    assert.ok(heardByA.activeSec >= 2.5, `a heard ${heardByA.activeSec}s of audio`);
    assert.ok(Math.abs(heardByB.dominantHz - TONE_A) <= 10, `b heard ${heardByB.dominantHz} Hz`);
    assert.ok(Math.abs(heardByA.dominantHz - TONE_B) <= 10, `a heard ${heardByA.dominantHz} Hz`);
    assert.ok(Math.abs(heardByB.zeroCrossingHz - TONE_A) <= TONE_A * 0.05, `b zero-crossing ${heardByB.zeroCrossingHz} Hz`);
    // sox agrees (its "rough frequency" is coarse: allow 10 %).
    const soxB = soxStat(recB);
    const soxA = soxStat(recA);
    assert.ok(Math.abs(soxB.roughFrequency - TONE_A) <= TONE_A * 0.1, `sox: b heard ${soxB.roughFrequency} Hz`);
    assert.ok(Math.abs(soxA.roughFrequency - TONE_B) <= TONE_B * 0.1, `sox: a heard ${soxA.roughFrequency} Hz`);
    assert.ok(soxB.rmsAmplitude > 0.1 && soxA.rmsAmplitude > 0.1);

    // The INVITE went over the transport asked for (baresip -s traces it).
    const traceA = readFileSync(a.logFile, 'utf8');
    assert.match(traceA, transport === 'tcp' ? /TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+[\s\S]*?INVITE sip:bob/ : /UDP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+[\s\S]*?INVITE sip:bob/);
    passed = true;
  } finally {
    await a.stop();
    await b.stop();
    // Logs and recordings stay behind for a failed run.
    if (passed) rmSync(dir, { recursive: true, force: true });
  }
}

test('two baresip phones call directly over UDP: tones both ways, RFC 4733 DTMF, hangup', { timeout: 60_000 }, async () => {
  await directCall('udp');
});

test('two baresip phones call directly over TCP', { timeout: 60_000 }, async () => {
  await directCall('tcp');
});

// When baresip itself dies mid-test, the failure must say so: which signal
// ended it and what it printed last, at once rather than at a wait's timeout.
test('a baresip that dies of a signal fails the waits on it at once, naming the signal', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baresip-crash-'));
  makeToneWav(join(dir, 'a.wav'), TONE_A, 5);
  const a = new Baresip({
    name: 'a',
    baseDir: dir,
    user: 'alice',
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    transport: 'udp',
    audioSource: join(dir, 'a.wav'),
    rtpPorts: rtpPortRange(),
  });
  try {
    await a.start();
    const waiting = a.waitEvent('CALL_ESTABLISHED', 20_000);
    // `timeout` is the process-group leader; baresip is its only child
    const child = execFileSync('pgrep', ['-P', String(a.pid), 'baresip'], { encoding: 'utf8' }).trim();
    assert.match(child, /^\d+$/);
    const t0 = Date.now();
    process.kill(Number(child), 'SIGSEGV');
    await assert.rejects(waiting, /control connection closed \(baresip died of SIGSEGV\); last output: .*baresip is ready/);
    assert.ok(Date.now() - t0 < 5000, 'the wait failed when the phone died, not at its own timeout');
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
