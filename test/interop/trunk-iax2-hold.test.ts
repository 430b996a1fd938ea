// Hold across an IAX2 trunk between two offices, each a real `palisade
// start` with a baresip phone (`hold` / `resume` on its control socket).
// A SIP re-INVITE cannot cross IAX2, so each office tells the other side
// of its frame bridge (src/channel/hold-link.ts) as its iax2 section says:
//   office A (iax2.mohinterpret left at "default"): when its phone holds,
//     A plays the far party its default music on hold itself and sends
//     no frame;
//   office B (iax2.mohinterpret: passthrough, mohsuggest: default): when
//     its phone holds, B sends A an IAX2 HOLD frame (UNHOLD on resume),
//     and A plays its own phone music on hold until the UNHOLD.
// What each phone received is read back from a tshark capture of their
// RTP ports, window by window: the other phone's tone while talking, the
// music (the default class's notes, C4 to C5) while held, the tone again
// after the resume. The same capture's IAX2 frames show the HOLD and
// UNHOLD from B, and none from A.
//
// The second test sends office B's call on out of office A's SIP trunk (a
// SIPp provider, provider-hold-uas.xml with its RTP echoed): the
// provider's hold re-INVITEs are answered by A for that leg (before, 488:
// no SIP dialog on the other side to carry them) and bea hears A's music
// while it holds; bea's hold reaches A as a HOLD frame and the provider is
// played A's music.
//
// The third test puts a phone that holds by late offer at office B (SIPp,
// passthrough as above): its re-INVITE carries no SDP, B's 200 carries
// B's offer and the phone's ACK the answer, a=sendonly to hold and
// a=sendrecv to resume (RFC 3261 §14.2). Called by alice (uas-late-hold.xml:
// B's leg to its phone in the frame bridge) and then calling her
// (call-late-hold-uac.xml: B's channel for its call), it holds and resumes
// once each time; each time B sends the HOLD and UNHOLD frames, A plays
// alice its music, and she hears her tone (echoed by the phone) again after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Baresip } from '../helpers/baresip.js';
import { freeLocalPorts, runSipp } from '../helpers/sipp.js';
import { sippCsv } from '../helpers/users.js';
import { eventAfter } from '../helpers/palisade-process.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { officePhone, startIax2Office, dumpOffices } from '../helpers/office-link.js';
import { goertzelPower, readWav, rms } from '../helpers/audio.js';
import { receivedUlaw, startCapture, stopCapture } from '../helpers/tshark.js';
import { startSipp, type SippResult } from '../helpers/sipp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TONE_ALICE = 440;
const TONE_BEA = 1000;
/** the default class's melody (src/media/prompts/prompt-set.ts): C4 E4 G4 C5 */
const MELODY_HZ = [261.6, 329.6, 392, 523.3];

/** the phone holds for `heldMs`, resumes and talks on for `afterMs`: when it held and when it resumed (epoch ms) */
async function holdAndResume(phone: Baresip, heldMs: number, afterMs: number): Promise<{ held: number; resumed: number }> {
  const held = Date.now();
  await phone.mustCommand('hold');
  await sleep(heldMs);
  const resumed = Date.now();
  await phone.mustCommand('resume');
  await sleep(afterMs);
  return { held, resumed };
}

/** the even port of the phone's RTP range that received the most RTP in the capture */
function rtpPortOf(pcap: string, phone: Baresip): number {
  const [lo, hi] = phone.opts.rtpPorts!;
  const r = spawnSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'udp.dstport'], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const seen = new Map<number, number>();
  const all = new Map<number, number>();
  for (const l of r.stdout.split('\n')) {
    const p = Number(l);
    if (l) all.set(p, (all.get(p) ?? 0) + 1);
    if (p >= lo && p <= hi && p % 2 === 0) seen.set(p, (seen.get(p) ?? 0) + 1);
  }
  const best = [...seen].sort((x, y) => y[1] - x[1])[0];
  // where the capture's datagrams did go, so a miss says whether the phone's media went elsewhere or none was caught
  const where = [...all]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([p, n]) => `${p}:${n}`)
    .join(' ');
  assert.ok(best, `${phone.opts.name}: no RTP to ports ${lo}-${hi} in the capture (datagrams by destination port: ${where || 'none'}; the phone's log: ${phone.logFile})`);
  return best[0];
}

/** the IAX2 control frames (type 4) in the capture: "<source port> <subclass>" in order */
function iax2Controls(pcap: string, ports: number[]): string[] {
  const r = spawnSync(
    'tshark',
    ['-r', pcap, ...ports.flatMap((p) => ['-d', `udp.port==${p},iax2`]), '-Y', 'iax2.type == 4', '-T', 'fields', '-e', 'udp.srcport', '-e', 'iax2.control.subclass'],
    { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => l.replace('\t', ' '));
}

/**
 * Office A (1001, alice: its office plays a held party music itself) and
 * office B (2001, bea or the SIPp phone: passthrough, so B sends HOLD and
 * UNHOLD), linked by an IAX2 trunk with a route each way. No OPTIONS from B
 * to its phone's contact: a SIPp phone's scenario awaits an INVITE.
 */
async function holdOffices() {
  const [portA, portB, iaxA, iaxB] = await freeLocalPorts(4);
  const trunkSecret = generateSecret();
  const s1001 = generateSecret({ extension: '1001', name: 'Al' });
  const s2001 = generateSecret({ extension: '2001', name: 'Bea' });
  const a = await startIax2Office(portA!, {
    extension: { number: '1001', name: 'Al', secret: s1001 },
    iaxPort: iaxA!,
    trunks: [{ name: 'office-b', iax: iaxB!, username: '9000', secret: trunkSecret }],
    outbound: [{ name: 'to-office-b', match: '_2XXX', trunk: 'office-b' }],
    inbound: ['_1XXX'],
  });
  // office A is stopped when B does not start (it would outlive the test)
  const b = await startIax2Office(portB!, {
    extension: { number: '2001', name: 'Bea', secret: s2001 },
    iaxPort: iaxB!,
    iax2: ['mohinterpret: passthrough', 'mohsuggest: default'],
    trunks: [{ name: 'office-a', iax: iaxA!, username: '9000', secret: trunkSecret }],
    outbound: [{ name: 'to-office-a', match: '_1XXX', trunk: 'office-a' }],
    inbound: ['_2XXX'],
    more: ['registrar:', '  qualify_interval: 0'],
  }).catch(async (err: unknown) => {
    await a.stop();
    throw err;
  });
  return { a, b, portA: portA!, portB: portB!, iaxA: iaxA!, iaxB: iaxB!, s1001, s2001 };
}

test('hold across an IAX2 trunk: one office plays the held party music itself, the other passes HOLD/UNHOLD on and the far office plays it; the tones come back on resume', {
  timeout: 150_000,
}, async (t) => {
  const { a, b, portA, iaxA, iaxB, s1001, s2001 } = await holdOffices();
  const phones: Baresip[] = [];
  const at = { up: 0, aliceHolds: 0, aliceResumes: 0, beaHolds: 0, beaResumes: 0, end: 0 };
  let pcap = '';
  try {
    const alice = await officePhone(a, 'alice', '1001', s1001, TONE_ALICE);
    const bea = await officePhone(b, 'bea', '2001', s2001, TONE_BEA);
    phones.push(alice, bea);
    pcap = join(a.dir, 'hold.pcap');
    const rtpRanges = [alice.opts.rtpPorts!, bea.opts.rtpPorts!].map(([lo, hi]) => `portrange ${lo}-${hi}`).join(' or ');
    const cap = await startCapture(pcap, `udp and (${rtpRanges} or port ${iaxA} or port ${iaxB})`);
    try {
      // A → B over the trunk: alice dials 2001, B's inbound route rings bea's phone
      await alice.dial(`sip:2001@127.0.0.1:${portA}`);
      await bea.waitEvent('CALL_ESTABLISHED', 15_000);
      await alice.waitEvent('CALL_ESTABLISHED', 10_000);
      await sleep(1500);
      at.up = Date.now();
      await sleep(2000);
      ({ held: at.aliceHolds, resumed: at.aliceResumes } = await holdAndResume(alice, 3000, 2000));
      ({ held: at.beaHolds, resumed: at.beaResumes } = await holdAndResume(bea, 3000, 2000));
      at.end = Date.now();
      await alice.hangup();
      await bea.waitEvent('CALL_CLOSED', 10_000);
    } finally {
      await stopCapture(cap);
    }

    // the offices' own account: A played the music for alice's hold; B passed bea's on; A took it
    const holds = (p: typeof a) =>
      p
        .events()
        .filter((e) => e.event === 'iax2-hold')
        .map((e) => `${e.by} ${e.held ? 'held' : 'resumed'}${e.how ? ` ${e.how}` : ''}${e.class ? ` ${e.class}` : ''}`);
    assert.deepEqual(holds(a), ['bridged held music', 'bridged resumed music', 'peer held default', 'peer resumed']);
    assert.deepEqual(holds(b), ['bridged held passthrough default', 'bridged resumed passthrough']);

    // on the wire: B sent HOLD (16) and UNHOLD (17); A sent no hold frame (the answer, 4, is its only control frame)
    const controls = iax2Controls(pcap, [iaxA, iaxB]);
    t.diagnostic(`IAX2 control frames: ${controls.join(', ')}`);
    assert.deepEqual(
      controls.filter((c) => /\s1[67]$/.test(c)),
      [`${iaxB} 16`, `${iaxB} 17`],
    );

    // what each phone heard, window by window
    const toAlice = readWav(receivedUlaw(pcap, rtpPortOf(pcap, alice), at.up, at.end, a.dir).wav);
    const toBea = readWav(receivedUlaw(pcap, rtpPortOf(pcap, bea), at.up, at.end, b.dir).wav);
    const settle = 800; // the re-INVITE's round trip, the frame across the trunk, packets already under way
    const windows: Array<[string, number, number, 'talk' | 'alice held' | 'bea held']> = [
      ['talk', at.up + 200, at.aliceHolds, 'talk'],
      ['alice holds', at.aliceHolds + settle, at.aliceResumes, 'alice held'],
      ['talk after alice resumes', at.aliceResumes + settle, at.beaHolds, 'talk'],
      ['bea holds', at.beaHolds + settle, at.beaResumes, 'bea held'],
      ['talk at last', at.beaResumes + settle, at.end, 'talk'],
    ];
    const melody = (x: Float64Array, lo: number, hi: number) => MELODY_HZ.reduce((s, hz) => s + goertzelPower(x, lo, hi, hz, 8000), 0);
    for (const [name, from, to, what] of windows) {
      const lo = Math.round(((from - at.up) / 1000) * 8000);
      const hi = Math.round(((to - at.up) / 1000) * 8000);
      const heard = (x: Float64Array, tone: number) => ({ rms: +rms(x, lo, hi).toFixed(3), tone: goertzelPower(x, lo, hi, tone, 8000), melody: melody(x, lo, hi) });
      const heardByAlice = heard(toAlice.samples, TONE_BEA);
      const heardByBea = heard(toBea.samples, TONE_ALICE);
      t.diagnostic(`${name} (${((to - from) / 1000).toFixed(1)} s): alice ${JSON.stringify(heardByAlice)}, bea ${JSON.stringify(heardByBea)}`);
      // talking, each hears the other's tone; the party held hears music, the melody's notes far above the holder's tone
      // (the holder itself is sent nothing: its offer said sendonly)
      if (what === 'talk') {
        assert.ok(heardByBea.tone > 10 * heardByBea.melody && heardByBea.rms > 0.02, `${name}: bea hears alice's tone ${JSON.stringify(heardByBea)}`);
        assert.ok(heardByAlice.tone > 10 * heardByAlice.melody && heardByAlice.rms > 0.02, `${name}: alice hears bea's tone ${JSON.stringify(heardByAlice)}`);
      }
      if (what === 'alice held') assert.ok(heardByBea.melody > 10 * heardByBea.tone && heardByBea.rms > 0.01, `${name}: bea hears music on hold ${JSON.stringify(heardByBea)}`);
      if (what === 'bea held')
        assert.ok(heardByAlice.melody > 10 * heardByAlice.tone && heardByAlice.rms > 0.01, `${name}: alice hears music on hold ${JSON.stringify(heardByAlice)}`);
    }
  } catch (err) {
    dumpOffices({ A: a, B: b }, /iax2|channel|dial|hold/);
    throw err;
  } finally {
    for (const p of phones) await p.stop();
    await a.stop();
    await b.stop();
  }
});

/** epoch ms of the office's first log line with `event` that matches */
function loggedAt(p: { events(): Record<string, unknown>[] }, pred: (e: Record<string, unknown>) => boolean): number {
  const e = p.events().find(pred);
  assert.ok(e, 'no such log line');
  return Date.parse(String(e.time));
}

test("hold between an IAX2 office and a SIP trunk: the provider's hold re-INVITEs are answered and its caller hears music; the caller's HOLD frame plays the provider music", {
  timeout: 150_000,
}, async (t) => {
  const [portA, portB, iaxA, iaxB, pUas] = await freeLocalPorts(5);
  const [mediaUas] = await freeLocalPorts(1, 4);
  const trunkSecret = generateSecret();
  const s2001 = generateSecret({ extension: '2001', name: 'Bea' });
  // the provider: answers, holds the caller after 3 s, resumes 3 s later, waits for the BYE; echoes the RTP
  const uas = await startSipp({
    scenario: 'provider-hold-uas',
    target: '127.0.0.1',
    port: pUas,
    mediaPort: mediaUas,
    rtpEcho: true,
    traceMsg: true,
    calls: 1,
    pauseMs: 3000,
    timeoutS: 60,
  });
  // what started is stopped when the next does not start (it would outlive the test)
  const a = await startIax2Office(portA, {
    iaxPort: iaxA,
    trunks: [
      { name: 'office-b', iax: iaxB, username: '9000', secret: trunkSecret },
      { name: 'carrier', sip: pUas },
    ],
    outbound: [{ name: 'national', match: '_0X.', trunk: 'carrier', extra: ['allow_trunk_calls: true'] }],
  }).catch(async (err: unknown) => {
    await uas.stop();
    throw err;
  });
  const b = await startIax2Office(portB, {
    extension: { number: '2001', name: 'Bea', secret: s2001 },
    iaxPort: iaxB,
    iax2: ['mohinterpret: passthrough'],
    trunks: [{ name: 'office-a', iax: iaxA, username: '9000', secret: trunkSecret }],
    outbound: [{ name: 'via-office-a', match: '_0X.', trunk: 'office-a' }],
  }).catch(async (err: unknown) => {
    await a.stop();
    await uas.stop();
    throw err;
  });
  const phones: Baresip[] = [];
  let provider: SippResult | null = null;
  const at = { up: 0, beaHolds: 0, beaResumes: 0, end: 0 };
  try {
    const bea = await officePhone(b, 'bea', '2001', s2001, TONE_BEA);
    phones.push(bea);
    const pcap = join(a.dir, 'hold-trunk.pcap');
    const [lo, hi] = bea.opts.rtpPorts!;
    const cap = await startCapture(pcap, `udp and (portrange ${lo}-${hi} or port ${mediaUas} or port ${iaxA} or port ${iaxB})`);
    try {
      // bea dials out: B → IAX2 → A → the carrier; the provider holds and resumes her on its own schedule
      await bea.dial(`sip:0305551234@127.0.0.1:${portB}`);
      await bea.waitEvent('CALL_ESTABLISHED', 15_000);
      at.up = Date.now();
      await a.waitForEvent((e) => e.event === 'iax2-hold' && e.held === false, 15_000);
      await sleep(1500);
      ({ held: at.beaHolds, resumed: at.beaResumes } = await holdAndResume(bea, 3000, 1500));
      at.end = Date.now();
      await bea.hangup();
      provider = await uas.finish(8000);
    } finally {
      await stopCapture(cap);
    }
    // the provider's hold and resume were answered (200, never 488) and it counted the call
    assert.doesNotMatch(provider.messages, /SIP\/2\.0 488/, 'a re-INVITE was refused');
    assert.equal(provider.stats?.successful, 1, `${provider.errors}\n${provider.messages.slice(-2500)}`);

    const holds = (p: typeof a) =>
      p
        .events()
        .filter((e) => e.event === 'iax2-hold')
        .map((e) => `${e.by} ${e.held ? 'held' : 'resumed'}${e.how ? ` ${e.how}` : ''}`);
    // A: the provider's hold played bea music (A's default), then bea's HOLD frame came and went
    assert.deepEqual(holds(a), ['bridged held music', 'bridged resumed music', 'peer held', 'peer resumed']);
    assert.deepEqual(holds(b), ['bridged held passthrough', 'bridged resumed passthrough']);

    const providerHolds = loggedAt(a, (e) => e.event === 'iax2-hold' && e.held === true && e.by === 'bridged');
    const providerResumes = loggedAt(a, (e) => e.event === 'iax2-hold' && e.held === false && e.by === 'bridged');
    const toBea = readWav(receivedUlaw(pcap, rtpPortOf(pcap, bea), at.up, at.end, b.dir).wav);
    const toProvider = readWav(receivedUlaw(pcap, mediaUas, at.up, at.end, a.dir).wav);
    const melody = (x: Float64Array, from: number, to: number) => MELODY_HZ.reduce((sum, hz) => sum + goertzelPower(x, from, to, hz, 8000), 0);
    const heard = (x: Float64Array, from: number, to: number, tone: number) => {
      const i = Math.round(((from - at.up) / 1000) * 8000);
      const j = Math.round(((to - at.up) / 1000) * 8000);
      return { rms: +rms(x, i, j).toFixed(3), tone: goertzelPower(x, i, j, tone, 8000), melody: melody(x, i, j) };
    };
    const settle = 800;
    // talking before the provider's hold: bea hears her own tone, echoed by the provider
    const talk = heard(toBea.samples, at.up + 300, providerHolds, TONE_BEA);
    // the provider holds: bea hears A's music
    const providerHeld = heard(toBea.samples, providerHolds + settle, providerResumes, TONE_BEA);
    // bea holds: the provider is sent A's music
    const beaHeld = heard(toProvider.samples, at.beaHolds + settle, at.beaResumes, TONE_BEA);
    // bea resumes: the provider hears bea's tone again
    const after = heard(toProvider.samples, at.beaResumes + settle, at.end, TONE_BEA);
    t.diagnostic(JSON.stringify({ talk, providerHeld, beaHeld, after }));
    assert.ok(talk.tone > 10 * talk.melody && talk.rms > 0.02, `bea hears the echo of her tone ${JSON.stringify(talk)}`);
    assert.ok(providerHeld.melody > 10 * providerHeld.tone && providerHeld.rms > 0.01, `bea hears music while the provider holds ${JSON.stringify(providerHeld)}`);
    assert.ok(beaHeld.melody > 10 * beaHeld.tone && beaHeld.rms > 0.01, `the provider is played music while bea holds ${JSON.stringify(beaHeld)}`);
    assert.ok(after.tone > 10 * after.melody && after.rms > 0.02, `the provider hears bea again ${JSON.stringify(after)}`);
  } catch (err) {
    dumpOffices({ A: a, B: b }, /iax2|channel|dial|hold|trunk|route/);
    throw err;
  } finally {
    for (const p of phones) await p.stop();
    if (!provider) await uas.stop();
    await a.stop();
    await b.stop();
  }
});

/**
 * What alice heard in each window of a call she had with the SIPp phone
 * (`[from, to, what]`, epoch ms): her own tone echoed while talking, the
 * music while the phone held her.
 */
function aliceHeard(t: { diagnostic(s: string): void }, pcap: string, alice: Baresip, dir: string, windows: Array<[string, number, number, 'talk' | 'held']>): void {
  const from = windows[0]![1];
  const to = windows.at(-1)![2];
  const toAlice = readWav(receivedUlaw(pcap, rtpPortOf(pcap, alice), from, to, dir).wav);
  for (const [name, lo, hi, what] of windows) {
    const i = Math.round(((lo - from) / 1000) * 8000);
    const j = Math.round(((hi - from) / 1000) * 8000);
    const heard = {
      rms: +rms(toAlice.samples, i, j).toFixed(3),
      tone: goertzelPower(toAlice.samples, i, j, TONE_ALICE, 8000),
      melody: MELODY_HZ.reduce((sum, hz) => sum + goertzelPower(toAlice.samples, i, j, hz, 8000), 0),
    };
    t.diagnostic(`${name} (${((hi - lo) / 1000).toFixed(1)} s): alice ${JSON.stringify(heard)}`);
    if (what === 'talk') assert.ok(heard.tone > 10 * heard.melody && heard.rms > 0.02, `${name}: alice hears her tone echoed ${JSON.stringify(heard)}`);
    else assert.ok(heard.melody > 10 * heard.tone && heard.rms > 0.01, `${name}: alice hears music on hold ${JSON.stringify(heard)}`);
  }
}

test('a phone that holds by late offer (re-INVITE without SDP, the answer in the ACK), called and calling: its office passes HOLD/UNHOLD on, the far phone hears music, then the tone again', {
  timeout: 150_000,
}, async (t) => {
  const [pUas] = await freeLocalPorts(1);
  const [mediaUas, mediaUac] = await freeLocalPorts(2, 4);
  const { a, b, portA, iaxA, iaxB, s1001, s2001 } = await holdOffices();
  const csv = join(b.dir, 'sipp-2001.csv');
  writeFileSync(csv, sippCsv([{ number: '2001', secret: s2001, name: 'Bea' }], { peers: ['1001'] }));
  // the phone, called: answers, holds after 3.5 s, resumes 3.5 s later, waits for the BYE; echoes the RTP
  const uas = await startSipp({
    scenario: 'uas-late-hold',
    target: '127.0.0.1',
    port: pUas,
    mediaPort: mediaUas,
    rtpEcho: true,
    traceMsg: true,
    calls: 1,
    pauseMs: 3500,
    timeoutS: 60,
  });
  const phones: Baresip[] = [];
  const results: SippResult[] = [];
  /** when B logged its SIP side's hold (or resume) from stdout line `from` on (epoch ms) */
  const bridged = async (from: number, held: boolean) =>
    Date.parse(String((await eventAfter(b, from, (e) => e.event === 'iax2-hold' && e.by === 'bridged' && e.held === held, 25_000)).time));
  try {
    const reg = await runSipp({ scenario: 'register-auth', target: b.target, inf: [csv], set: { contact: `127.0.0.1:${pUas}`, expires: '600' }, calls: 1, timeoutS: 15 });
    assert.equal(reg.stats?.successful, 1, `the SIPp phone registered: ${reg.errors}`);
    const alice = await officePhone(a, 'alice', '1001', s1001, TONE_ALICE);
    phones.push(alice);
    const filter = (lo: number, hi: number) => `udp and (portrange ${lo}-${hi} or port ${iaxA} or port ${iaxB})`;
    const [lo, hi] = alice.opts.rtpPorts!;

    // 1. alice calls the phone: B's leg to it (sip-frame-side.ts) sees its holds
    const pcap1 = join(a.dir, 'late-hold-called.pcap');
    let cap = await startCapture(pcap1, filter(lo, hi));
    const call1 = { up: 0, held: 0, resumed: 0, end: 0 };
    try {
      const from = b.lines.length;
      await alice.dial(`sip:2001@127.0.0.1:${portA}`);
      await alice.waitEvent('CALL_ESTABLISHED', 15_000);
      await sleep(1000);
      call1.up = Date.now();
      call1.held = await bridged(from, true);
      call1.resumed = await bridged(from, false);
      await sleep(2500);
      call1.end = Date.now();
      await alice.hangup();
      results.push(await uas.finish(8000));
    } finally {
      await stopCapture(cap);
    }

    // 2. the phone calls alice: B's channel for its call (sip-leg.ts) sees its holds
    const pcap2 = join(a.dir, 'late-hold-calling.pcap');
    cap = await startCapture(pcap2, filter(lo, hi));
    const call2 = { up: 0, held: 0, resumed: 0, end: 0 };
    try {
      const from = b.lines.length;
      const since = alice.mark();
      const uac = await startSipp({
        scenario: 'call-late-hold-uac',
        target: b.target,
        inf: [csv],
        mediaPort: mediaUac,
        rtpEcho: true,
        traceMsg: true,
        calls: 1,
        pauseMs: 3500,
        timeoutS: 40,
      });
      try {
        await alice.waitEvent('CALL_ESTABLISHED', 15_000, since);
        await sleep(1000);
        call2.up = Date.now();
        call2.held = await bridged(from, true);
        call2.resumed = await bridged(from, false);
        await alice.waitEvent('CALL_CLOSED', 15_000, since);
        call2.end = Date.now();
      } finally {
        results.push(await uac.finish(8000));
      }
    } finally {
      await stopCapture(cap);
    }

    // the phone's scenarios ran to their end: each re-INVITE got a 200 with an offer it could answer
    for (const r of results) {
      assert.doesNotMatch(r.messages, /SIP\/2\.0 488/, 'a re-INVITE was refused');
      assert.equal(r.stats?.successful, 1, `${r.errors}\n${r.messages.slice(-2500)}`);
    }
    const holds = (p: typeof a) =>
      p
        .events()
        .filter((e) => e.event === 'iax2-hold')
        .map((e) => `${e.by} ${e.held ? 'held' : 'resumed'}${e.how ? ` ${e.how}` : ''}${e.class ? ` ${e.class}` : ''}`);
    assert.deepEqual(holds(b), ['bridged held passthrough default', 'bridged resumed passthrough', 'bridged held passthrough default', 'bridged resumed passthrough']);
    assert.deepEqual(holds(a), ['peer held default', 'peer resumed', 'peer held default', 'peer resumed']);

    const settle = 800;
    for (const [name, pcap, at] of [
      ['called', pcap1, call1],
      ['calling', pcap2, call2],
    ] as const) {
      // on the wire: B sent HOLD (16) and UNHOLD (17), A none
      const controls = iax2Controls(pcap, [iaxA, iaxB]);
      t.diagnostic(`${name}: IAX2 control frames: ${controls.join(', ')}`);
      assert.deepEqual(
        controls.filter((c) => /\s1[67]$/.test(c)),
        [`${iaxB} 16`, `${iaxB} 17`],
        name,
      );
      aliceHeard(t, pcap, alice, a.dir, [
        [`${name}: talk`, at.up, at.held, 'talk'],
        [`${name}: the phone holds`, at.held + settle, at.resumed, 'held'],
        [`${name}: talk after the resume`, at.resumed + settle, at.end - 300, 'talk'],
      ]);
    }
  } catch (err) {
    dumpOffices({ A: a, B: b }, /iax2|channel|dial|hold/);
    throw err;
  } finally {
    for (const p of phones) await p.stop();
    if (results.length === 0) await uas.stop();
    await a.stop();
    await b.stop();
  }
});
