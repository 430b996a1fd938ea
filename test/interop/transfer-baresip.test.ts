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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Baresip } from '../helpers/baresip.js';
import { dominantFrequency, readWav } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { freeLocalPorts, runSipp } from '../helpers/sipp.js';
import { waitFor } from '../helpers/wait.js';
import { baresipPhone } from '../helpers/office-phones.js';

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
export async function cdrRows(pal: PalisadeProcess, count: number): Promise<CdrRow[]> {
  const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
  try {
    return await waitFor(
      `${count} CDR rows`,
      () => {
        const rows = db.prepare('SELECT src, dst, lastapp, lastdata, disposition, userfield, billsec, uniqueid FROM cdr ORDER BY id').all() as CdrRow[];
        return rows.length >= count ? rows : undefined;
      },
      10_000,
    );
  } finally {
    db.close();
  }
}

const TONE_ALICE = 440;
const TONE_BOB = 1000;
const TONE_CAROL = 700;

async function blindTransfer(t: TestContext, withDialplan: boolean): Promise<void> {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-xfer-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  const extraYaml = ['registrar:', '  qualify_interval: 0', ...(withDialplan ? ['dialplan:', `  file: ${conf}`] : [])].join('\n');
  const pal = await startPalisade({ users: [alice!, bob!, carol!], extraYaml });
  const [rtp] = await freeLocalPorts(1, 300);
  const phones: Baresip[] = [];
  try {
    const a = await phone(pal, 'alice', alice!, TONE_ALICE, rtp!);
    const b = await phone(pal, 'bob', bob!, TONE_BOB, rtp! + 100, true);
    const c = await phone(pal, 'carol', carol!, TONE_CAROL, rtp! + 200, true);
    phones.push(a, b, c);
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await a.waitEvent('CALL_ESTABLISHED', 8000);
    await b.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(1500);
    const mark = c.mark();
    await b.mustCommand('transfer', `sip:${carol!.number}@${pal.target}`);
    const incoming = await c.waitEvent((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_ESTABLISHED', 8000, mark);
    t.diagnostic(`Carol: ${incoming.type} from ${String(incoming.peeruri)}`);
    await c.waitEvent('CALL_ESTABLISHED', 8000, mark);
    // Bob's call ends (Palisade's BYE after the final NOTIFY, or his own on it)
    await b.waitEvent('CALL_CLOSED', 8000);
    await pal.waitForEvent((e) => e.event === 'call-transferred', 5000);
    // the path the call took: a Dial() bridge of the dialplan, or the B2BUA's direct call
    assert.equal(
      pal.events().some((e) => e.event === 'channel-bridged'),
      withDialplan,
    );
    // Alice and Carol talk for a while; Alice's call never closed
    const talkFrom = Date.now();
    await sleep(3000);
    assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice stayed in her call');
    await a.hangup();
    await c.waitEvent('CALL_CLOSED', 8000);
    const talkMs = Date.now() - talkFrom;

    // Carol's caller ID is Alice (the transferee), not Bob
    assert.match(String(incoming.peeruri ?? ''), new RegExp(`sip:${alice!.number}@`), "Carol sees Alice's number");

    // Bob's side: 202 to his REFER, then NOTIFYs with sipfrag 100, (180,) 200, the last one terminating the subscription
    const bt = b.sipTrace();
    const referAnswer = bt.find((m) => m.startLine.startsWith('SIP/2.0 ') && m.headers.some((h) => /^cseq:\s*\d+\s+REFER/i.test(h)));
    assert.match(referAnswer?.startLine ?? '', /^SIP\/2\.0 202 /, 'the REFER got 202 Accepted');
    const bobAt = `127.0.0.1:${b.opts.sipPort}`;
    // (Palisade's unsolicited message-summary NOTIFY to a registering phone is not one of them)
    const notifies = bt.filter((m) => m.startLine.startsWith('NOTIFY ') && m.dst === bobAt && m.headers.some((h) => /^event:\s*refer\b/i.test(h)));
    t.diagnostic(`NOTIFYs to Bob: ${notifies.map((n) => `${n.src} ${n.headers.filter((h) => /^(subscription-state|event|content-type)/i.test(h)).join(', ')}`).join(' | ')}`);
    assert.ok(notifies.length >= 2, `NOTIFYs: ${notifies.length}`);
    assert.ok(
      notifies.every((n) => n.headers.some((h) => /^content-type:\s*message\/sipfrag/i.test(h))),
      'message/sipfrag bodies',
    );
    assert.match(notifies[notifies.length - 1]!.headers.find((h) => /^subscription-state/i.test(h)) ?? '', /terminated/i);
    // Carol was called by Palisade (not by Alice's phone: Alice never saw a REFER)
    assert.ok(!c.sipTrace().some((m) => m.startLine.startsWith('REFER ')));

    // Audio: Carol hears Alice; Alice, at the end of her call, hears Carol
    const carolHeard = readWav(c.recordings().dec[0]!);
    assert.ok(Math.abs(dominantFrequency(carolHeard) - TONE_ALICE) <= 10, `Carol hears Alice's tone (${dominantFrequency(carolHeard)} Hz)`);
    const aliceHeard = readWav(a.recordings().dec[0]!);
    const n = aliceHeard.samples.length;
    const tail = Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6));
    const hz = dominantFrequency(aliceHeard, n - tail, n);
    assert.ok(Math.abs(hz - TONE_CAROL) <= 10, `Alice hears Carol's tone at the end of her call (${hz} Hz)`);
    const head = dominantFrequency(aliceHeard, Math.round(0.3 * 8000), Math.round(1.2 * 8000));
    assert.ok(Math.abs(head - TONE_BOB) <= 10, `Alice heard Bob first (${head} Hz)`);

    // CDRs: the segment with Bob, ended by the transfer; the segment with Carol
    const rows = await cdrRows(pal, 2);
    if (withDialplan) {
      // the channel's CDR (Alice dialled 1002; Dial() answered) and the segment the transfer ended
      t.diagnostic(JSON.stringify(rows));
      const seg = rows.find((r) => r.userfield === `blind transfer by ${bob!.number} to ${carol!.number}`);
      assert.ok(seg && seg.src === alice!.number && seg.dst === bob!.number && seg.disposition === 'ANSWERED', 'the segment with Bob');
      const ch = rows.find((r) => r !== seg)!;
      assert.equal(ch.src, alice!.number);
      assert.equal(ch.lastapp, 'Dial');
      assert.equal(ch.disposition, 'ANSWERED');
      assert.ok(ch.billsec >= 4, `the channel lasted through both segments (${ch.billsec} s)`);
      return;
    }
    t.diagnostic(JSON.stringify(rows));
    const first = rows.find((r) => r.dst === bob!.number)!;
    const second = rows.find((r) => r.dst === carol!.number)!;
    assert.equal(first.src, alice!.number);
    assert.equal(first.disposition, 'ANSWERED');
    assert.equal(first.userfield, `blind transfer by ${bob!.number} to ${carol!.number}`);
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

test('attended transfer by REFER with Replaces (SIPp transferor): Bob calls Alice, then Carol, and joins them; Carol is re-INVITEd, they talk; CDRs', {
  timeout: 120_000,
}, async (t) => {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  // the consultation call is Bob's second call in progress: the fraud default allows one (docs/configuration.md, fraud)
  const pal = await startPalisade({ users: [alice!, bob!, carol!], extraYaml: 'registrar:\n  qualify_interval: 0\nfraud:\n  defaults: { max_outbound_calls: 2 }' });
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
    // Alice and Carol are now in one call: nobody hung up on them
    await sleep(3000);
    assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED') && !c.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice and Carol are still in a call');
    // Carol was re-INVITEd (a new offer, towards the relay of Alice's call) and said 200
    const reinvite = c.sipTrace().filter((m) => m.startLine.startsWith('INVITE ') && m.dst === `127.0.0.1:${c.opts.sipPort}`);
    assert.equal(reinvite.length, 2, "Carol's INVITEs: the call from Bob, then Palisade's re-INVITE");
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
    const rows = await cdrRows(pal, 3);
    t.diagnostic(JSON.stringify(rows));
    const how = `attended transfer by ${bob!.number} to ${carol!.number}`;
    assert.ok(rows.some((x) => x.src === bob!.number && x.dst === alice!.number && x.userfield === how));
    assert.ok(rows.some((x) => x.src === bob!.number && x.dst === carol!.number && x.userfield === `replaced: ${how}`));
    assert.ok(rows.some((x) => x.src === alice!.number && x.dst === carol!.number && x.lastapp === 'Transfer' && x.billsec >= 2));
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
  }
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
