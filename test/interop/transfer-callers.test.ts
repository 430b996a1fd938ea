// Attended transfer (REFER with Replaces, RFC 3891) when the transferor was
// called twice through the dialplan: Carol's call to Bob and Alice's call
// to Bob are both Dial() channels, Bob the far party of each. Bob (two SIPp
// phones registered in turn as 1002: uas-answer-replaced.xml answers
// Carol's call and writes its Replaces, uas-refer-replaces.xml answers
// Alice's and REFERs her to Carol with that Replaces) joins them. Both
// callers talk to Palisade's media already, so nobody is re-INVITEd: both
// leave their channels with their dialogs and media and are bridged with
// each other; both channels end with BYE to Bob only. Alice and Carol hear
// each other (baresip recordings); the CDRs show both channels and the
// joined segment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Baresip } from '../helpers/baresip.js';
import { dominantFrequency, readWav } from '../helpers/audio.js';
import { startPalisade } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { freeLocalPorts, runSipp, type SippProcess } from '../helpers/sipp.js';
import { waitFor } from '../helpers/wait.js';
import { baresipPhone, sippPhone } from '../helpers/office-phones.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TONE_ALICE = 440;
const TONE_CAROL = 700;

test('attended transfer by REFER with Replaces joining the callers of two Dial() channels: both leave their channels, talk, no re-INVITE; Bob gets BYE twice; CDRs', {
  timeout: 120_000,
}, async (t) => {
  const [alice, bob, carol] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-axfer-callers-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  const pal = await startPalisade({ users: [alice!, bob!, carol!], extraYaml: `registrar:\n  qualify_interval: 0\ndialplan:\n  file: ${conf}` });
  const [rtp] = await freeLocalPorts(1, 200);
  const phones: Baresip[] = [];
  const sipps: SippProcess[] = [];
  try {
    const a = await baresipPhone(pal, 'alice', alice!, { tone: TONE_ALICE, rtp: rtp! });
    const c = await baresipPhone(pal, 'carol', carol!, { tone: TONE_CAROL, rtp: rtp! + 100, sipTrace: true });
    phones.push(a, c);
    // Bob's first phone answers Carol and writes the Replaces naming that call
    const first = await sippPhone(pal, dir, bob!, 'uas-answer-replaced', 60);
    sipps.push(first);
    await c.dial(`sip:${bob!.number}@${pal.target}`);
    await c.waitEvent('CALL_ESTABLISHED', 10_000);
    await waitFor('the Replaces of Carol’s call', () => existsSync(join(dir, 'replaces.txt')) || undefined, 10_000);
    // the first phone leaves the registrar (its call goes on): Alice's call rings only the second
    const csv = join(dir, 'bob-unregister.csv');
    writeFileSync(csv, sippCsv([bob!]));
    const un = await runSipp({ scenario: 'unregister', target: pal.target, inf: [csv], calls: 1, rate: 10, timeoutS: 20, dir });
    assert.equal(un.stats?.successful, 1, `unregister: ${un.errors}`);
    const second = await sippPhone(pal, dir, bob!, 'uas-refer-replaces', 60, { set: { target: carol!.number } });
    sipps.push(second);
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await a.waitEvent('CALL_ESTABLISHED', 10_000);
    const done = await pal
      .waitForEvent((e) => e.event === 'call-transferred', 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${pal.lines.slice(-20).join('\n')}`);
      });
    t.diagnostic(JSON.stringify(done));
    assert.equal(pal.events().filter((e) => e.event === 'channel-bridged').length, 2, 'both calls were Dial() bridges');
    const talkFrom = Date.now();
    await sleep(3000);
    assert.ok(
      !a.events.some((e) => e.type === 'CALL_CLOSED') && !c.events.some((e) => e.type === 'CALL_CLOSED'),
      `Alice and Carol are still in a call\n${pal.lines.slice(-12).join('\n')}`,
    );
    // both callers' media was Palisade's already: Carol received no INVITE at all (no re-INVITE)
    const toCarol = c.sipTrace().filter((m) => m.startLine.startsWith('INVITE ') && m.dst === `127.0.0.1:${c.opts.sipPort}`);
    assert.equal(toCarol.length, 0, 'Carol was not re-INVITEd');
    await a.hangup();
    await c.waitEvent('CALL_CLOSED', 8000);
    const talkMs = Date.now() - talkFrom;

    // Bob: the REFER got 202, NOTIFY sipfrag 100 then 200, then BYE; his first call got BYE too
    const r2 = await second.stop();
    assert.equal(r2.stats?.successful, 1, `Bob's REFER: ${r2.errors.slice(0, 1500)}`);
    assert.match(r2.messages, /NOTIFY [\s\S]*SIP\/2\.0 100 Trying[\s\S]*NOTIFY [\s\S]*SIP\/2\.0 200 OK/, 'sipfrag 100 then 200');
    const r1 = await first.stop();
    assert.equal(r1.stats?.successful, 1, `Bob's first call ended by Palisade's BYE: ${r1.errors.slice(0, 1500)}`);
    assert.match(r1.messages, /^BYE sip:/m);

    // they hear each other at the end
    const span = (n: number) => Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6));
    const carolHeard = readWav(c.recordings().dec[0]!);
    const nC = carolHeard.samples.length;
    const hzC = dominantFrequency(carolHeard, nC - span(nC), nC);
    assert.ok(Math.abs(hzC - TONE_ALICE) <= 10, `Carol hears Alice's tone at the end (${hzC} Hz)`);
    const aliceHeard = readWav(a.recordings().dec[0]!);
    const nA = aliceHeard.samples.length;
    const hzA = dominantFrequency(aliceHeard, nA - span(nA), nA);
    assert.ok(Math.abs(hzA - TONE_CAROL) <= 10, `Alice hears Carol's tone at the end (${hzA} Hz)`);

    // CDRs: Carol's and Alice's channels (Dial() answered by Bob), then the joined segment
    const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = await waitFor(
        '3 CDR rows',
        () => {
          const r = db.prepare('SELECT src, dst, lastapp, userfield, disposition, billsec FROM cdr ORDER BY id').all() as Array<Record<string, string | number>>;
          return r.length >= 3 ? r : undefined;
        },
        10_000,
      );
      t.diagnostic(JSON.stringify(rows));
      for (const caller of [carol!, alice!])
        assert.ok(
          rows.some((x) => x.src === caller.number && x.dst === bob!.number && x.lastapp === 'Dial' && x.disposition === 'ANSWERED'),
          `${caller.number}'s channel`,
        );
      const how = `attended transfer by ${bob!.number} to ${carol!.number}`;
      assert.ok(
        rows.some((x) => x.src === alice!.number && x.dst === carol!.number && x.lastapp === 'Transfer' && x.userfield === how && Number(x.billsec) >= 2),
        'the joined segment Alice–Carol',
      );
    } finally {
      db.close();
    }
  } finally {
    for (const p of phones) await p.stop();
    for (const s of sipps) await s.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
