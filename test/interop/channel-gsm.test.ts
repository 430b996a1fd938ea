// GSM 06.10 both ways with a GSM-only phone: baresip with only its gsm
// module's codec (libgsm) in the offer. Palisade answers with GSM and sends
// it: a prompt played to the phone is captured by tshark (payload type 3,
// 33-byte frames, the very frames libgsm makes from the prompt) and heard by
// the phone; what the phone says is decoded and recorded; and a GSM phone
// talks to a µ-law phone through dial(), transcoded both ways in the media
// engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseWav, dominantFrequency, readWav } from '../helpers/audio.js';
import { startSite, phone } from '../helpers/channel-site.js';
import { startCapture, stopCapture } from '../helpers/tshark.js';
import { defaultPromptDir, type DialplanRunner } from '../../src/main.js';
import type { Channel } from '../../src/channel/channel.js';
import type { ChannelMedia, RecordResult } from '../../src/channel/channel-media.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';
import { readWavSamples } from '../../src/media/player/wav-file.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rtpBase = (slot: number): number => 40000 + ((process.pid + slot * 11) % 28) * 100;

interface RtpPacket {
  src: number;
  dst: number;
  pt: number;
  ts: number;
  payload: Buffer;
}

/** RTP as tshark dissects it: packets sent from Palisade's port `from` */
function rtpFrom(pcap: string, from: number): RtpPacket[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      pcap,
      '-d',
      `udp.port==${from},rtp`,
      '-Y',
      `rtp && udp.srcport==${from}`,
      '-T',
      'fields',
      '-e',
      'udp.srcport',
      '-e',
      'udp.dstport',
      '-e',
      'rtp.p_type',
      '-e',
      'rtp.timestamp',
      '-e',
      'rtp.payload',
    ],
    {
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [src, dst, pt, ts, payload] = l.split('\t');
      return { src: Number(src), dst: Number(dst), pt: Number(pt), ts: Number(ts), payload: Buffer.from((payload ?? '').replace(/:/g, ''), 'hex') };
    });
}

function correlation(a: Int16Array, b: Int16Array): number {
  const n = Math.min(a.length, b.length);
  let dot = 0,
    ea = 0,
    eb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    ea += a[i]! ** 2;
    eb += b[i]! ** 2;
  }
  return dot / Math.sqrt(ea * eb);
}

test("a GSM-only phone calls the IVR: Palisade answers GSM and plays the prompt as payload type 3 — libgsm's own frames of it, heard by the phone", async (t) => {
  await generatePrompts(defaultPromptDir());
  const prompt = join(defaultPromptDir(), 'attendance-welcome.wav');
  const plan: DialplanRunner = {
    has: (_c, e) => e === '680',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      await media.play(['attendance-welcome']);
      await media.wait(300);
    },
  };
  const site = await startSite(plan, ['1001']);
  const rtp = rtpBase(1);
  const caller = await phone(site, 'gsm-ivr', '1001', 440, rtp, 'GSM', ['gsm']);
  const pcap = join(site.dir, 'gsm.pcap');
  const tshark = await startCapture(pcap, `udp portrange ${rtp}-${rtp + 99}`);
  try {
    await caller.dial(`sip:680@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_CLOSED', 20_000);
    await sleep(300);
    await stopCapture(tshark);
    const answered = site.logs.find((l) => l.event === 'channel-answered') as { codec?: string; rtp?: number } | undefined;
    assert.equal(answered?.codec, 'GSM', 'Palisade sends GSM to a GSM-only phone');

    // on the wire (tshark's RTP dissector): payload type 3, one 33-byte frame per 20 ms packet, 0xD signature
    const pkts = rtpFrom(pcap, answered!.rtp!).filter((p) => p.dst >= rtp && p.dst <= rtp + 99);
    const samples = readWavSamples(prompt);
    const frames = Math.ceil(samples.length / 160);
    const libgsm = join(site.dir, 'ref.gsm');
    execFileSync('sox', ['-D', prompt, libgsm], { timeout: 20_000 });
    const ref = readFileSync(libgsm);
    // The capture sometimes begins one packet late: about one run in eight its first packet is the
    // prompt's second frame, without the marker bit (so Palisade did send a first one, through the
    // same path). Every packet after the first is on it, in order.
    const skipped = pkts.length > 0 ? ref.indexOf(pkts[0]!.payload) / 33 : -1;
    assert.ok(skipped === 0 || skipped === 1, `the capture starts at frame ${skipped} of the prompt`);
    assert.equal(pkts.length, frames - skipped, `${pkts.length} RTP packets from Palisade for a prompt of ${frames} frames (${skipped} before the capture)`);
    for (const [i, p] of pkts.entries()) {
      assert.equal(p.pt, 3, `packet ${i}: payload type ${p.pt}`);
      assert.equal(p.payload.length, 33, `packet ${i}: ${p.payload.length} bytes`);
      assert.equal(p.payload[0]! >> 4, 0xd, `packet ${i}: signature`);
      if (i > 0) assert.equal((p.ts - pkts[i - 1]!.ts) >>> 0, 160);
    }
    // the same frames libgsm (through sox) makes from the prompt, bit for bit
    const sent = Buffer.concat(pkts.map((p) => p.payload));
    assert.ok(sent.equals(ref.subarray(skipped * 33)), "the RTP payloads are libgsm's encoding of the prompt");
    // and sox decodes them back to the prompt
    const gsm = join(site.dir, 'sent.gsm');
    const back = join(site.dir, 'sent.wav');
    writeFileSync(gsm, sent);
    execFileSync('sox', [gsm, '-b', '16', '-e', 'signed-integer', back], { timeout: 20_000 });
    const c = correlation(samples.subarray(skipped * 160), readWavSamples(back));
    assert.ok(c > 0.9, `sox's decoding of what Palisade sent correlates ${c.toFixed(3)} with the prompt`);

    // the phone (libgsm inside baresip) heard the prompt's speech
    const heard = analyseWav(caller.recordings().dec[0]!, 20, 0.01).activeSec;
    const speech = analyseWav(prompt, 20, 0.01).activeSec;
    assert.ok(Math.abs(heard - speech) < 0.2 * speech + 0.1, `the phone heard ${heard} s of speech; the prompt has ${speech} s`);
    t.diagnostic(`${pkts.length} GSM packets, identical to libgsm's; correlation with the prompt ${c.toFixed(3)}; the phone heard ${heard} s of ${speech} s`);
  } finally {
    await stopCapture(tshark);
    await caller.stop();
    await site.stop();
  }
});

test('a GSM-only phone is answered with GSM and Palisade decodes what it sends (recorded tone at the right frequency)', async () => {
  const recPath = join(tmpdir(), `chan-gsm-${process.pid}.wav`);
  const seen: { rec?: RecordResult } = {};
  const plan: DialplanRunner = {
    has: (_c, e) => e === '630',
    run: async (ch: Channel, media: ChannelMedia) => {
      await ch.answer();
      await media.wait(500);
      seen.rec = await media.record({ path: recPath, maxMs: 1500 });
    },
  };
  const site = await startSite(plan, ['1001']);
  const caller = await phone(site, 'gsm', '1001', 700, rtpBase(2), 'GSM', ['gsm']);
  try {
    await caller.dial(`sip:630@127.0.0.1:${site.sipPort}`);
    await caller.waitEvent('CALL_CLOSED', 10_000);
    assert.equal(site.logs.find((l) => l.event === 'channel-answered')?.codec, 'GSM');
    assert.equal(seen.rec?.reason, 'max');
    const rec = readWav(recPath);
    assert.ok(rec.samples.length / 8000 > 1.2, `recorded ${rec.samples.length / 8000} s`);
    assert.ok(Math.abs(dominantFrequency(rec) - 700) <= 10, `decoded GSM at ${dominantFrequency(rec)} Hz`);
    assert.ok(analyseWav(recPath, 100, 0.02).activeSec > 1.2, 'the decoded audio is not silent');
  } finally {
    await caller.stop();
    rmSync(recPath, { force: true });
    await site.stop();
  }
});

test("GSM phone → channel dial() → µ-law phone: GSM↔G.711 transcoded in the media engine, each hears the other's tone", async () => {
  const plan: DialplanRunner = {
    has: (_c, e) => e === '690',
    run: async (ch: Channel) => {
      const r = await ch.dial([{ tech: 'PJSIP', resource: '1003' }], { timeoutMs: 10_000, options: '' });
      ch.vars.set('DIALSTATUS', r.status);
    },
  };
  const site = await startSite(plan, ['1002', '1003']);
  const gsm = await phone(site, 'gsm-a', '1002', 440, rtpBase(3), 'GSM', ['gsm']);
  const ulaw = await phone(site, 'ulaw-b', '1003', 1000, rtpBase(4), 'PCMU');
  try {
    await gsm.dial(`sip:690@127.0.0.1:${site.sipPort}`);
    await gsm.waitEvent('CALL_ESTABLISHED', 8000);
    await ulaw.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(3000);
    await gsm.hangup();
    await ulaw.waitEvent('CALL_CLOSED', 5000);
    const bridged = site.logs.find((l) => l.event === 'channel-bridged');
    assert.deepEqual([bridged?.a, bridged?.b], ['GSM', 'PCMU'], 'the legs chose different codecs');
    const heardByGsm = analyseWav(gsm.recordings().dec[0]!);
    const heardByUlaw = analyseWav(ulaw.recordings().dec[0]!);
    assert.ok(heardByGsm.activeSec > 2, `the GSM phone heard ${heardByGsm.activeSec} s`);
    assert.ok(heardByUlaw.activeSec > 2, `the µ-law phone heard ${heardByUlaw.activeSec} s`);
    assert.ok(Math.abs(heardByGsm.dominantHz - 1000) <= 10, `the GSM phone heard ${heardByGsm.dominantHz} Hz`);
    assert.ok(Math.abs(heardByUlaw.dominantHz - 440) <= 10, `the µ-law phone heard ${heardByUlaw.dominantHz} Hz`);
  } finally {
    await gsm.stop();
    await ulaw.stop();
    await site.stop();
  }
});
