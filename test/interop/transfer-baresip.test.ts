// Blind transfer by REFER (RFC 3515) between three real softphones
// (baresip 1.0.0, its `transfer` command) through a running Palisade, in a
// direct B2BUA call: Alice calls Bob, Bob transfers her to Carol. Palisade
// serves the REFER itself (202, NOTIFYs with sipfrag 100 → 180 → 200), rings
// Carol with Alice's session through its relay, ends Bob's dialog, and
// Alice and Carol talk (each one's recording holds the other's tone). The
// CDRs show the transfer: Alice → Bob ended "blind transfer by 1002 to
// 1003", then Alice → Carol with lastapp Transfer. Bob is told nothing
// passed to Alice: she never sees a REFER.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baresip } from '../helpers/baresip.js';
import { dominantFrequency, readWav } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { waitFor } from '../helpers/wait.js';
import { baresipPhone, sippPhone } from '../helpers/office-phones.js';
import { waitCdrRows } from '../helpers/cdr-rows.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const phone = (pal: PalisadeProcess, name: string, user: TestUser, tone: number, rtp: number, sipTrace = false): Promise<Baresip> =>
  baresipPhone(pal, name, user, { tone, rtp, sipTrace });

export interface CdrRow {
  src: string;
  dst: string;
  lastapp: string;
  lastdata: string;
  disposition: string;
  userfield: string;
  billsec: number;
  uniqueid: string;
}

/** the CDR rows once `count` are stored (the writer batches its inserts) */

const TONE_ALICE = 440;
const TONE_BOB = 1000;
const TONE_CAROL = 700;

/**
 * Alice calls Bob; one of them (`by`: Bob, the called party, or Alice, the
 * caller — only on a dialplan channel) transfers the other to Carol by REFER.
 */
async function blindTransfer(t: TestContext, withDialplan: boolean, by: 'callee' | 'caller' = 'callee'): Promise<void> {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-xfer-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  // the caller's transfer is her second call while her first is up (the fraud default allows one)
  const fraud = by === 'caller' ? ['fraud:', '  defaults: { max_outbound_calls: 2 }'] : [];
  const extraYaml = ['registrar:', '  qualify_interval: 0', ...fraud, ...(withDialplan ? ['dialplan:', `  file: ${conf}`] : [])].join('\n');
  const pal = await startPalisade({ users: [alice!, bob!, carol!], extraYaml });
  const [rtp] = await freeLocalPorts(1, 300);
  const phones: Baresip[] = [];
  try {
    const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp!, by === 'caller');
    const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp! + 100, by === 'callee');
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp! + 200, true);
    phones.push(a, b, c);
    // the transferor and the party it hands to Carol (the transferee)
    const [xfer, stay] = by === 'callee' ? [b, a] : [a, b];
    const [xferUser, stayUser] = by === 'callee' ? [bob!, alice!] : [alice!, bob!];
    const [xferTone, stayTone] = by === 'callee' ? [TONE_BOB, TONE_ALICE] : [TONE_ALICE, TONE_BOB];
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await a.waitEvent('CALL_ESTABLISHED', 8000);
    await b.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(1500);
    const mark = c.mark();
    await xfer.mustCommand('transfer', `sip:${carol!.number}@${pal.target}`);
    const incoming = await c.waitEvent((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_ESTABLISHED', 8000, mark);
    t.diagnostic(`Carol: ${incoming.type} from ${String(incoming.peeruri)}`);
    await c.waitEvent('CALL_ESTABLISHED', 8000, mark);
    // the transferor's call ends (Palisade's BYE after the final NOTIFY, or its own on it)
    await xfer.waitEvent('CALL_CLOSED', 8000);
    await pal.waitForEvent((e) => e.event === 'call-transferred', 5000);
    // the path the call took: a Dial() bridge of the dialplan, or the B2BUA's direct call
    assert.equal(
      pal.events().some((e) => e.event === 'channel-bridged'),
      withDialplan,
    );
    // the transferee and Carol talk for a while; the transferee's call never closed
    const talkFrom = Date.now();
    await sleep(3000);
    assert.ok(!stay.events.some((e) => e.type === 'CALL_CLOSED'), 'the transferee stayed in its call');
    await stay.hangup();
    await c.waitEvent('CALL_CLOSED', 8000);
    const talkMs = Date.now() - talkFrom;

    // Carol's caller ID is the transferee, not the transferor
    assert.match(String(incoming.peeruri ?? ''), new RegExp(`sip:${stayUser.number}@`), "Carol sees the transferee's number");

    // the transferor's side: 202 to its REFER, then NOTIFYs with sipfrag 100, (180,) 200, the last one terminating the subscription
    const bt = xfer.sipTrace();
    const referAnswer = bt.find((m) => m.startLine.startsWith('SIP/2.0 ') && m.headers.some((h) => /^cseq:\s*\d+\s+REFER/i.test(h)));
    assert.match(referAnswer?.startLine ?? '', /^SIP\/2\.0 202 /, 'the REFER got 202 Accepted');
    const xferAt = `127.0.0.1:${xfer.opts.sipPort}`;
    // (Palisade's unsolicited message-summary NOTIFY to a registering phone is not one of them)
    const notifies = bt.filter((m) => m.startLine.startsWith('NOTIFY ') && m.dst === xferAt && m.headers.some((h) => /^event:\s*refer\b/i.test(h)));
    t.diagnostic(
      `NOTIFYs to the transferor: ${notifies.map((n) => `${n.src} ${n.headers.filter((h) => /^(subscription-state|event|content-type)/i.test(h)).join(', ')}`).join(' | ')}`,
    );
    assert.ok(notifies.length >= 2, `NOTIFYs: ${notifies.length}`);
    assert.ok(
      notifies.every((n) => n.headers.some((h) => /^content-type:\s*message\/sipfrag/i.test(h))),
      'message/sipfrag bodies',
    );
    assert.match(notifies[notifies.length - 1]!.headers.find((h) => /^subscription-state/i.test(h)) ?? '', /terminated/i);
    // Carol was called by Palisade (not by the transferee's phone: it never saw a REFER)
    assert.ok(!c.sipTrace().some((m) => m.startLine.startsWith('REFER ')));

    // Audio: Carol hears the transferee; the transferee, at the end of its call, hears Carol
    const carolHeard = readWav(c.recordings().dec[0]!);
    assert.ok(Math.abs(dominantFrequency(carolHeard) - stayTone) <= 10, `Carol hears the transferee's tone (${dominantFrequency(carolHeard)} Hz)`);
    const stayHeard = readWav(stay.recordings().dec[0]!);
    const n = stayHeard.samples.length;
    const tail = Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6));
    const hz = dominantFrequency(stayHeard, n - tail, n);
    assert.ok(Math.abs(hz - TONE_CAROL) <= 10, `the transferee hears Carol's tone at the end of its call (${hz} Hz)`);
    const head = dominantFrequency(stayHeard, Math.round(0.3 * 8000), Math.round(1.2 * 8000));
    assert.ok(Math.abs(head - xferTone) <= 10, `the transferee heard the transferor first (${head} Hz)`);

    // CDRs: the segment with the transferor, ended by the transfer; the segment with Carol
    const rows = await waitCdrRows<CdrRow>(pal, 2);
    t.diagnostic(JSON.stringify(rows));
    const how = `blind transfer by ${xferUser.number} to ${carol!.number}`;
    if (withDialplan && by === 'caller') {
      // Alice's channel (Dial() answered) ends with the transfer; Bob and Carol talk on in a segment of their own
      const ch = rows.find((r) => r.src === alice!.number && r.lastapp === 'Dial');
      assert.ok(ch && ch.disposition === 'ANSWERED' && ch.dst === bob!.number, "Alice's channel");
      const seg = rows.find((r) => r.userfield === how);
      assert.ok(seg && seg.src === bob!.number && seg.dst === carol!.number && seg.lastapp === 'Transfer' && seg.billsec >= 2, 'the segment Bob–Carol');
      return;
    }
    if (withDialplan) {
      // the channel's CDR (Alice dialled 1002; Dial() answered) and the segment the transfer ended
      const seg = rows.find((r) => r.userfield === how);
      assert.ok(seg && seg.src === alice!.number && seg.dst === bob!.number && seg.disposition === 'ANSWERED', 'the segment with Bob');
      const ch = rows.find((r) => r !== seg)!;
      assert.equal(ch.src, alice!.number);
      assert.equal(ch.lastapp, 'Dial');
      assert.equal(ch.disposition, 'ANSWERED');
      assert.ok(ch.billsec >= 4, `the channel lasted through both segments (${ch.billsec} s)`);
      return;
    }
    const first = rows.find((r) => r.dst === bob!.number)!;
    const second = rows.find((r) => r.dst === carol!.number)!;
    assert.equal(first.src, alice!.number);
    assert.equal(first.disposition, 'ANSWERED');
    assert.equal(first.userfield, how);
    assert.equal(second.src, alice!.number);
    assert.equal(second.lastapp, 'Transfer');
    assert.equal(second.lastdata, `SIP/${carol!.number}`);
    assert.equal(second.disposition, 'ANSWERED');
    assert.ok(second.billsec >= 2, `Alice and Carol talked (${second.billsec} s)`);
    assert.notEqual(first.uniqueid, second.uniqueid);
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('blind transfer by REFER in a direct call: Bob (baresip `transfer`) hands Alice to Carol; they talk; NOTIFY sipfrag; CDRs show it', { timeout: 120_000 }, async (t) => {
  await blindTransfer(t, false);
});

test('blind transfer by REFER on a dialplan channel: Dial() bridges Alice and Bob; Bob transfers her to Carol; they talk; CDRs', { timeout: 120_000 }, async (t) => {
  await blindTransfer(t, true);
});

/**
 * Bob (a SIPp transferor) calls Alice, then Carol, and joins them by REFER
 * with Replaces in the first call. Direct calls: Carol is re-INVITEd
 * towards the relay of Alice's call. Dialplan calls (Dial() bridges, Bob
 * the caller of both channels: REFER from the caller's side): Alice's and
 * Carol's legs leave their channels as they are and are bridged together.
 */
async function attendedFromTransferor(t: TestContext, withDialplan: boolean): Promise<void> {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-axfer-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  // the consultation call is Bob's second call in progress: the fraud default allows one (docs/configuration.md, fraud)
  const extraYaml = ['registrar:', '  qualify_interval: 0', 'fraud:', '  defaults: { max_outbound_calls: 2 }', ...(withDialplan ? ['dialplan:', `  file: ${conf}`] : [])].join(
    '\n',
  );
  const pal = await startPalisade({ users: [alice!, bob!, carol!], extraYaml });
  const [rtp] = await freeLocalPorts(1, 200);
  const phones: Baresip[] = [];
  try {
    const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp!);
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp! + 100, true);
    phones.push(a, c);
    const csv = join(pal.dir, 'bob.csv');
    writeFileSync(csv, sippCsv([bob!]));
    const r = await runSipp({
      scenario: 'attended-transfer-uac',
      target: pal.target,
      inf: [csv],
      set: { first: alice!.number, second: carol!.number },
      calls: 1,
      rate: 1,
      traceMsg: true,
      timeoutS: 40,
      dir: pal.dir,
    });
    const refusals = pal.events().filter((e) => /refused|failed|security/.test(String(e.event)));
    assert.equal(r.stats?.successful, 1, `the transferor's scenario: ${r.errors.slice(0, 1500)}\nPalisade: ${JSON.stringify(refusals)}`);
    await pal.waitForEvent((e) => e.event === 'call-transferred', 5000);
    assert.equal(
      pal.events().some((e) => e.event === 'channel-bridged'),
      withDialplan,
    );
    // Alice and Carol are now in one call: nobody hung up on them
    await sleep(3000);
    assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED') && !c.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice and Carol are still in a call');
    // direct: Carol was re-INVITEd (a new offer, towards the relay of Alice's call) and said 200;
    // dialplan: both legs' media is Palisade's already, so nobody is re-INVITEd
    const reinvite = c.sipTrace().filter((m) => m.startLine.startsWith('INVITE ') && m.dst === `127.0.0.1:${c.opts.sipPort}`);
    assert.equal(reinvite.length, withDialplan ? 1 : 2, "Carol's INVITEs: the call from Bob (then Palisade's re-INVITE in a direct call)");
    await a.hangup();
    await c.waitEvent('CALL_CLOSED', 8000);

    const carolHeard = readWav(c.recordings().dec[0]!);
    const n = carolHeard.samples.length;
    const hz = dominantFrequency(carolHeard, n - Math.round(2 * 8000), n);
    assert.ok(Math.abs(hz - TONE_ALICE) <= 10, `Carol hears Alice's tone at the end (${hz} Hz)`);
    const aliceHeard = readWav(a.recordings().dec[0]!);
    const m = aliceHeard.samples.length;
    const hzA = dominantFrequency(aliceHeard, m - Math.round(2 * 8000), m);
    assert.ok(Math.abs(hzA - TONE_CAROL) <= 10, `Alice hears Carol's tone at the end (${hzA} Hz)`);

    // CDRs: Bob → Alice (ended by the transfer), Bob → Carol (replaced), then Alice ↔ Carol
    const rows = await waitCdrRows<CdrRow>(pal, 3);
    t.diagnostic(JSON.stringify(rows));
    const how = `attended transfer by ${bob!.number} to ${carol!.number}`;
    if (withDialplan) {
      // Bob's two channels (Dial() answered), then the segment the transfer joined
      assert.ok(rows.some((x) => x.src === bob!.number && x.dst === alice!.number && x.lastapp === 'Dial' && x.disposition === 'ANSWERED'));
      assert.ok(rows.some((x) => x.src === bob!.number && x.dst === carol!.number && x.lastapp === 'Dial' && x.disposition === 'ANSWERED'));
    } else {
      assert.ok(rows.some((x) => x.src === bob!.number && x.dst === alice!.number && x.userfield === how));
      assert.ok(rows.some((x) => x.src === bob!.number && x.dst === carol!.number && x.userfield === `replaced: ${how}`));
    }
    assert.ok(rows.some((x) => x.src === alice!.number && x.dst === carol!.number && x.lastapp === 'Transfer' && (!withDialplan || x.userfield === how) && x.billsec >= 2));
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('blind transfer by REFER from the caller of a dialplan channel: Alice Dial()s Bob and transfers him to Carol; Bob and Carol talk; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await blindTransfer(t, true, 'caller');
});

test('attended transfer by REFER with Replaces (SIPp transferor): Bob calls Alice, then Carol, and joins them; Carol is re-INVITEd, they talk; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await attendedFromTransferor(t, false);
});

test('attended transfer by REFER with Replaces on dialplan channels, from the caller side: Bob Dial()s Alice, then Carol, and joins them; they talk; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await attendedFromTransferor(t, true);
});

/**
 * Attended transfer from the called side of a dialplan call: Alice's call
 * to Bob runs Dial(SIP/1002); Bob (a SIPp phone) has a consultation call
 * with Carol placed by another SIPp (a direct call, or a Dial() of the
 * dialplan) and REFERs Alice with Replaces naming it. Carol leaves her call
 * (a direct call's party is re-INVITEd towards the channel's media) and
 * takes Bob's place in Alice's channel; both of Bob's calls end.
 */
async function attendedFromCalled(t: TestContext, consultViaDialplan: boolean): Promise<void> {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-axfer-b-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(
    conf,
    `[default]\nexten => ${bob!.number},1,Dial(SIP/${bob!.number},20)\n${consultViaDialplan ? `exten => ${carol!.number},1,Dial(SIP/${carol!.number},20)\n` : ''}`,
  );
  const pal = await startPalisade({ users: [alice!, bob!, carol!], extraYaml: `registrar:\n  qualify_interval: 0\ndialplan:\n  file: ${conf}` });
  const phones: Baresip[] = [];
  try {
    const [rtp] = await freeLocalPorts(1, 200);
    const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp!);
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp! + 100, true);
    phones.push(a, c);
    const bobUas = await sippPhone(pal, dir, bob!, 'uas-refer-replaces', 60, { set: { target: carol!.number } });
    // Bob's consultation call with Carol; it writes the Replaces naming it
    const csv = join(dir, 'bob-uac.csv');
    writeFileSync(csv, sippCsv([bob!]));
    const consult = await startSipp({
      scenario: 'call-replaced-uac',
      target: pal.target,
      inf: [csv],
      service: carol!.number,
      calls: 1,
      rate: 1,
      traceMsg: true,
      timeoutS: 60,
      dir,
    });
    await c.waitEvent('CALL_ESTABLISHED', 10_000);
    await waitFor('the Replaces of the consultation call', () => existsSync(join(dir, 'replaces.txt')) || undefined, 10_000);
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await a.waitEvent('CALL_ESTABLISHED', 10_000).catch(async (err: Error) => {
      const r = await bobUas.stop();
      throw new Error(`${err.message}\nBob: ${r.errors.slice(0, 2000)}\n${r.messages.slice(0, 3000)}\nPalisade: ${pal.lines.slice(-20).join('\n')}`);
    });
    const done = await pal.waitForEvent((e) => e.event === 'call-transferred', 15_000);
    t.diagnostic(JSON.stringify(done));
    const talkFrom = Date.now();
    await sleep(3000);
    assert.ok(
      !a.events.some((e) => e.type === 'CALL_CLOSED') && !c.events.some((e) => e.type === 'CALL_CLOSED'),
      `Alice and Carol are still in a call: ${JSON.stringify([...a.events, ...c.events].filter((e) => e.type === 'CALL_CLOSED'))}\n${pal.lines.slice(-12).join('\n')}`,
    );
    const invites = c.sipTrace().filter((m) => m.startLine.startsWith('INVITE ') && m.dst === `127.0.0.1:${c.opts.sipPort}`);
    assert.equal(invites.length, consultViaDialplan ? 1 : 2, "Carol's INVITEs: Bob's call (then Palisade's re-INVITE when it was a direct call)");
    await a.hangup();
    await c.waitEvent('CALL_CLOSED', 8000);
    const talkMs = Date.now() - talkFrom;
    // Bob's side (the SIPp phone answers calls until stopped; its one call is over)
    const uac = await consult.done;
    assert.equal(uac.stats?.successful, 1, `Bob's consultation call ended by Palisade's BYE: ${uac.errors.slice(0, 1500)}`);
    const uas = await bobUas.stop();
    assert.equal(uas.stats?.successful, 1, `Bob's REFER: 202, NOTIFY 100 and 200, BYE: ${uas.errors.slice(0, 1500)}`);
    assert.match(uas.messages, /NOTIFY [\s\S]*SIP\/2\.0 100 Trying[\s\S]*NOTIFY [\s\S]*SIP\/2\.0 200 OK/, 'sipfrag 100 then 200');
    const span = (n: number) => Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6));
    const carolHeard = readWav(c.recordings().dec[0]!);
    const hzC = dominantFrequency(carolHeard, carolHeard.samples.length - span(carolHeard.samples.length), carolHeard.samples.length);
    assert.ok(Math.abs(hzC - TONE_ALICE) <= 10, `Carol hears Alice's tone at the end (${hzC} Hz)`);
    const aliceHeard = readWav(a.recordings().dec[0]!);
    const hzA = dominantFrequency(aliceHeard, aliceHeard.samples.length - span(aliceHeard.samples.length), aliceHeard.samples.length);
    assert.ok(Math.abs(hzA - TONE_CAROL) <= 10, `Alice hears Carol's tone at the end (${hzA} Hz)`);

    const rows = await waitCdrRows<CdrRow>(pal, 3);
    t.diagnostic(JSON.stringify(rows));
    const how = `attended transfer by ${bob!.number} to ${carol!.number}`;
    assert.ok(
      rows.some((x) => x.src === alice!.number && x.dst === bob!.number && x.userfield === how && x.disposition === 'ANSWERED'),
      'the segment with Bob',
    );
    // Alice's channel (she dialled Bob) lasts through both segments
    assert.ok(
      rows.some((x) => x.src === alice!.number && x.userfield === 'DIALSTATUS=ANSWER' && x.lastapp === 'Dial' && x.billsec >= 4),
      "Alice's channel",
    );
    assert.ok(
      rows.some((x) => x.src === bob!.number && x.dst === carol!.number && x.disposition === 'ANSWERED'),
      "Bob's consultation call",
    );
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('attended transfer by REFER with Replaces from the called side of a Dial() call; the consultation call is direct: Carol is re-INVITEd into the channel', {
  timeout: 120_000,
}, async (t) => {
  await attendedFromCalled(t, false);
});

test("attended transfer by REFER with Replaces from the called side of a Dial() call; the consultation call is a Dial() too: Carol's leg moves over", {
  timeout: 120_000,
}, async (t) => {
  await attendedFromCalled(t, true);
});

/**
 * INVITE with Replaces (RFC 3891) at Palisade: Bob (SIPp) calls Carol — a
 * direct call, or a Dial() of the dialplan — and Alice's phone (SIPp, RTP
 * echoed) sends an INVITE whose Replaces names Bob's dialog. Alice takes
 * Bob's place: Bob gets BYE, Carol stays (re-INVITEd towards Palisade's
 * media when it was a direct call) and hears her own tone come back
 * through Alice's echo.
 */
async function inviteReplaces(t: TestContext, viaDialplan: boolean): Promise<void> {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-repl-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, `[default]\nexten => ${carol!.number},1,Dial(SIP/${carol!.number},20)\n`);
  const pal = await startPalisade({
    users: [alice!, bob!, carol!],
    extraYaml: ['registrar:', '  qualify_interval: 0', ...(viaDialplan ? ['dialplan:', `  file: ${conf}`] : [])].join('\n'),
  });
  const phones: Baresip[] = [];
  try {
    const [rtp] = await freeLocalPorts(1, 100);
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp!, true);
    phones.push(c);
    const bobCsv = join(dir, 'bob.csv');
    writeFileSync(bobCsv, sippCsv([bob!]));
    const replaced = await startSipp({ scenario: 'call-replaced-uac', target: pal.target, inf: [bobCsv], service: carol!.number, calls: 1, rate: 1, timeoutS: 60, dir });
    await c.waitEvent('CALL_ESTABLISHED', 10_000);
    await waitFor("the Replaces of Bob's call", () => existsSync(join(dir, 'replaces-header.txt')) || undefined, 10_000);
    const aliceCsv = join(dir, 'alice.csv');
    writeFileSync(aliceCsv, sippCsv([alice!]));
    const talkFrom = Date.now();
    const r = await runSipp({
      scenario: 'call-replacing-uac',
      target: pal.target,
      inf: [aliceCsv],
      service: carol!.number,
      calls: 1,
      rate: 1,
      pauseMs: 4000,
      rtpEcho: true,
      timeoutS: 40,
      dir,
    });
    const talkMs = Date.now() - talkFrom;
    assert.equal(
      r.stats?.successful,
      1,
      `Alice's replacing call: ${r.errors.slice(0, 1500)}\nReplaces: ${readFileSync(join(dir, 'replaces-header.txt'), 'utf8')}\n${pal.lines.slice(-10).join('\n')}`,
    );
    const bobResult = await replaced.done;
    assert.equal(bobResult.stats?.successful, 1, `Bob's call ended by Palisade's BYE: ${bobResult.errors.slice(0, 1500)}`);
    const done = await pal.waitForEvent((e) => e.event === 'call-replaced', 5000);
    t.diagnostic(JSON.stringify(done));
    assert.equal(done.with, carol!.number);
    // Carol stayed in her call until Alice hung up
    await c.waitEvent('CALL_CLOSED', 8000);
    const closed = c.events.filter((e) => e.type === 'CALL_CLOSED');
    assert.equal(closed.length, 1, 'Carol had one call, closed once');
    const invites = c.sipTrace().filter((m) => m.startLine.startsWith('INVITE ') && m.dst === `127.0.0.1:${c.opts.sipPort}`);
    assert.equal(invites.length, viaDialplan ? 1 : 2, "Carol's INVITEs: Bob's call (then Palisade's re-INVITE when it was a direct call)");
    // Carol's tone came back through Alice's echo (Bob's SIPp sent nothing)
    const heard = readWav(c.recordings().dec[0]!);
    const n = heard.samples.length;
    const span = Math.min(n, Math.round((Math.min(talkMs, 4000) / 1000) * 8000 * 0.5));
    const hz = dominantFrequency(heard, n - span, n);
    assert.ok(Math.abs(hz - TONE_CAROL) <= 10, `Carol hears her tone echoed by Alice's phone at the end (${hz} Hz)`);

    const rows = await waitCdrRows<CdrRow>(pal, 2);
    t.diagnostic(JSON.stringify(rows));
    assert.ok(
      rows.some((x) => x.src === bob!.number && x.dst === carol!.number && x.disposition === 'ANSWERED'),
      "Bob's call",
    );
    assert.ok(
      rows.some((x) => x.src === alice!.number && x.dst === carol!.number && x.lastapp === 'Transfer' && x.disposition === 'ANSWERED' && x.billsec >= 2),
      "Alice's call, which replaced Bob's",
    );
    if (viaDialplan) return;
    // a Replaces naming a dialog Palisade does not have (Bob's, ended): 481 (RFC 3891 §3), not a new call to Carol
    const mark = c.mark();
    const none = await runSipp({
      scenario: 'call-replacing-uac',
      target: pal.target,
      inf: [aliceCsv],
      service: carol!.number,
      calls: 1,
      rate: 1,
      traceMsg: true,
      timeoutS: 20,
      dir,
    });
    assert.equal(none.stats?.successful, 0);
    assert.match(none.messages, /^SIP\/2\.0 481 /m, 'the INVITE naming no dialog got 481');
    await pal.waitForEvent((e) => e.event === 'replaces-no-dialog', 5000);
    assert.ok(!c.events.slice(mark).some((e) => e.type === 'CALL_INCOMING'), 'Carol was not rung');
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("INVITE with Replaces naming a direct call: Alice takes Bob's place with Carol (re-INVITEd); Bob gets BYE; media flows", { timeout: 120_000 }, async (t) => {
  await inviteReplaces(t, false);
});

test("INVITE with Replaces naming the caller of a Dial(): Alice takes Bob's place, Carol's leg moves over; Bob gets BYE; media flows", { timeout: 120_000 }, async (t) => {
  await inviteReplaces(t, true);
});

test('Transfer() in the dialplan: the answered caller (baresip) is sent a REFER, accepts it (TRANSFERSTATUS=SUCCESS) and calls the target itself', {
  timeout: 90_000,
}, async () => {
  const [alice, , carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-xfer-app-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(
    conf,
    '[default]\nexten => 700,1,Answer()\nsame => n,Wait(1)\nsame => n,Transfer(PJSIP/1003)\nsame => n,NoOp(TRANSFERSTATUS=${TRANSFERSTATUS})\nsame => n,Wait(10)\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n',
  );
  // Alice's phone places the new call while still in the first: its second outbound call (the gate judges it as hers)
  const pal = await startPalisade({
    users: [alice!, carol!],
    extraYaml: `registrar:\n  qualify_interval: 0\nfraud:\n  defaults: { max_outbound_calls: 2 }\ndialplan:\n  file: ${conf}`,
  });
  const phones: Baresip[] = [];
  try {
    const [rtp] = await freeLocalPorts(1, 200);
    const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp!, true);
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp! + 100);
    phones.push(a, c);
    await a.dial(`sip:700@${pal.target}`);
    const incoming = await c.waitEvent('CALL_ESTABLISHED', 15_000).catch((err: Error) => {
      const trace = a.sipTrace().map((m) => `${m.src}->${m.dst} ${m.startLine}`);
      throw new Error(`${err.message}\nPalisade: ${pal.lines.slice(-15).join('\n')}\nAlice: ${trace.join('\n')}`);
    });
    assert.match(String(incoming.peeruri ?? ''), new RegExp(`sip:${alice!.number}@`), "Carol is called by Alice's phone");
    const asked = await pal.waitForEvent((e) => e.event === 'channel-transfer-requested', 5000);
    assert.equal(asked.accepted, true);
    assert.equal(asked.to, carol!.number);
    // Alice's phone got the REFER (Refer-To: Carol) and answered 202
    const refer = a.sipTrace().find((m) => m.startLine.startsWith('REFER '));
    assert.ok(
      refer?.headers.some((h) => new RegExp(`^refer-to:\\s*<sip:${carol!.number}@`, 'i').test(h)),
      'Refer-To names Carol',
    );
    await sleep(1500);
    await c.hangup();
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
