// More channel features with real peers. baresip: in-band DTMF (the
// phone's microphone plays sox-made tones) and Record() ending on silence;
// ConfBridge with two phones hearing each other through the mixer; music
// on hold with MixMonitor recording both directions; a prompt interrupted
// by a key. SIPp: SIP INFO DTMF, a late offer (SDP in our 200 and in the
// ACK), and CANCEL while the channel rings. (GSM phones: channel-gsm.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseWav, dominantFrequency, goertzelPower, readWav } from '../helpers/audio.js';
import { startSite, phone } from '../helpers/channel-site.js';
import { runSipp } from '../helpers/sipp.js';
import { sippCsv } from '../helpers/users.js';
import { pollUntil } from '../helpers/wait.js';
import { defaultPromptDir, type DialplanRunner } from '../../src/main.js';
import type { Channel } from '../../src/channel/channel.js';
import type { ChannelMedia, RecordResult } from '../../src/channel/channel-media.js';
import type { SipChannel } from '../../src/channel/sip-channel.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rtpBase = (slot: number): number => 40000 + ((process.pid + slot * 7) % 28) * 100;

test("in-band DTMF from the phone's audio (1234#), then Record() stops on silence", async () => {
  const seen: { digits?: string; rec?: RecordResult } = {};
  const recPath = join(tmpdir(), `chan-inband-${process.pid}.wav`);
  const plan: DialplanRunner = {
    has: (_c, e) => e === '610',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      seen.digits = await media.readDigits({ maxDigits: 0, timeoutMs: 6000 });
      seen.rec = await media.record({ path: recPath, maxMs: 8000, silenceMs: 1000, stopDigits: '' });
    },
  };
  const site = await startSite(plan, ['1001']);
  // the microphone: 1 s quiet, the tones 1234# (120 ms each, 100 ms apart), 1 s of 500 Hz, 4 s quiet
  const mic = join(site.dir, 'mic.wav');
  const fmt = ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
  const pairs: Record<string, [number, number]> = { '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], '4': [770, 1209], '#': [941, 1477] };
  const parts = [join(site.dir, 'lead.wav')];
  execFileSync('sox', ['-n', ...fmt, parts[0]!, 'trim', '0', '1'], { timeout: 10_000 });
  let i = 0;
  for (const d of '1234#') {
    const f = join(site.dir, `t${i++}.wav`);
    execFileSync('sox', ['-n', ...fmt, f, 'synth', '0.12', 'sine', String(pairs[d]![0]), 'sine', String(pairs[d]![1]), 'remix', '1v0.35,2v0.35', 'pad', '0', '0.1'], {
      timeout: 10_000,
    });
    parts.push(f);
  }
  const tone = join(site.dir, 'tone.wav');
  execFileSync('sox', ['-n', ...fmt, tone, 'synth', '1', 'sine', '500', 'vol', '0.3', 'pad', '0', '4'], { timeout: 10_000 });
  parts.push(tone);
  execFileSync('sox', [...parts, mic], { timeout: 10_000 });
  const caller = await phone(site, 'inband', '1001', mic, rtpBase(1));
  try {
    await caller.dial(`sip:610@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_CLOSED', 15_000);
    assert.equal(seen.digits, '1234');
    assert.equal(seen.rec?.reason, 'silence');
    // the 500 Hz second (and a little of what preceded it), the trailing silence trimmed
    assert.ok(seen.rec!.durationMs >= 700 && seen.rec!.durationMs <= 1600, `recorded ${seen.rec!.durationMs} ms`);
    const rec = readWav(recPath);
    assert.ok(Math.abs(dominantFrequency(rec) - 500) <= 10, `recording at ${dominantFrequency(rec)} Hz`);
  } finally {
    await caller.stop();
    rmSync(recPath, { force: true });
    await site.stop();
  }
});

test('ConfBridge: two phones in one room hear each other (and not themselves)', async () => {
  await generatePrompts(defaultPromptDir());
  const plan: DialplanRunner = {
    has: (_c, e) => e === '800',
    run: async (_ch: Channel, media: ChannelMedia) => media.confBridge('room-800'),
  };
  const site = await startSite(plan, ['1001', '1002']);
  const a = await phone(site, 'confa', '1001', 440, rtpBase(2));
  const b = await phone(site, 'confb', '1002', 1000, rtpBase(3));
  try {
    await a.dial(`sip:800@127.0.0.1:${site.sipPort}`);
    await a.waitEvent('CALL_ESTABLISHED', 5000);
    await sleep(4500); // a hears "you are the only person" (about 3 s), then joins
    await b.dial(`sip:800@127.0.0.1:${site.sipPort}`);
    await b.waitEvent('CALL_ESTABLISHED', 5000);
    await sleep(2500);
    await a.hangup();
    await b.hangup();
    const heardA = readWav(a.recordings().dec[0]!);
    const heardB = readWav(b.recordings().dec[0]!);
    const last = (p: typeof heardA): [number, number] => [p.samples.length - 8000 - 4000, p.samples.length - 4000];
    const [fa, ta] = last(heardA);
    const [fb, tb] = last(heardB);
    assert.ok(Math.abs(dominantFrequency(heardA, fa, ta) - 1000) <= 5, `A hears ${dominantFrequency(heardA, fa, ta)} Hz`);
    assert.ok(Math.abs(dominantFrequency(heardB, fb, tb) - 440) <= 5, `B hears ${dominantFrequency(heardB, fb, tb)} Hz`);
    // nobody hears their own voice back
    assert.ok(goertzelPower(heardA.samples, fa, ta, 440, 8000) < goertzelPower(heardA.samples, fa, ta, 1000, 8000) / 100);
    // A heard the "only person" announcement before B came
    assert.ok(analyseWav(a.recordings().dec[0]!, 20, 0.01).activeSec > 3);
  } finally {
    await a.stop();
    await b.stop();
    await site.stop();
  }
});

test('music on hold for 2 s with MixMonitor recording both directions', async (t) => {
  await generatePrompts(defaultPromptDir());
  const mixPath = join(tmpdir(), `chan-mix-${process.pid}.wav`);
  const plan: DialplanRunner = {
    has: (_c, e) => e === '900',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      media.startMixMonitor(mixPath);
      await media.musicOnHold('default', 2000);
      media.stopMixMonitor();
    },
  };
  const site = await startSite(plan, ['1001']);
  const caller = await phone(site, 'moh', '1001', 440, rtpBase(4));
  try {
    await caller.dial(`sip:900@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_CLOSED', 10_000);
    const heard = analyseWav(caller.recordings().dec[0]!, 20, 0.01);
    assert.ok(heard.activeSec > 1.6 && heard.activeSec < 2.6, `music heard for ${heard.activeSec} s`);
    const mix = readWav(mixPath);
    const secs = mix.samples.length / 8000;
    assert.ok(secs > 1.6 && secs < 2.6, `MixMonitor wrote ${secs} s`);
    // The caller's 440 Hz is in the mix, and so is the music (energy beyond the tone).
    // The tone is looked for in 100 ms windows: the mix is written in whole 20 ms
    // frames, and a packet that comes late moves the caller's side by a frame,
    // which breaks the tone's phase. One Goertzel over the whole file then sums
    // pieces of random phase and can miss a tone that is there all along (a
    // loaded CI run did). The music alone (what the caller heard) is the control:
    // its windows must not show the tone, or this check could not fail.
    const heardMusic = readWav(caller.recordings().dec[0]!);
    const windowsWith = (p: typeof mix, hz: number): number => {
      let n = 0;
      for (let i = 0; i + 800 <= p.samples.length; i += 800) if (goertzelPower(p.samples, i, i + 800, hz, 8000) > 3e-3) n++;
      return n;
    };
    const inMix = windowsWith(mix, 440);
    const inMusic = windowsWith(heardMusic, 440);
    t.diagnostic(`440 Hz in ${inMix} of the mix's ${Math.floor(mix.samples.length / 800)} windows, in ${inMusic} of the music's`);
    assert.ok(inMusic <= 2, `the music alone shows 440 Hz in ${inMusic} windows`);
    assert.ok(inMix >= 8, `the caller is in the mix (440 Hz in ${inMix} windows of 100 ms)`);
    const music = dominantFrequency(heardMusic);
    assert.ok(goertzelPower(mix.samples, 0, mix.samples.length, music, 8000) > 1e-5, `the music (${music} Hz) is in the mix`);
  } finally {
    await caller.stop();
    rmSync(mixPath, { force: true });
    await site.stop();
  }
});

test('SIP INFO DTMF from SIPp (dtmf-relay and application/dtmf) reaches readDigits; Palisade hangs up with BYE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chan-info-'));
  const seen: { digits?: string; answered?: boolean } = {};
  const plan: DialplanRunner = {
    has: (_c, e) => e === '620',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      seen.answered = true;
      seen.digits = await media.readDigits({ maxDigits: 0, timeoutMs: 5000 });
    },
  };
  const site = await startSite(plan, ['1001']);
  try {
    const users = join(dir, 'users.csv');
    writeFileSync(users, sippCsv([{ number: '1001', secret: site.secrets['1001']!, name: 'U1001' }], { peers: ['620'] }));
    const r = await runSipp({ scenario: 'call-info-dtmf-uac', target: `127.0.0.1:${site.sipPort}`, inf: [users], calls: 1, timeoutS: 30, dir });
    assert.equal(r.stats?.successful, 1, `SIPp: ${r.errors || r.stderr}`);
    assert.equal(seen.digits, '5');
    const info = site.logs.filter((l) => l.event === 'channel-ended');
    assert.equal(info.length, 1);
  } finally {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("late offer from SIPp (INVITE without SDP): our 200 carries the offer, the ACK's answer sets where we send", async () => {
  await generatePrompts(defaultPromptDir());
  const dir = mkdtempSync(join(tmpdir(), 'chan-late-'));
  let chan: SipChannel | undefined;
  const plan: DialplanRunner = {
    has: (_c, e) => e === '625',
    run: async (ch: Channel, media: ChannelMedia) => {
      chan = ch as SipChannel;
      await ch.answer();
      await media.musicOnHold('default', 10_000); // until SIPp's BYE
    },
  };
  const site = await startSite(plan, ['1001']);
  try {
    const users = join(dir, 'users.csv');
    writeFileSync(users, sippCsv([{ number: '1001', secret: site.secrets['1001']!, name: 'U1001' }], { peers: ['625'] }));
    const r = await runSipp({ scenario: 'call-late-offer-uac', target: `127.0.0.1:${site.sipPort}`, inf: [users], calls: 1, pauseMs: 2500, rtpEcho: true, timeoutS: 30, dir });
    assert.equal(r.stats?.successful, 1, `SIPp: ${r.errors || r.stderr}`);
    // SIPp echoes on the port of its answer: what we sent came back only if the ACK's answer was applied
    const s = chan!.rtpStats!;
    assert.ok(s.packetsSent > 50 && s.packetsReceived > 50, JSON.stringify(s));
  } finally {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a prompt is interrupted by a DTMF key (Background-style) and the key is returned', async () => {
  await generatePrompts(defaultPromptDir());
  const seen: { digit?: string; ms?: number } = {};
  const plan: DialplanRunner = {
    has: (_c, e) => e === '640',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      const t0 = Date.now();
      const r = await media.play(['vm-main-menu', 'vm-msg-menu'], { interruptDigits: '0123456789*#' });
      seen.digit = r.digit;
      seen.ms = Date.now() - t0;
      await media.wait(300);
    },
  };
  const site = await startSite(plan, ['1001']);
  const caller = await phone(site, 'bg', '1001', 440, rtpBase(6));
  try {
    await caller.dial(`sip:640@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_ESTABLISHED', 5000);
    await sleep(1200);
    await caller.sendDtmf('7');
    await caller.waitEvent('CALL_CLOSED', 10_000);
    assert.equal(seen.digit, '7');
    assert.ok(seen.ms! < 2500, `playback stopped after ${seen.ms} ms (the prompts last over 10 s)`);
    const heard = analyseWav(caller.recordings().dec[0]!, 20, 0.01);
    assert.ok(heard.activeSec < 2, `the caller heard ${heard.activeSec} s of prompt`);
  } finally {
    await caller.stop();
    await site.stop();
  }
});

test('CANCEL while the channel rings: 487 to the INVITE, the dialplan sees the hangup', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chan-cancel-'));
  const seen: { waited?: boolean; cause?: string } = {};
  const plan: DialplanRunner = {
    has: (_c, e) => e === '650',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.ring();
      seen.waited = await media.wait(5000);
      seen.cause = await ch.ended;
    },
  };
  const site = await startSite(plan, ['1001']);
  try {
    const users = join(dir, 'users.csv');
    writeFileSync(users, sippCsv([{ number: '1001', secret: site.secrets['1001']!, name: 'U1001' }], { peers: ['650'] }));
    const t0 = Date.now();
    const r = await runSipp({ scenario: 'call-cancel-uac', target: `127.0.0.1:${site.sipPort}`, inf: [users], calls: 1, timeoutS: 30, dir });
    assert.equal(r.stats?.successful, 1, `SIPp: ${r.errors || r.stderr}`);
    // the dialplan learns the hangup once the CANCEL is handled, which may be after the caller is done
    await pollUntil(() => seen.cause !== undefined, 3000);
    assert.equal(seen.waited, false, 'wait() returned early because the caller went away');
    assert.equal(seen.cause, 'normal');
    assert.ok(Date.now() - t0 < 4000);
  } finally {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hold and resume (re-INVITE sendonly / sendrecv from baresip): nothing is sent while held, the echo resumes after', async () => {
  let chan: SipChannel | undefined;
  const plan: DialplanRunner = {
    has: (_c, e) => e === '660',
    run: async (ch: Channel, media: ChannelMedia) => {
      chan = ch as SipChannel;
      await ch.answer();
      await media.echo(0);
    },
  };
  const site = await startSite(plan, ['1001']);
  const caller = await phone(site, 'hold', '1001', 600, rtpBase(7));
  try {
    await caller.dial(`sip:660@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_ESTABLISHED', 5000);
    await sleep(1000);
    const s1 = chan!.rtpStats!;
    await caller.mustCommand('hold');
    await sleep(300);
    const s2 = chan!.rtpStats!;
    await sleep(1200);
    const s3 = chan!.rtpStats!;
    await caller.mustCommand('resume');
    await sleep(1500);
    const s4 = chan!.rtpStats!;
    await caller.hangup();
    await caller.waitEvent('CALL_CLOSED', 5000);
    assert.ok(s1.packetsReceived > 30 && s1.packetsSent > 30, `echo before hold: ${JSON.stringify(s1)}`);
    assert.ok(s3.packetsSent - s2.packetsSent <= 2, `sent while held: ${s3.packetsSent - s2.packetsSent}`);
    assert.ok(s4.packetsReceived - s3.packetsReceived > 40, 'the phone sends again after resume');
    assert.ok(s4.packetsSent - s3.packetsSent > 40, 'the echo resumes');
    assert.equal(site.logs.find((l) => l.event === 'channel-ended')?.cause, 'normal');
  } finally {
    await caller.stop();
    await site.stop();
  }
});

test('RTP ports used up: the next call gets 503 with Retry-After, the calls already up are unharmed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chan-503-'));
  const plan: DialplanRunner = {
    has: (_c, e) => e === '670',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      await media.echo(0);
    },
  };
  const site = await startSite(plan, ['1001', '1002', '1003'], 2);
  try {
    const users = join(dir, 'users.csv');
    writeFileSync(
      users,
      sippCsv(
        ['1001', '1002', '1003'].map((n) => ({ number: n, secret: site.secrets[n]!, name: `U${n}` })),
        { peers: ['670'] },
      ),
    );
    // three calls at once, each held 2 s: two get the two port pairs, the third a 503
    const r = await runSipp({ scenario: 'call-auth-uac', target: `127.0.0.1:${site.sipPort}`, inf: [users], calls: 3, rate: 10, pauseMs: 2000, timeoutS: 30, dir, traceMsg: true });
    assert.equal(r.stats?.successful, 2, `SIPp: ${r.errors}`);
    assert.equal(r.stats?.failed, 1);
    assert.match(r.messages, /SIP\/2\.0 503 Service Unavailable[\s\S]*?Retry-After: 5/i);
    assert.equal(site.logs.filter((l) => l.event === 'channel-no-media').length, 1);
  } finally {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
