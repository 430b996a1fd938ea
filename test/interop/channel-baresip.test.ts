// SIP channels with real phones (baresip 1.0.0): Palisade answers a call
// itself, plays a prompt, reads RFC 4733 digits, says them back, records
// the caller and sends DTMF; and a µ-law-only phone calls an A-law-only
// phone through a channel's dial(), both legs terminated in Palisade's media
// engine with µ-law↔A-law transcoding. Palisade runs in this process with a
// tiny test dialplan that calls Channel methods (the real dialplan engine
// plugs into the same interface).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseWav, readWav, goertzelPower } from '../helpers/audio.js';
import { startSite, phone } from '../helpers/channel-site.js';
import { pollUntil } from '../helpers/wait.js';
import { rtpPortRange } from '../helpers/baresip.js';
import { defaultPromptDir, type DialplanRunner } from '../../src/main.js';
import type { Channel } from '../../src/channel/channel.js';
import type { ChannelMedia } from '../../src/channel/channel-media.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';
import { sayDigitsPrompts } from '../../src/media/prompts/say.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** active (non-silent) seconds of a prompt file as the analyser counts them */
function activeSeconds(prompt: string): number {
  return analyseWav(join(defaultPromptDir(), `${prompt}.wav`), 20, 0.01).activeSec;
}

test('a channel answers, plays a prompt, reads RFC 4733 1234#, says the digits, records the caller and sends DTMF', async () => {
  await generatePrompts(defaultPromptDir());
  const seen: { digits?: string; record?: { durationMs: number; reason: string }; codec?: string } = {};
  const recPath = join(tmpdir(), `channel-rec-${process.pid}.wav`);
  const plan: DialplanRunner = {
    has: (_ctx, exten) => exten === '600',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      await media.play(['attendance-welcome']);
      seen.digits = await media.readDigits({ maxDigits: 0, timeoutMs: 10_000, terminators: '#' });
      await media.sayDigits(seen.digits);
      seen.record = await media.record({ path: recPath, maxMs: 1000 });
      ch.endpoint.sendDigits('9');
      await media.wait(800);
    },
  };
  const site = await startSite(plan, ['1001']);
  const rtp = 43000 + (process.pid % 50) * 100;
  const caller = await phone(site, 'caller', '1001', 440, rtp);
  try {
    await caller.dial(`sip:600@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_ESTABLISHED', 5000);
    const welcome = activeSeconds('attendance-welcome');
    await sleep(welcome * 1000 + 700);
    await caller.sendDtmf('1234#');
    await caller.waitEvent('CALL_CLOSED', 20_000);
    assert.equal(seen.digits, '1234', 'the digits arrived by RFC 4733');
    assert.equal(seen.record?.reason, 'max');
    // what the caller heard: the prompt, then silence, then "one two three four"
    const dec = caller.recordings().dec[0];
    assert.ok(dec, 'baresip recorded what it received');
    const a = analyseWav(dec!, 20, 0.01);
    const act = a.segmentRms.map((r) => r > 0.01);
    const firstRun = act.indexOf(true);
    let end = firstRun;
    while (end < act.length && act.slice(end, end + 10).some(Boolean)) end++;
    const promptHeard = act.slice(firstRun, end).filter(Boolean).length * 0.02;
    assert.ok(firstRun >= 0 && firstRun * 0.02 < 1.0, `the prompt starts at once (at ${firstRun * 0.02} s)`);
    assert.ok(Math.abs(promptHeard - welcome) < 0.25 * welcome + 0.1, `prompt heard for ${promptHeard} s, file has ${welcome} s of speech`);
    const digitsSpeech = sayDigitsPrompts('1234').reduce((s, p) => s + activeSeconds(p), 0);
    const later = act.slice(end).filter(Boolean).length * 0.02;
    assert.ok(Math.abs(later - digitsSpeech) < 0.3 * digitsSpeech + 0.2, `digits said for ${later} s, prompts have ${digitsSpeech} s`);
    // what Palisade recorded: the caller's 440 Hz tone for 1 s
    const rec = readWav(recPath);
    assert.ok(Math.abs(rec.samples.length / 8000 - 1) < 0.15, `recording of ${rec.samples.length / 8000} s`);
    const p440 = goertzelPower(rec.samples, 0, rec.samples.length, 440, 8000);
    const p1000 = goertzelPower(rec.samples, 0, rec.samples.length, 1000, 8000);
    assert.ok(p440 > 100 * p1000, 'the recording holds the caller tone');
    // Palisade's RFC 4733 digit reached the phone
    assert.equal(caller.dtmfReceived(), '9');
    const answered = site.logs.find((l) => l.event === 'channel-answered');
    assert.equal(answered?.codec, 'PCMU');
    // RTCP both ways (RFC 3550 §6.2: every ~5 s): baresip reports ours, we counted its reports
    assert.ok(
      caller.events.some((e) => e.type === 'CALL_RTCP'),
      'baresip received an RTCP report from Palisade',
    );
    const ended = site.logs.find((l) => l.event === 'channel-ended') as { rtp?: { rtcpReceived: number; rtcpSent: number; lost: number } } | undefined;
    assert.ok((ended?.rtp?.rtcpReceived ?? 0) >= 1, `Palisade read baresip's RTCP: ${JSON.stringify(ended?.rtp)}`);
    assert.ok((ended?.rtp?.rtcpSent ?? 0) >= 1);
    assert.equal(ended?.rtp?.lost, 0);
  } finally {
    await caller.stop();
    rmSync(recPath, { force: true });
    await site.stop();
  }
});

test('µ-law phone → channel dial() → A-law phone: both legs in the media engine, tones survive both ways, DTMF crosses', async () => {
  const plan: DialplanRunner = {
    has: (_ctx, exten) => exten === '700',
    run: async (ch: Channel) => {
      const r = await ch.dial([{ tech: 'PJSIP', resource: '1003' }], { timeoutMs: 10_000, options: '' });
      ch.vars.set('DIALSTATUS', r.status);
    },
  };
  const site = await startSite(plan, ['1002', '1003']);
  // two whole port blocks this process holds: no file running beside this one is handed a port in them
  const [rtp] = rtpPortRange(200);
  const ulaw = await phone(site, 'ulaw', '1002', 440, rtp, 'PCMU');
  const alaw = await phone(site, 'alaw', '1003', 1000, rtp + 100, 'PCMA');
  try {
    await ulaw.dial(`sip:700@127.0.0.1:${site.sipPort}`);
    await ulaw.waitEvent('CALL_ESTABLISHED', 8000);
    await alaw.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(2000);
    await ulaw.sendDtmf('5#'); // RFC 4733 events cross the bridge with the far leg's own timestamps
    await sleep(1000);
    await ulaw.hangup();
    await alaw.waitEvent('CALL_CLOSED', 5000);
    const bridged = site.logs.find((l) => l.event === 'channel-bridged');
    assert.deepEqual([bridged?.a, bridged?.b], ['PCMU', 'PCMA'], 'the legs chose different codecs');
    const heardByUlaw = analyseWav(ulaw.recordings().dec[0]!);
    const heardByAlaw = analyseWav(alaw.recordings().dec[0]!);
    assert.ok(heardByUlaw.activeSec > 2, `µ-law phone heard ${heardByUlaw.activeSec} s`);
    assert.ok(heardByAlaw.activeSec > 2, `A-law phone heard ${heardByAlaw.activeSec} s`);
    assert.ok(Math.abs(heardByUlaw.dominantHz - 1000) <= 5, `µ-law phone heard ${heardByUlaw.dominantHz} Hz`);
    assert.ok(Math.abs(heardByAlaw.dominantHz - 440) <= 5, `A-law phone heard ${heardByAlaw.dominantHz} Hz`);
    assert.equal(alaw.dtmfReceived(), '5#');
  } finally {
    await ulaw.stop();
    await alaw.stop();
    await site.stop();
  }
});

test('dial() outcomes: CHANUNAVAIL for a phone that is not registered, NOANSWER on timeout (with ringing to the caller), BUSY when the callee refuses', async () => {
  const results: string[] = [];
  const plan: DialplanRunner = {
    has: (_ctx, exten) => ['710', '711', '712'].includes(exten),
    run: async (ch: Channel) => {
      const target = ch.dialed === '710' ? '1009' : '1003';
      const r = await ch.dial([{ tech: 'SIP', resource: target }], { timeoutMs: ch.dialed === '711' ? 1500 : 8000, options: 'r' });
      results.push(`${ch.dialed}:${r.status}`);
    },
  };
  const site = await startSite(plan, ['1002', '1003', '1009']);
  // two whole port blocks this process holds: no file running beside this one is handed a port in them
  const [rtp] = rtpPortRange(200);
  const caller = await phone(site, 'dialer', '1002', 440, rtp);
  const callee = await phone(site, 'callee', '1003', 1000, rtp + 100, 'PCMU', [], 'manual');
  try {
    await caller.dial(`sip:710@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_CLOSED', 5000);
    let mark = caller.mark();
    await caller.dial(`sip:711@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_RINGING', 5000, mark);
    await caller.waitEvent('CALL_CLOSED', 5000, mark);
    mark = caller.mark();
    const calleeMark = callee.mark();
    await caller.dial(`sip:712@127.0.0.1:${site.sipPort}`);
    await callee.waitEvent('CALL_INCOMING', 5000, calleeMark);
    await callee.hangup(); // baresip refuses an incoming call with 486 Busy Here
    await caller.waitEvent('CALL_CLOSED', 5000, mark);
    // the dialplan records the last Dial()'s status once it returns, which may be after the caller sees the end
    await pollUntil(() => results.length >= 3, 5000);
    assert.deepEqual(results, ['710:CHANUNAVAIL', '711:NOANSWER', '712:BUSY']);
  } finally {
    await caller.stop();
    await callee.stop();
    await site.stop();
  }
});
