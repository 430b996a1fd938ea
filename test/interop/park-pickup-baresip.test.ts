// Call park and pickup (src/features/office/parking.ts, pickup.ts) between
// real softphones (baresip, each sending its own tone) through a running
// Palisade whose dialplan bridges extension calls with Dial():
//
// - park: Alice calls Bob; Bob blind-transfers her (baresip `transfer`,
//   REFER) to the park extension 700; Bob hears the slot before Palisade
//   lets him go; Alice hears music; Carol dials the slot 701 and talks to
//   Alice; the CDRs show the segment parked and the retrieval;
// - timeout: nobody dials the slot; after `parkingtime` Bob's phone rings
//   with Alice's call and they talk again;
// - pickup: Alice calls Bob, whose phone rings unanswered; Carol (in Bob's
//   pickup group) dials *8 and talks to Alice, Bob stops ringing; Dave (in
//   no group) gets nothing from *8 but takes the call with **1002.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baresip } from '../helpers/baresip.js';
import { dominantFrequency, goertzelPower, readWav, rms } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, type TestUser } from '../helpers/users.js';
import { pollUntil } from '../helpers/wait.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { baresipPhone } from '../helpers/office-phones.js';
import { waitCdrRows } from '../helpers/cdr-rows.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const TONE_ALICE = 440;
const TONE_BOB = 1000;
const TONE_CAROL = 700;
const TONE_DAVE = 1300;

const phone = (pal: PalisadeProcess, name: string, user: TestUser, tone: number, rtp: number, answerMode: 'auto' | 'manual' = 'auto'): Promise<Baresip> =>
  baresipPhone(pal, name, user, { tone, rtp, answerMode, seconds: 60, lifetimeS: 100, sipTrace: true });

interface Row {
  src: string;
  dst: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  disposition: string;
  userfield: string;
  billsec: number;
}

/** the dominant frequency of the last `ms` of a recording */
function tailHz(path: string, ms: number): number {
  const w = readWav(path);
  const n = w.samples.length;
  return dominantFrequency(w, Math.max(0, n - Math.round((ms / 1000) * 8000)), n);
}

const near = (hz: number, want: number) => Math.abs(hz - want) <= 10;

async function office(
  t: TestContext,
  users: number,
  yaml: string,
  run: (pal: PalisadeProcess, u: TestUser[], phones: Baresip[], rtp: number) => Promise<void>,
  dialOptions = '',
  extraDialplan = '',
  direct = false,
): Promise<void> {
  const u = makeUsers(users, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-park-'));
  const conf = join(dir, 'extensions.conf');
  // direct: no Dial() for extensions, so their calls are the B2BUA's own (park and pickup codes need no dialplan line)
  const extensions = direct ? 'exten => 9999,1,Hangup()' : `exten => _1XXX,1,Dial(SIP/\${EXTEN},20${dialOptions ? `,${dialOptions}` : ''})`;
  writeFileSync(conf, `[default]\n${extensions}\n${extraDialplan}`);
  const pal = await startPalisade({ users: u, extraYaml: ['registrar:', '  qualify_interval: 0', 'dialplan:', `  file: ${conf}`, yaml].join('\n') });
  const [rtp] = await freeLocalPorts(1, 100 * users);
  const phones: Baresip[] = [];
  try {
    await run(pal, u, phones, rtp!);
  } catch (err) {
    t.diagnostic(JSON.stringify(pal.events().filter((e) => /park|pickup|transfer|feature|channel-(bridged|picked)/.test(String(e.event)))));
    throw err;
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Alice calls Bob (Dial() bridge), they talk, Bob transfers her to 700 */
async function parkAlice(pal: PalisadeProcess, a: Baresip, b: Baresip, bob: TestUser): Promise<{ slot: string; parkedAt: number }> {
  await a.dial(`sip:${bob.number}@${pal.target}`);
  await a.waitEvent('CALL_ESTABLISHED', 8000);
  await b.waitEvent('CALL_ESTABLISHED', 8000);
  await sleep(1500);
  const bobMark = b.mark();
  await b.mustCommand('transfer', `sip:700@${pal.target}`);
  const parked = await pal.waitForEvent((e) => e.event === 'call-parked', 5000);
  const parkedAt = Date.now();
  assert.equal(parked.parker, bob.number, 'Bob is the parker');
  // Bob hears the slot, then Palisade lets him go (NOTIFY 200, BYE)
  await pal.waitForEvent((e) => e.event === 'park-announced', 10_000);
  await b.waitEvent('CALL_CLOSED', 10_000, bobMark);
  return { slot: String(parked.slot), parkedAt };
}

/**
 * Alice calls Bob, Bob parks her by a blind REFER to 700, Carol takes her
 * from the slot. The call is a Dial() of the dialplan, or (`direct`) the
 * B2BUA's own call, whose phones are re-INVITEd towards Palisade's media
 * when it is parked.
 */
async function parkFlow(t: TestContext, direct: boolean): Promise<void> {
  await office(
    t,
    3,
    '',
    async (pal, [alice, bob, carol], phones, rtp) => {
      const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
      const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp + 100);
      const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp + 200);
      phones.push(a, b, c);
      const { slot } = await parkAlice(pal, a, b, bob!);
      assert.equal(slot, '701', 'the first slot of the default lot');
      // the REFER got 202 and the last NOTIFY said 200 and ended the subscription
      // (wait up to 5 s for that NOTIFY in Bob's trace: his log may show it after his call closed)
      const referNotifies = () => b.sipTrace().filter((m) => m.startLine.startsWith('NOTIFY ') && m.headers.some((h) => /^event:\s*refer\b/i.test(h)));
      await pollUntil(() => referNotifies().some((m) => m.headers.some((h) => /^subscription-state:.*terminated/i.test(h))), 5000);
      const bt = b.sipTrace();
      assert.ok(
        bt.some((m) => /^SIP\/2\.0 202 /.test(m.startLine) && m.headers.some((h) => /^cseq:\s*\d+\s+REFER/i.test(h))),
        'REFER → 202',
      );
      const notifies = bt.filter((m) => m.startLine.startsWith('NOTIFY ') && m.headers.some((h) => /^event:\s*refer\b/i.test(h)));
      t.diagnostic(`NOTIFYs to Bob: ${notifies.map((x) => `${x.src}->${x.dst} ${x.headers.filter((h) => /^(subscription-state|cseq)/i.test(h)).join(', ')}`).join(' | ')}`);
      assert.match(notifies.at(-1)?.headers.find((h) => /^subscription-state/i.test(h)) ?? '', /terminated/i);
      // what Bob heard after the REFER: the slot said (speech), not Alice's tone nor silence
      const bobHeard = readWav(b.recordings().dec[0]!);
      const n = bobHeard.samples.length;
      const said = [n - 8000 * 1.5, n].map(Math.round) as [number, number];
      assert.ok(
        rms(bobHeard.samples, Math.max(0, said[0]), said[1]) > 0.01,
        `Bob heard something after the transfer (rms ${rms(bobHeard.samples, Math.max(0, said[0]), said[1]).toFixed(4)})`,
      );
      assert.ok(!near(dominantFrequency(bobHeard, Math.max(0, said[0]), said[1]), TONE_ALICE), 'and it was not Alice');
      // Alice waits with music (her call never closed)
      await sleep(2000);
      assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice is still in her call, parked');
      const parkedView = (await controlRequest(join(pal.dir, 'control.sock'), 'parked')) as Array<{ slot: string; caller: string; parker: string }>;
      assert.deepEqual(
        parkedView.map((p) => [p.slot, p.caller, p.parker]),
        [['701', alice!.number, bob!.number]],
      );
      // Carol takes her from the slot
      const cMark = c.mark();
      await c.dial(`sip:${slot}@${pal.target}`);
      await c.waitEvent('CALL_ESTABLISHED', 8000, cMark);
      await pal.waitForEvent((e) => e.event === 'parked-call-retrieved', 5000);
      await sleep(3000);
      await c.hangup();
      // both ends go: Alice's call ends with Carol's
      await a.waitEvent('CALL_CLOSED', 8000);
      assert.ok(near(tailHz(c.recordings().dec[0]!, 2000), TONE_ALICE), `Carol hears Alice (${tailHz(c.recordings().dec[0]!, 2000)} Hz)`);
      assert.ok(near(tailHz(a.recordings().dec[0]!, 2000), TONE_CAROL), `Alice hears Carol at the end (${tailHz(a.recordings().dec[0]!, 2000)} Hz)`);
      // Alice, parked: music (not silence, not Bob, not Carol) in the 2 s before Carol came
      const aw = readWav(a.recordings().dec[0]!);
      const m = aw.samples.length;
      const from = m - 8000 * 5.5;
      const to = m - 8000 * 3.5;
      const hz = dominantFrequency(aw, Math.round(from), Math.round(to));
      assert.ok(rms(aw.samples, Math.round(from), Math.round(to)) > 0.005 && !near(hz, TONE_BOB) && !near(hz, TONE_CAROL), `Alice heard music while parked (${hz} Hz)`);

      const rows = await waitCdrRows<Row>(pal, 3);
      t.diagnostic(JSON.stringify(rows));
      const seg = rows.find((r) => r.userfield === `blind transfer by ${bob!.number} to 700`);
      assert.ok(seg && seg.src === alice!.number && seg.dst === bob!.number && seg.disposition === 'ANSWERED', 'the segment with Bob, ended by the park');
      const retrieval = rows.find((r) => r.dst === '701');
      assert.ok(retrieval, 'Carol dialled the slot');
      assert.equal(retrieval.src, carol!.number);
      assert.equal(retrieval.lastapp, 'ParkedCall');
      assert.equal(retrieval.disposition, 'ANSWERED');
      assert.ok(retrieval.billsec >= 2, `Carol talked to Alice (${retrieval.billsec} s)`);
      const aliceRow = rows.find((r) => r.src === alice!.number && r !== seg);
      if (direct) {
        // the direct call ended at the park; Alice's parked part is a row of its own, from the park to the end
        assert.equal(pal.events().filter((e) => e.event === 'channel-bridged').length, 0, 'no Dial() bridge: a direct call');
        assert.ok(
          aliceRow && aliceRow.dst === '700' && aliceRow.lastapp === 'Transfer' && aliceRow.disposition === 'ANSWERED' && aliceRow.billsec >= 4,
          `Alice's parked call lasted through retrieval (${JSON.stringify(aliceRow)})`,
        );
        return;
      }
      assert.ok(
        aliceRow && aliceRow.dst === bob!.number && aliceRow.disposition === 'ANSWERED' && aliceRow.billsec >= 6,
        `Alice's channel lasted through park and retrieval (${aliceRow?.billsec} s)`,
      );
    },
    '',
    '',
    direct,
  );
}

test('park by blind transfer to 700: Bob hears the slot, Alice hears music, Carol dials 701 and talks to Alice; CDRs', { timeout: 120_000 }, async (t) => {
  await parkFlow(t, false);
});

test('park of a direct B2BUA call by blind REFER to 700 (no dialplan line): Bob hears the slot, Alice music; Carol dials 701 and talks to Alice; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await parkFlow(t, true);
});

/** Bob parks Alice (a Dial() call, or a direct one); nobody takes her; after parkingtime she rings Bob again */
async function parkTimeout(t: TestContext, direct: boolean): Promise<void> {
  const yaml = 'office:\n  parking:\n    parkingtime: 3\n    parkpos: 801-802\n    parkext: 800';
  await office(
    t,
    2,
    yaml,
    async (pal, [alice, bob], phones, rtp) => {
      const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
      const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp + 100);
      phones.push(a, b);
      // the configured lot: 800 parks in 801
      await a.dial(`sip:${bob!.number}@${pal.target}`);
      await a.waitEvent('CALL_ESTABLISHED', 8000);
      await b.waitEvent('CALL_ESTABLISHED', 8000);
      await sleep(1500);
      const bobMark = b.mark();
      await b.mustCommand('transfer', `sip:800@${pal.target}`);
      const parked = await pal.waitForEvent((e) => e.event === 'call-parked', 5000);
      const parkedAt = Date.now();
      assert.equal(parked.slot, '801');
      await b.waitEvent('CALL_CLOSED', 10_000, bobMark);
      const ringMark = b.mark();
      // Bob's phone rings again (auto-answers): Alice's call comes back
      const back = await b.waitEvent((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_ESTABLISHED', 15_000, ringMark);
      const after = Date.now() - parkedAt;
      t.diagnostic(`rung back after ${after} ms (parkingtime 3 s)`);
      assert.ok(after >= 2500 && after <= 6000, `the ring-back came after the park timeout (${after} ms)`);
      assert.match(String(back.peeruri ?? ''), new RegExp(`sip:${alice!.number}@`), "the ring-back shows Alice's number");
      const timeout = pal.events().find((e) => e.event === 'parked-call-timeout');
      assert.ok(timeout && timeout.parker === bob!.number && timeout.comeback === true);
      await b.waitEvent('CALL_ESTABLISHED', 8000, ringMark);
      await sleep(3000);
      assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice was never hung up');
      await b.hangup();
      await a.waitEvent('CALL_CLOSED', 8000);
      const decs = b.recordings().dec;
      assert.ok(decs.length >= 2, `Bob had two calls (${decs.length} recordings)`);
      const last = decs.sort().at(-1)!;
      assert.ok(near(tailHz(last, 2000), TONE_ALICE), `Bob hears Alice on the ring-back (${tailHz(last, 2000)} Hz)`);
      assert.ok(near(tailHz(a.recordings().dec[0]!, 2000), TONE_BOB), 'Alice hears Bob again');
      assert.ok(pal.events().some((e) => e.event === 'parked-call-comeback' && e.status === 'ANSWER'));
      const rows = await waitCdrRows<Row>(pal, 2);
      t.diagnostic(JSON.stringify(rows));
      const aliceRow = rows.find((r) => r.src === alice!.number && (direct ? r.dst === '800' : r.userfield.startsWith('DIALSTATUS')));
      assert.ok(aliceRow && aliceRow.disposition === 'ANSWERED' && aliceRow.dstchannel.startsWith(`SIP/${bob!.number}`), "Alice's channel ends bridged to Bob again");
    },
    '',
    '',
    direct,
  );
}

test('park timeout: nobody takes the slot, after parkingtime (3 s) Bob is rung back with Alice and they talk', { timeout: 120_000 }, async (t) => {
  await parkTimeout(t, false);
});

test('park timeout of a direct B2BUA call: after parkingtime (3 s) Bob is rung back with Alice and they talk', { timeout: 120_000 }, async (t) => {
  await parkTimeout(t, true);
});

/**
 * Alice rings Bob; Carol (Bob's pickup group) answers with *8; Dave (no
 * group) gets nothing from *8 but takes the next call with **1002. The
 * calls are Dial()s of the dialplan, or (`direct`) the B2BUA's own calls,
 * whose ringing caller becomes a channel when picked up.
 */
async function pickupFlow(t: TestContext, direct: boolean): Promise<void> {
  const yaml = 'office:\n  pickup:\n    groups:\n      sales: [1002, 1003]';
  await office(
    t,
    4,
    yaml,
    async (pal, [alice, bob, carol, dave], phones, rtp) => {
      const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
      const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp + 100, 'manual');
      const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp + 200);
      const d = await phone(pal, 'dave', dave!, TONE_DAVE, rtp + 300);
      phones.push(a, b, c, d);

      // 1. group pickup
      await a.dial(`sip:${bob!.number}@${pal.target}`);
      await b.waitEvent('CALL_INCOMING', 8000);
      // Dave is in no group with Bob: *8 reaches Palisade and takes nothing; Bob keeps ringing
      const dMark = d.mark();
      await d.dial(`sip:*8@${pal.target}`);
      await pal.waitForEvent((e) => e.event === 'pickup-nothing' && e.by === dave!.number, 8000);
      await d.waitEvent('CALL_CLOSED', 8000, dMark);
      assert.ok(!b.events.some((e) => e.type === 'CALL_CLOSED'), 'Bob still rings after Dave tried');
      const cMark = c.mark();
      await c.dial(`sip:*8@${pal.target}`);
      await c.waitEvent('CALL_ESTABLISHED', 8000, cMark);
      await a.waitEvent('CALL_ESTABLISHED', 8000);
      await b.waitEvent('CALL_CLOSED', 8000); // Bob's phone stops ringing (CANCEL)
      const picked = await pal.waitForEvent((e) => e.event === 'channel-picked-up', 5000);
      assert.equal(picked.extension, carol!.number);
      await sleep(3000);
      await c.hangup();
      await a.waitEvent('CALL_CLOSED', 8000);
      assert.ok(near(tailHz(c.recordings().dec.sort().at(-1)!, 2000), TONE_ALICE), 'Carol hears Alice');
      assert.ok(near(tailHz(a.recordings().dec[0]!, 2000), TONE_CAROL), 'Alice hears Carol');
      assert.ok(!b.events.some((e) => e.type === 'CALL_ESTABLISHED'), 'Bob never answered');

      // 2. directed pickup by Dave
      const aMark = a.mark();
      const bMark = b.mark();
      await a.dial(`sip:${bob!.number}@${pal.target}`);
      await b.waitEvent('CALL_INCOMING', 8000, bMark);
      const dMark2 = d.mark();
      await d.dial(`sip:**${bob!.number}@${pal.target}`);
      await d.waitEvent('CALL_ESTABLISHED', 8000, dMark2);
      await a.waitEvent('CALL_ESTABLISHED', 8000, aMark);
      await b.waitEvent('CALL_CLOSED', 8000, bMark);
      await sleep(3000);
      await a.hangup();
      await d.waitEvent('CALL_CLOSED', 8000, dMark2);
      assert.ok(near(tailHz(d.recordings().dec.sort().at(-1)!, 2000), TONE_ALICE), 'Dave hears Alice');
      assert.ok(near(tailHz(a.recordings().dec.sort().at(-1)!, 2000), TONE_DAVE), 'Alice hears Dave');
      const how = pal
        .events()
        .filter((e) => e.event === 'call-picked-up')
        .map((e) => `${e.by} ${e.how} ${e.ringing}`);
      assert.deepEqual(how, [`${carol!.number} group ${bob!.number}`, `${dave!.number} directed ${bob!.number}`]);
      // the path Alice's calls took: the B2BUA's direct calls, ended by the pickups, or Dial()s of the dialplan
      const ended = pal.events().filter((e) => e.event === 'call-ended' && e.from === alice!.number);
      assert.deepEqual(
        ended.map((e) => e.cause),
        direct ? [`picked up by ${carol!.number}`, `picked up by ${dave!.number}`] : [],
      );

      const rows = await waitCdrRows<Row>(pal, direct ? 7 : 5);
      t.diagnostic(JSON.stringify(rows));
      const pickers = rows.filter((r) => r.lastapp === 'Pickup' && r.src !== alice!.number);
      assert.deepEqual(
        pickers.map((r) => [r.src, r.dst, r.disposition]),
        [
          [dave!.number, '*8', 'ANSWERED'],
          [carol!.number, '*8', 'ANSWERED'],
          [dave!.number, `**${bob!.number}`, 'ANSWERED'],
        ],
      );
      // Alice's calls as the picker's channel answered them (direct: the channel her INVITE became)
      const aliceCalls = rows.filter((r) => r.src === alice!.number && r.disposition === 'ANSWERED');
      assert.equal(aliceCalls.length, 2);
      assert.ok(aliceCalls[0]!.dstchannel.startsWith(`SIP/${carol!.number}-`), "Alice's first call was answered by Carol's channel");
      assert.ok(aliceCalls[1]!.dstchannel.startsWith(`SIP/${dave!.number}-`), "the second by Dave's");
      if (direct) {
        // and the direct calls that rang Bob, ended unanswered by the pickups
        const rang = rows.filter((r) => r.src === alice!.number && r.disposition !== 'ANSWERED');
        assert.deepEqual(
          rang.map((r) => [r.dst, r.disposition]),
          [
            [bob!.number, 'NO ANSWER'],
            [bob!.number, 'NO ANSWER'],
          ],
        );
      }
    },
    '',
    '',
    direct,
  );
}

test('pickup: Alice rings Bob; Carol (same group) answers with *8; Dave (no group) gets nothing from *8 but takes the next call with **1002', { timeout: 150_000 }, async (t) => {
  await pickupFlow(t, false);
});

test('pickup of direct B2BUA calls: Alice rings Bob (no dialplan); Carol picks up with *8, Dave with **1002; they talk; CDRs', { timeout: 150_000 }, async (t) => {
  await pickupFlow(t, true);
});

/** some 200 ms window of the recording after `fromS` seconds holds the dial tone (350 Hz beside 440 Hz) */
function heardDialTone(path: string, fromS: number): boolean {
  const w = readWav(path);
  for (let i = Math.round(fromS * 8000); i + 1600 <= w.samples.length; i += 800) {
    const p350 = goertzelPower(w.samples, i, i + 1600, 350, 8000);
    const p440 = goertzelPower(w.samples, i, i + 1600, 440, 8000);
    if (p350 > 0.3 * p440 && rms(w.samples, i, i + 1600) > 0.01) return true;
  }
  return false;
}

test('## blind transfer by DTMF (Dial option t): Bob keys ##1003#, hears a dial tone; Carol rings with Alice and they talk; without t the digits just reach Alice', {
  timeout: 150_000,
}, async (t) => {
  await office(
    t,
    3,
    '',
    async (pal, [alice, bob, carol], phones, rtp) => {
      const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
      const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp + 100);
      const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp + 200);
      phones.push(a, b, c);
      await a.dial(`sip:${bob!.number}@${pal.target}`);
      await a.waitEvent('CALL_ESTABLISHED', 8000);
      await b.waitEvent('CALL_ESTABLISHED', 8000);
      await sleep(1500);
      await b.sendDtmf('##');
      await pal.waitForEvent((e) => e.event === 'feature-code' && e.kind === 'blind' && e.by === bob!.number, 5000);
      await sleep(1200); // Bob hears the dial tone before he keys the number
      await b.sendDtmf(`${carol!.number}#`);
      const incoming = await c.waitEvent((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_ESTABLISHED', 10_000);
      assert.match(String(incoming.peeruri ?? ''), new RegExp(`sip:${alice!.number}@`), "Carol sees Alice's number");
      await c.waitEvent('CALL_ESTABLISHED', 8000);
      await b.waitEvent('CALL_CLOSED', 8000); // Carol took Bob's place
      await sleep(3000);
      assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice stayed in her call');
      await a.hangup();
      await c.waitEvent('CALL_CLOSED', 8000);
      assert.ok(heardDialTone(b.recordings().dec[0]!, 0), 'Bob heard the dial tone after ##');
      assert.ok(near(tailHz(c.recordings().dec[0]!, 2000), TONE_ALICE), 'Carol hears Alice');
      assert.ok(near(tailHz(a.recordings().dec[0]!, 2000), TONE_CAROL), 'Alice hears Carol at the end');
      // Alice never heard Bob's digits after the code: the second # and the number went to the collector
      t.diagnostic(`Alice received DTMF: ${a.dtmfReceived()}`);
      assert.ok(!a.dtmfReceived().includes(carol!.number), 'the number keyed was not passed to Alice');
      const rows = await waitCdrRows<Row>(pal, 2);
      t.diagnostic(JSON.stringify(rows));
      const seg = rows.find((r) => r.userfield === `blind transfer by ${bob!.number} to ${carol!.number}`);
      assert.ok(seg && seg.src === alice!.number && seg.dst === bob!.number && seg.disposition === 'ANSWERED', 'the segment with Bob');
      const ch = rows.find((r) => r !== seg && r.src === alice!.number);
      assert.ok(ch?.dstchannel.startsWith(`SIP/${carol!.number}`) && ch.billsec >= 4, "Alice's channel ends with Carol");
    },
    't',
  );
  // the same keys without the t option: no transfer, the digits reach Alice as any DTMF
  await office(t, 3, '', async (pal, [alice, bob, carol], phones, rtp) => {
    const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
    const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp + 100);
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp + 200);
    phones.push(a, b, c);
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await a.waitEvent('CALL_ESTABLISHED', 8000);
    await b.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(1000);
    await b.sendDtmf(`##${carol!.number}#`);
    const deadline = Date.now() + 8000;
    while (!a.dtmfReceived().includes(`##${carol!.number}#`) && Date.now() < deadline) await sleep(100);
    assert.equal(a.dtmfReceived(), `##${carol!.number}#`, 'Alice received the digits through the bridge');
    await sleep(1000);
    assert.ok(!pal.events().some((e) => e.event === 'feature-code'), 'no feature code without t');
    assert.ok(!c.events.some((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_ESTABLISHED'), 'Carol was not called');
    await a.hangup();
    await b.waitEvent('CALL_CLOSED', 8000);
  });
});

test('*2 attended transfer by DTMF: Bob consults Dave (Dave hangs up: Bob is back with Alice), then Carol; Bob hangs up and Alice talks to Carol; CDRs', {
  timeout: 150_000,
}, async (t) => {
  await office(
    t,
    4,
    '',
    async (pal, [alice, bob, carol, dave], phones, rtp) => {
      const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
      const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp + 100);
      const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp + 200);
      const d = await phone(pal, 'dave', dave!, TONE_DAVE, rtp + 300);
      phones.push(a, b, c, d);
      await a.dial(`sip:${bob!.number}@${pal.target}`);
      await a.waitEvent('CALL_ESTABLISHED', 8000);
      await b.waitEvent('CALL_ESTABLISHED', 8000);
      await sleep(1500);
      // 1. consult Dave, who hangs up: Bob is back with Alice
      await b.sendDtmf(`*2${dave!.number}#`);
      const dIn = await d.waitEvent('CALL_ESTABLISHED', 10_000);
      assert.match(String(dIn.peeruri ?? ''), new RegExp(`sip:${bob!.number}@`), 'Dave sees Bob calling (the consultation is his call)');
      await sleep(2500);
      assert.ok(near(tailHz(d.recordings().dec[0]!, 1500), TONE_BOB), 'Dave talks to Bob');
      await d.hangup();
      await pal.waitForEvent((e) => e.event === 'transfer-failed' && e.status === 'consultation ended', 5000);
      await sleep(2500);
      assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED') && !b.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice and Bob are still in their call');
      const aw = readWav(a.recordings().dec[0]!);
      const n = aw.samples.length;
      assert.ok(near(dominantFrequency(aw, n - 12000, n), TONE_BOB), `Alice hears Bob again (${dominantFrequency(aw, n - 12000, n)} Hz)`);
      // 2. consult Carol and hang up: Alice and Carol talk
      await b.sendDtmf(`*2${carol!.number}#`);
      await c.waitEvent('CALL_ESTABLISHED', 10_000);
      await sleep(2500);
      assert.ok(near(tailHz(c.recordings().dec[0]!, 1500), TONE_BOB), 'Carol talks to Bob first');
      const aw2 = readWav(a.recordings().dec[0]!);
      const m = aw2.samples.length;
      assert.ok(
        !near(dominantFrequency(aw2, m - 12000, m), TONE_BOB) && !near(dominantFrequency(aw2, m - 12000, m), TONE_CAROL),
        'Alice hears neither Bob nor Carol while Bob consults',
      );
      await b.hangup();
      await pal.waitForEvent((e) => e.event === 'call-transferred', 5000);
      await sleep(3000);
      assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED') && !c.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice and Carol are in a call');
      await a.hangup();
      await c.waitEvent('CALL_CLOSED', 8000);
      assert.ok(near(tailHz(c.recordings().dec[0]!, 2000), TONE_ALICE), `Carol hears Alice (${tailHz(c.recordings().dec[0]!, 2000)} Hz)`);
      assert.ok(near(tailHz(a.recordings().dec[0]!, 2000), TONE_CAROL), 'Alice hears Carol at the end');
      const rows = await waitCdrRows<Row>(pal, 2);
      t.diagnostic(JSON.stringify(rows));
      const seg = rows.find((r) => r.userfield === `attended transfer by ${bob!.number} to ${carol!.number}`);
      assert.ok(seg && seg.src === alice!.number && seg.dst === bob!.number, 'the segment with Bob, ended by the attended transfer');
      const ch = rows.find((r) => r !== seg && r.src === alice!.number);
      assert.ok(ch?.dstchannel.startsWith(`SIP/${carol!.number}`), "Alice's channel ends with Carol");
    },
    't',
  );
});

test('Park() in the dialplan: Alice parks herself (7000), hears her slot, waits with music; no parker, so after parkingtime the dialplan goes on (Playback, Hangup)', {
  timeout: 90_000,
}, async (t) => {
  await office(
    t,
    2,
    'office:\n  parking:\n    parkingtime: 4',
    async (pal, [alice], phones, rtp) => {
      const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp);
      phones.push(a);
      await a.dial(`sip:7000@${pal.target}`);
      await a.waitEvent('CALL_ESTABLISHED', 8000);
      const parked = await pal.waitForEvent((e) => e.event === 'call-parked', 5000);
      const at = Date.now();
      assert.equal(parked.slot, '701');
      assert.equal(parked.parker, null);
      const view = (await controlRequest(join(pal.dir, 'control.sock'), 'parked')) as Array<{ slot: string; caller: string }>;
      assert.deepEqual(
        view.map((p) => [p.slot, p.caller]),
        [['701', alice!.number]],
      );
      const timeout = await pal.waitForEvent((e) => e.event === 'parked-call-timeout', 10_000);
      const waited = Date.now() - at;
      assert.ok(waited >= 3500 && waited <= 6000, `the timeout came after parkingtime (${waited} ms)`);
      assert.equal(timeout.comeback, false);
      // the dialplan went on: goodbye, then the hang-up
      await a.waitEvent('CALL_CLOSED', 10_000);
      const path = String(pal.events().find((e) => e.event === 'channel-ended')?.path ?? '');
      assert.match(path, /Park\|default,7000,2:Playback\|default,7000,3:Hangup/, path);
      // Alice heard speech (the slot) and then music, never silence all along
      const w = readWav(a.recordings().dec[0]!);
      assert.ok(rms(w.samples, 0, Math.min(w.samples.length, 8000 * 3)) > 0.005, 'Alice heard her slot and the music');
      assert.deepEqual(await controlRequest(join(pal.dir, 'control.sock'), 'parked'), []);
    },
    '',
    'exten => 7000,1,Park()\n same => n,Playback(goodbye)\n same => n,Hangup()\n',
  );
});
