// Ring groups, follow-me, and forwarding on busy / no answer in a dialplan
// Dial(), on a running Palisade with SIPp phones (each a registered
// extension whose answer is scripted: answers, busy, rings without an
// answer) and a SIPp UAS playing the provider behind a trunk:
//   - Dial() honours the callee's busy and no-answer forward (the no-answer
//     time cuts the first ring short)
//   - ring groups: hunt (dialled directly, a member's own ring time),
//     ringall (RingGroup() in the dialplan), the no-answer destinations
//     (another extension, a dialplan context)
//   - follow-me: the extension's phone first, then its mobile out through
//     the outbound route and trunk, judged by the call gate as a call by the
//     extension (not by the caller); with confirm, only a mobile that
//     presses 1 (RFC 4733 from SIPp) takes the call
// Each checks which phones rang, in what order, who answered, and the CDR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { ask, sippPhone } from '../helpers/office-phones.js';

/** one call from `caller` to `dialled`; resolves with SIPp's verdict and the time it took */
async function call(
  pal: PalisadeProcess,
  dir: string,
  caller: TestUser,
  dialled: string,
  scenario = 'call-auth-uac',
  set?: Record<string, string>,
): Promise<{ ok: boolean; errors: string; logs: string; ms: number }> {
  const csv = join(dir, `call-${dialled}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [dialled] }));
  const t0 = Date.now();
  const r = await runSipp({ scenario, target: pal.target, inf: [csv], calls: 1, rate: 1, pauseMs: 1000, set, traceMsg: true, traceLogs: true, timeoutS: 40, dir });
  return { ok: r.stats?.successful === 1, errors: r.errors, logs: r.logs, ms: Date.now() - t0 };
}

const count = (messages: string, re: RegExp): number => (messages.match(re) ?? []).length;
const invites = (m: string) => count(m, /^INVITE sip:/gm);
const cancels = (m: string) => count(m, /^CANCEL sip:/gm);

interface CdrRow {
  src: string;
  dst: string;
  dstchannel: string;
  disposition: string;
  lastapp: string;
}

/** the CDR rows of calls to `dst`, oldest first (waits for the rows to land) */
async function cdrTo(pal: PalisadeProcess, dst: string, n = 1): Promise<CdrRow[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT src, dst, dstchannel, disposition, lastapp FROM cdr WHERE dst = ? ORDER BY id').all(dst) as CdrRow[];
      if (rows.length >= n || Date.now() > deadline) return rows;
    } finally {
      db.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What the phones got, once each has ended the calls it was started for by
 * itself (SIPp -m): the last BYE or CANCEL may come after the caller is done,
 * and an answered call ends 2 s after its BYE (the phone's wait for a
 * retransmission). A fixed sleep lost that race on a loaded machine.
 */
const finished = async (...phones: SippProcess[]): Promise<string[]> => {
  const out: string[] = [];
  for (const p of phones) out.push((await p.finish(5000)).messages);
  return out;
};

test('Dial() honours forward on busy and on no answer (the no-answer time cuts the ring short); the CDR names the target', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-dialfwd-'));
  const [caller, busyExt, quietExt, target] = makeUsers(4, { first: 1750 });
  const plan = join(dir, 'extensions.conf');
  writeFileSync(plan, '[default]\nexten => _175X,1,Dial(SIP/${EXTEN},20)\n');
  const pal = await startPalisade({
    users: [caller!, busyExt!, quietExt!, target!],
    // no unsolicited MWI NOTIFY to a new registration: a phone started with `calls` would count it as one of its calls
    extraYaml: ['registrar:', '  qualify_interval: 0', 'voicemail:', '  mwi_unsolicited: false', 'dialplan:', `  file: ${plan}`].join('\n'),
  });
  const phones: SippProcess[] = [];
  try {
    await ask(pal, 'forward', { extension: busyExt!.number, type: 'busy', target: target!.number });
    await ask(pal, 'forward', { extension: quietExt!.number, type: 'noanswer', target: target!.number, seconds: 2 });
    const busy = await sippPhone(pal, dir, busyExt!, 'uas-busy', undefined, { calls: 1 });
    const quiet = await sippPhone(pal, dir, quietExt!, 'uas-ring-no-answer', undefined, { calls: 1 });
    const answer = await sippPhone(pal, dir, target!, 'uas-answer', undefined, { calls: 2 });
    phones.push(busy, quiet, answer);

    const b = await call(pal, dir, caller!, busyExt!.number);
    assert.ok(b.ok, `busy callee: the forward target answered: ${b.errors}`);
    const n = await call(pal, dir, caller!, quietExt!.number);
    assert.ok(n.ok, `silent callee: the forward target answered: ${n.errors}`);
    // rings 2 s (the no-answer time, not Dial()'s 20), then the target answers; the caller's 1 s pause follows
    assert.ok(n.ms >= 3000 && n.ms < 9000, `no-answer forward after 2 s, took ${n.ms} ms`);
    const [bm, qm, am] = await finished(busy, quiet, answer);
    phones.length = 0;
    assert.equal(invites(bm), 1, 'the busy extension was rung');
    assert.match(bm, /^SIP\/2\.0 486/m);
    assert.equal(invites(qm), 1, 'the silent extension was rung');
    assert.equal(cancels(qm), 1, 'and cancelled at its no-answer time');
    assert.equal(invites(am), 2, 'the forward target rang for both calls');
    assert.equal(count(am, /^BYE /gm), 2, 'and talked until the caller hung up');
    const ev = pal.events().filter((e) => e.event === 'dial-forwarded');
    assert.deepEqual(
      ev.map((e) => [e.to, e.target, e.why]),
      [
        [busyExt!.number, target!.number, 'busy'],
        [quietExt!.number, target!.number, 'no answer'],
      ],
    );
    for (const ext of [busyExt!, quietExt!]) {
      const rows = await cdrTo(pal, ext.number);
      assert.deepEqual(
        rows.map((r) => [r.src, r.dstchannel, r.disposition, r.lastapp]),
        [[caller!.number, `SIP/${target!.number}`, 'ANSWERED', 'Dial']],
      );
    }
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ring groups: hunt with a member ring time (dialled directly), ringall through RingGroup(), no-answer destinations', { timeout: 150_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-ringgroup-'));
  const [caller, quiet, answers, busy] = makeUsers(4, { first: 1760 });
  const plan = join(dir, 'extensions.conf');
  writeFileSync(
    plan,
    ['[default]', 'exten => 601,1,RingGroup(601)', ' same => n,Hangup()', '[ivr]', 'exten => s,1,Answer()', ' same => n,Wait(4)', ' same => n,Hangup()', ''].join('\n'),
  );
  writeFileSync(join(dir, 'voicemail.conf'), `[default]\n${answers!.number} => 482913,Answers\n`);
  const pal = await startPalisade({
    users: [caller!, quiet!, answers!, busy!],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'voicemail:',
      // no unsolicited MWI NOTIFY (at registration, and for the message left in 604): a phone started with `calls` would count it as one of its calls
      '  mwi_unsolicited: false',
      `  file: ${join(dir, 'voicemail.conf')}`,
      '  max_message_seconds: 5',
      'dialplan:',
      `  file: ${plan}`,
      'ring_groups:',
      '  - number: "600"',
      '    name: sales',
      '    strategy: hunt',
      '    ring_time: 10',
      `    members: [{ extension: "${quiet!.number}", ring_time: 2 }, "${answers!.number}"]`,
      '  - number: "601"',
      '    strategy: ringall',
      '    ring_time: 10',
      `    members: ["${quiet!.number}", "${answers!.number}"]`,
      '  - number: "602"',
      '    strategy: hunt',
      '    ring_time: 2',
      `    members: ["${quiet!.number}", "${busy!.number}"]`,
      `    destination: "${answers!.number}"`,
      '  - number: "603"',
      '    ring_time: 2',
      `    members: ["${quiet!.number}"]`,
      '    destination: "ivr,s,1"',
      '  - number: "604"',
      '    ring_time: 2',
      `    members: ["${quiet!.number}"]`,
      `    destination: "voicemail:${answers!.number}"`,
    ].join('\n'),
  });
  const phones: SippProcess[] = [];
  try {
    // the calls each phone takes: the silent member rings in all five groups, the answering
    // phone in 600, 601 and 602 (as destination), the busy member in 602 only
    const q = await sippPhone(pal, dir, quiet!, 'uas-ring-no-answer', undefined, { calls: 5 });
    const a = await sippPhone(pal, dir, answers!, 'uas-answer', undefined, { calls: 3 });
    const bz = await sippPhone(pal, dir, busy!, 'uas-busy', undefined, { calls: 1 });
    phones.push(q, a, bz);
    const groups = (await ask(pal, 'ringgroups')) as Array<{ number: string; strategy: string; members: string; destination: string }>;
    assert.deepEqual(
      groups.map((g) => [g.number, g.strategy, g.members, g.destination]),
      [
        ['600', 'hunt', `${quiet!.number}:2 ${answers!.number}`, 'hangup'],
        ['601', 'ringall', `${quiet!.number} ${answers!.number}`, 'hangup'],
        ['602', 'hunt', `${quiet!.number} ${busy!.number}`, answers!.number],
        ['603', 'ringall', quiet!.number, 'ivr,s,1'],
        ['604', 'ringall', quiet!.number, `voicemail:${answers!.number}`],
      ],
    );

    // 600, hunt: the first member rings its own 2 s, then the second answers
    const h = await call(pal, dir, caller!, '600');
    assert.ok(h.ok, `hunt group answered: ${h.errors}`);
    assert.ok(h.ms >= 3000, `the first member rang 2 s first (${h.ms} ms)`);
    // 601, ringall from the dialplan: both ring at once, the second answers at once
    const r = await call(pal, dir, caller!, '601');
    assert.ok(r.ok, `ringall group answered: ${r.errors}`);
    assert.ok(r.ms < 3000, `ringall answered without waiting out the silent member (${r.ms} ms)`);
    // 602: nobody answers (silent, then busy): the destination extension answers
    const d = await call(pal, dir, caller!, '602');
    assert.ok(d.ok, `destination extension answered: ${d.errors}`);
    // 603: nobody answers: the dialplan context answers
    const c = await call(pal, dir, caller!, '603');
    assert.ok(c.ok, `dialplan destination answered: ${c.errors}`);
    // 604: nobody answers: the caller leaves a message in the destination's mailbox
    // (# skips the greeting, as on a phone; SIPp's PCMA pcap is the message, then silence ends the recording)
    const v = await call(pal, dir, caller!, '604', 'call-keys-uac', { keys: '#', rtp_pcap: '1' });
    assert.ok(v.ok, `voicemail destination answered and hung up after the message: ${v.errors}`);
    const [qm, am, bm] = await finished(q, a, bz);
    phones.length = 0;
    assert.equal(invites(qm), 5, 'the silent member rang in every group');
    assert.equal(cancels(qm), 5, 'and was cancelled each time');
    assert.equal(invites(am), 3, '600, 601 and 602 (as destination) reached the answering phone');
    assert.equal(invites(bm), 1, 'the busy member rang in 602 only');
    assert.match(bm, /^SIP\/2\.0 486/m);

    const ev = pal.events();
    const rings = (g: string) => ev.filter((e) => e.event === 'ringgroup-ring' && e.group === g).map((e) => [e.members, e.ring_time]);
    assert.deepEqual(rings('600'), [
      [quiet!.number, 2],
      [answers!.number, 10],
    ]);
    assert.deepEqual(rings('601'), [[`${quiet!.number}&${answers!.number}`, 10]]);
    assert.deepEqual(rings('602'), [
      [quiet!.number, 2],
      [busy!.number, 2],
    ]);
    const done = (g: string) => ev.find((e) => e.event === 'ringgroup-done' && e.group === g);
    assert.equal(done('600')?.answered_by, answers!.number);
    assert.equal(done('601')?.answered_by, answers!.number);
    assert.equal(done('602')?.status, 'NOANSWER');
    assert.ok(ev.some((e) => e.event === 'office-destination' && e.to === answers!.number));
    assert.ok(ev.some((e) => e.event === 'office-destination' && e.to === 'ivr,s,1'));
    assert.ok(ev.some((e) => e.event === 'office-destination' && e.to === `voicemail:${answers!.number}`));

    const row = async (g: string) => (await cdrTo(pal, g)).map((x) => [x.src, x.dstchannel, x.disposition]);
    assert.deepEqual(await row('600'), [[caller!.number, `SIP/${answers!.number}`, 'ANSWERED']]);
    assert.deepEqual(await row('601'), [[caller!.number, `SIP/${answers!.number}`, 'ANSWERED']]);
    assert.deepEqual(await row('602'), [[caller!.number, `SIP/${answers!.number}`, 'ANSWERED']]);
    const ivr = await cdrTo(pal, '603');
    assert.deepEqual(
      ivr.map((x) => [x.src, x.disposition, x.lastapp]),
      [[caller!.number, 'ANSWERED', 'Wait']],
    );
    const vm = await cdrTo(pal, '604');
    assert.deepEqual(
      vm.map((x) => [x.src, x.disposition, x.lastapp]),
      [[caller!.number, 'ANSWERED', 'RingGroup']],
    );
    const boxes = (await ask(pal, 'voicemail-list')) as Array<Record<string, unknown>>;
    const box = boxes.find((b) => b.mailbox === `${answers!.number}@default`);
    assert.equal(box?.new, 1, `a message waits in ${answers!.number}: ${JSON.stringify(boxes)}`);
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('follow-me: the extension rings first, then its mobile through the outbound route and a SIPp provider; the call gate judges the outside leg as the extension', {
  timeout: 150_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-followme-'));
  const users: TestUser[] = [1780, 1781, 1782, 1783, 1784].map((n) => ({
    number: String(n),
    secret: generateSecret({ extension: String(n), name: `Test ${n}` }),
    name: `Test ${n}`,
  }));
  const [caller, owner, strict, confirmer, unconfirmed] = users as [TestUser, TestUser, TestUser, TestUser, TestUser];
  const [pProvider, pSilent] = await freeLocalPorts(2);
  // the mobile network presses 1 after answering; the other answers and never presses anything
  // (two mobiles answer at the provider, one landline call; nothing else reaches either)
  const provider = await startSipp({ scenario: 'uas-answer-dtmf1', target: '127.0.0.1', port: pProvider, rtpEcho: true, traceMsg: true, calls: 2, timeoutS: 90, dir });
  const silent = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: pSilent, rtpEcho: true, traceMsg: true, calls: 1, timeoutS: 90, dir });
  const pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      // no unsolicited MWI NOTIFY to a new registration: the owner's phone, started with `calls: 1`, would count it as its call
      'voicemail:',
      '  mwi_unsolicited: false',
      'extensions:',
      // the caller may call abroad; the follow-me owners may not (the defaults)
      `  - { number: "${caller.number}", name: Caller, secret: "${caller.secret}", context: office, call_permissions: [local, national, mobile, international] }`,
      `  - { number: "${owner.number}", name: Owner, secret: "${owner.secret}", context: office }`,
      `  - { number: "${strict.number}", name: Strict, secret: "${strict.secret}", context: office }`,
      `  - { number: "${confirmer.number}", name: Confirmer, secret: "${confirmer.secret}", context: office }`,
      `  - { number: "${unconfirmed.number}", name: Unconfirmed, secret: "${unconfirmed.secret}", context: office }`,
      'trunks:',
      '  - name: provider',
      '    host: 127.0.0.1',
      `    port: ${pProvider}`,
      '  - name: landline',
      '    host: 127.0.0.1',
      `    port: ${pSilent}`,
      'routes:',
      '  outbound:',
      '    - name: out',
      '      match: ["_07X."]',
      '      trunks: [provider]',
      '    - name: fixed',
      '      match: ["_0X."]',
      '      trunks: [landline]',
      'follow_me:',
      `  - extension: "${owner.number}"`,
      '    steps:',
      `      - { number: "${owner.number}", ring_time: 2 }`,
      '      - { number: "07700900123", ring_time: 15 }',
      `  - extension: "${strict.number}"`,
      '    steps:',
      '      - { number: "00441632960123", ring_time: 5 }',
      `  - extension: "${confirmer.number}"`,
      '    confirm: true',
      '    steps: [{ number: "07700900124", ring_time: 15 }]',
      `  - extension: "${unconfirmed.number}"`,
      '    confirm: true',
      '    steps: [{ number: "03012345678", ring_time: 4 }]',
    ].join('\n'),
  });
  const phones: SippProcess[] = [provider, silent];
  try {
    const own = await sippPhone(pal, dir, owner, 'uas-ring-no-answer', undefined, { calls: 1 });
    phones.push(own);
    const list = (await ask(pal, 'followme')) as Array<{ extension: string; steps: string; confirm: boolean }>;
    assert.deepEqual(
      list.map((f) => [f.extension, f.steps, f.confirm]),
      [
        [owner.number, `${owner.number}:2 07700900123:15`, false],
        [strict.number, '00441632960123:5', false],
        [confirmer.number, '07700900124:15', true],
        [unconfirmed.number, '03012345678:4', true],
      ],
    );

    // the caller dials the owner: its phone rings 2 s, then the mobile answers at the provider
    const r = await call(pal, dir, caller, owner.number);
    assert.ok(r.ok, `the mobile answered: ${r.errors}\n${pal.lines.slice(-20).join('\n')}`);
    assert.ok(r.ms >= 3000, `the own phone rang first (${r.ms} ms)`);

    // the strict owner's only step is abroad: refused as that extension's call, though the caller may call abroad
    const s = await call(pal, dir, caller, strict.number, 'call-expect-uac');
    assert.ok(s.ok, s.errors);
    assert.match(s.logs, /call-result: 480/, 'nobody answered: the caller hears 480');

    // confirmation: the mobile answers, hears "press 1", presses 1: connected
    const c = await call(pal, dir, caller, confirmer.number);
    assert.ok(c.ok, `the confirmed mobile took the call: ${c.errors}`);
    // the landline answers but never presses 1: hung up when the step's 4 s are over, the caller is not connected
    const u = await call(pal, dir, caller, unconfirmed.number, 'call-expect-uac');
    assert.ok(u.ok, u.errors);
    assert.match(u.logs, /call-result: 480/, 'an unconfirmed answer does not take the call');
    assert.ok(u.ms >= 4000, `asked until the step's ring time ran out (${u.ms} ms)`);
    const [om, pm, lm] = await finished(own, provider, silent);
    phones.length = 0;
    assert.equal(invites(om), 1, "the owner's phone rang");
    assert.equal(cancels(om), 1, 'and was cancelled after its 2 s');
    assert.equal(count(pm, /^INVITE sip:07700900123@127\.0\.0\.1:\d+ SIP\/2\.0/gm), 1, 'the provider got the mobile number');
    assert.equal(count(pm, /^INVITE sip:07700900124@127\.0\.0\.1:\d+ SIP\/2\.0/gm), 1, "the confirming extension's mobile");
    assert.equal(invites(pm), 2, 'and nothing for the number abroad');
    assert.equal(count(pm, /^BYE /gm), 2, 'each mobile talked until the caller hung up');
    assert.equal(count(lm, /^INVITE sip:03012345678@127\.0\.0\.1:\d+ SIP\/2\.0/gm), 1, 'the landline was called through the second route');
    assert.equal(count(lm, /^BYE /gm), 1, 'and hung up by Palisade when nobody pressed 1');

    const ev = pal.events();
    assert.deepEqual(
      ev.filter((e) => e.event === 'followme-ring').map((e) => [e.extension, e.to, e.via]),
      [
        [owner.number, owner.number, 'extension'],
        [owner.number, '07700900123', 'route'],
        [strict.number, '00441632960123', 'route'],
        [confirmer.number, '07700900124', 'route'],
        [unconfirmed.number, '03012345678', 'route'],
      ],
    );
    assert.ok(ev.some((e) => e.event === 'route-attempt' && e.route === 'out' && e.trunk === 'provider' && e.status === 'ANSWER'));
    assert.deepEqual(
      ev.filter((e) => e.event === 'followme-confirm').map((e) => [e.to, e.accepted]),
      [
        ['07700900124', true],
        ['03012345678', false],
      ],
    );
    const refused = ev.find((e) => e.event === 'followme-refused');
    assert.equal(refused?.extension, strict.number);
    assert.match(String(refused?.verdict), /international|permission|class/i);

    const rows = await cdrTo(pal, owner.number);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.src, caller.number);
    assert.equal(rows[0]!.disposition, 'ANSWERED');
    assert.match(rows[0]!.dstchannel, /provider/, 'the call was bridged to the trunk leg');
    const confirmed = await cdrTo(pal, confirmer.number);
    assert.deepEqual(
      confirmed.map((x) => [x.src, x.disposition, /provider/.test(x.dstchannel)]),
      [[caller.number, 'ANSWERED', true]],
    );
    const declined = await cdrTo(pal, unconfirmed.number);
    assert.deepEqual(
      declined.map((x) => [x.src, x.disposition]),
      [[caller.number, 'NO ANSWER']],
    );
    const strictRows = await cdrTo(pal, strict.number);
    assert.deepEqual(
      strictRows.map((x) => [x.src, x.disposition]),
      [[caller.number, 'NO ANSWER']],
    );
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
