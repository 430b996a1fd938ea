// Pickup by a busy-lamp key (RFC 4235 + RFC 3891), with SIPp phones: a
// caller (Alice), a callee (Bob) with two phones that ring with 180 and
// never answer, and a picker (Carol, in Bob's pickup group) whose BLF key
// watches Bob: the dialog-info NOTIFY gives each early dialog's call-id,
// local-tag and remote-tag, and Carol's INVITE with Replaces built from the
// first takes the call. Before that, Dave (in no group) sends the same
// Replaces and Carol one naming no dialog: both get the same 481, and Bob
// still rings (the pickup after them works with the same dialog). Then both
// of Bob's phones get CANCEL, Alice gets 200 and talks with Carol through
// Palisade (RTP both ways in a tshark capture), and the CDRs show the
// pickup. Once for a direct B2BUA call and once for a dialplan Dial(). And
// a Replaces with early-only naming an answered call: 486, the call goes on.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { ask, sippPhone } from '../helpers/office-phones.js';
import { startCapture, stopCapture } from '../helpers/tshark.js';
import { waitCdrRows } from '../helpers/cdr-rows.js';
import { spawnSync } from 'node:child_process';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  src: string;
  dst: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  disposition: string;
  userfield: string;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** the dialog-info bodies of the NOTIFYs in a SIPp message trace, in order */
function notifyBodies(messages: string): string[] {
  return messages
    .split(/^-{10,}.*$/m)
    .filter((b) => /^NOTIFY /m.test(b) && /^Event:\s*dialog/im.test(b))
    .map((b) => b.slice(b.indexOf('<?xml')));
}

/** one INVITE with Replaces from pickup-replaces.txt, as `user`; the status line it got */
async function press(pal: PalisadeProcess, user: TestUser, ringing: string, o: { mediaPort?: number; talkMs?: number } = {}): Promise<{ status: string; r: SippResult }> {
  const csv = join(pal.dir, `picker-${user.number}.csv`);
  writeFileSync(csv, sippCsv([user]));
  const r = await runSipp({
    scenario: 'call-pickup-uac',
    target: pal.target,
    inf: [csv],
    service: ringing,
    calls: 1,
    rate: 1,
    pauseMs: o.talkMs ?? 0,
    mediaPort: o.mediaPort,
    set: o.talkMs ? { rtp_pcap: '1' } : undefined,
    traceLogs: true,
    traceMsg: true,
    timeoutS: 30,
    dir: pal.dir,
  });
  assert.equal(r.stats?.successful, 1, `${user.number}'s INVITE with Replaces: ${r.errors}`);
  const status = /pickup-result: (.+)/.exec(r.logs)?.[1]?.trim() ?? '';
  return { status, r };
}

async function blfPickup(t: TestContext, direct: boolean): Promise<void> {
  const users = makeUsers(4, { first: direct ? 1761 : 1771 });
  const [alice, bob, carol, dave] = users as [TestUser, TestUser, TestUser, TestUser];
  const dir = mkdtempSync(join(tmpdir(), 'pal-blfpick-'));
  const conf = join(dir, 'extensions.conf');
  // the hint in a context of its own: without a [default] context the call stays a direct B2BUA call
  writeFileSync(conf, `[lamps]\nexten => ${bob.number},hint,SIP/${bob.number}\n${direct ? '' : '[default]\nexten => _17XX,1,Dial(SIP/${EXTEN},40)\n'}`);
  const pal = await startPalisade({
    users,
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'dialplan:',
      `  file: ${conf}`,
      'office:',
      '  pickup:',
      '    directed_needs_group: true',
      '    groups:',
      `      sales: [${bob.number}, ${carol.number}]`,
    ].join('\n'),
  });
  let capture: Awaited<ReturnType<typeof startCapture>> | null = null;
  const stops: Array<() => Promise<unknown>> = [];
  try {
    // Bob has two phones registered: the call forks to both
    const callee = await sippPhone(pal, dir, bob, 'uas-ring-no-answer', 60);
    stops.push(() => callee.stop());
    const callee2 = await sippPhone(pal, dir, bob, 'uas-ring-no-answer', 60);
    stops.push(() => callee2.stop());
    const [callerMedia, pickerMedia] = await freeLocalPorts(2, 4);
    const pcap = join(dir, 'media.pcap');
    capture = await startCapture(pcap, `udp port ${callerMedia} or udp port ${pickerMedia}`);
    const callerCsv = join(dir, 'caller.csv');
    writeFileSync(callerCsv, sippCsv([alice], { peers: [bob.number] }));
    const caller = await startSipp({
      scenario: 'call-callee-bye-uac',
      target: pal.target,
      inf: [callerCsv],
      calls: 1,
      rate: 1,
      mediaPort: callerMedia,
      rtpEcho: true,
      traceMsg: true,
      timeoutS: 60,
      dir,
    });
    stops.push(() => caller.stop());
    // both of Bob's phones ring: the lamp shows two early dialogs
    await until('Bob ringing', async () => {
      const lamps = (await ask(pal, 'blf')) as Array<{ resource: string; dialogs: string[] }>;
      const early = lamps.find((l) => l.resource === bob.number)?.dialogs.filter((d) => d === `recipient early ${alice.number}`) ?? [];
      return early.length === 2 ? true : undefined;
    });

    // Carol's BLF key watches Bob: the NOTIFY names the early dialog
    const watchCsv = join(pal.dir, 'watch.csv');
    writeFileSync(watchCsv, sippCsv([carol]));
    const watcher = await startSipp({
      scenario: 'blf-pickup-watch',
      target: pal.target,
      inf: [watchCsv],
      set: { watch: bob.number },
      calls: 1,
      rate: 1,
      traceMsg: true,
      timeoutS: 90,
      dir: pal.dir,
    });
    stops.push(() => watcher.stop());
    const file = join(pal.dir, 'pickup-replaces.txt');
    const replaces = await until('the Replaces from the NOTIFY', () =>
      existsSync(file) && readFileSync(file, 'utf8').includes('from-tag=') ? readFileSync(file, 'utf8') : undefined,
    );
    t.diagnostic(`Replaces: ${replaces}`);
    const m = /^([^;]+);to-tag=([^;]+);from-tag=([^;]+)$/.exec(replaces);
    assert.ok(m, `call-id;to-tag;from-tag: ${replaces}`);

    // Dave is in no pickup group: 481, and the refusal reached Palisade's pickup rules
    const refused = await press(pal, dave, bob.number);
    assert.match(refused.status, /^481 /);
    await pal.waitForEvent((e) => e.event === 'pickup-refused' && e.by === dave.number, 5000);
    // a Replaces naming no dialog (another call-id), even from Carol: the same answer
    writeFileSync(file, `nosuch-${m[1]};to-tag=${m[2]};from-tag=${m[3]}`);
    const unknown = await press(pal, carol, bob.number);
    assert.equal(unknown.status, refused.status, 'unknown and not permitted look the same');
    await pal.waitForEvent((e) => e.event === 'pickup-nothing' && e.by === carol.number && e.how === 'replaces', 5000);
    assert.doesNotMatch(`${refused.r.messages}${unknown.r.messages}`, /^SIP\/2\.0 200/m, 'neither was answered');

    // Carol presses the key: Bob's phone is cancelled, Alice talks with Carol
    writeFileSync(file, replaces);
    const picked = await press(pal, carol, bob.number, { mediaPort: pickerMedia, talkMs: 4000 });
    assert.match(picked.status, /^200 /);
    assert.match(picked.r.messages, new RegExp(`^P-Asserted-Identity: <sip:${alice.number}@`, 'mi'), 'the picker is told who calls');
    const a = await caller.done;
    assert.equal(a.stats?.successful, 1, `Alice's call was answered and ended by Palisade: ${a.errors}`);
    assert.match(a.messages, /^SIP\/2\.0 200 OK/m);
    assert.match(a.messages, /^ACK /m);
    // both of Bob's phones were rung once and cancelled, one of them in the dialog the Replaces named
    const cancelled: string[] = [];
    for (const phone of [callee, callee2]) {
      const b = await phone.stop();
      assert.equal(b.stats?.successful, 1, `Bob's phone rang and was cancelled: ${b.errors}`);
      assert.equal((b.messages.match(/^INVITE sip:/gm) ?? []).length, 1, 'rung once');
      const cancel = b.messages.split(/^-{10,}.*$/m).find((x) => /^CANCEL /m.test(x)) ?? '';
      cancelled.push(/^Call-ID:\s*(\S+)/im.exec(cancel)?.[1] ?? '');
    }
    assert.ok(cancelled.includes(m[1]!), `a CANCEL in the named dialog: ${cancelled.join(', ')} / ${m[1]}`);
    assert.equal(new Set(cancelled.filter((c) => c !== '')).size, 2, 'each phone its own CANCEL');

    await stopCapture(capture);
    capture = null;
    // tshark reads the capture: one line per UDP datagram, source and destination port
    const fields = spawnSync('tshark', ['-r', pcap, '-Y', 'udp', '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(fields.status, 0, fields.stderr);
    const udp = fields.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [src, dst] = l.split('\t').map(Number);
        return { srcPort: src!, dstPort: dst! };
      });
    const toPicker = udp.filter((p) => p.dstPort === pickerMedia && p.srcPort !== callerMedia).length;
    const toCaller = udp.filter((p) => p.dstPort === callerMedia && p.srcPort !== pickerMedia).length;
    t.diagnostic(`RTP from Palisade: ${toCaller} packets to Alice, ${toPicker} to Carol`);
    assert.ok(toCaller > 50, `Carol's audio reached Alice through Palisade (${toCaller})`);
    assert.ok(toPicker > 50, `Alice's echo of it reached Carol (${toPicker})`);

    // the lamp: early with the dialog's ids, then dark once Carol has the call
    const w = await watcher.done;
    const bodies = notifyBodies(w.messages);
    assert.match(bodies[0] ?? '', new RegExp(`call-id="${m[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" local-tag="${m[3]}" remote-tag="${m[2]}" direction="recipient"`));
    assert.match(bodies[0] ?? '', new RegExp(`<remote><identity>sip:${alice.number}@`), 'the caller as remote identity');
    assert.equal((bodies[0] ?? '').match(/local-tag="[^"]+" remote-tag="[^"]+" direction="recipient">\s*<state>early/g)?.length, 2, 'one early dialog per phone');
    assert.doesNotMatch(bodies.at(-1) ?? '', /<dialog /, 'Bob rings no more');

    // the CDRs: Alice's call picked up by Carol
    const rows = await waitCdrRows<Row>(pal, direct ? 3 : 2);
    t.diagnostic(JSON.stringify(rows));
    const pickerRow = rows.find((r) => r.src === carol.number && r.lastapp === 'Pickup');
    assert.ok(pickerRow, "Carol's INVITE is a channel that ran a pickup");
    assert.equal(pickerRow.lastdata, alice.number);
    assert.equal(pickerRow.disposition, 'ANSWERED');
    if (direct) {
      // the direct call ends unanswered, taken by Carol; the caller's INVITE goes on as a channel joined with hers
      const rung = rows.find((r) => r.src === alice.number && r.dst === bob.number && r.lastapp === 'Dial');
      assert.equal(rung?.disposition, 'NO ANSWER');
      assert.equal(rung?.userfield, `picked up by ${carol.number}`);
      const joined = rows.find((r) => r.src === alice.number && r.lastapp === 'Pickup');
      assert.equal(joined?.lastdata, carol.number);
      assert.equal(joined?.disposition, 'ANSWERED');
      assert.equal(joined?.dstchannel, pickerRow.channel);
    } else {
      const dial = rows.find((r) => r.src === alice.number && r.lastapp === 'Dial');
      assert.equal(dial?.disposition, 'ANSWERED');
      assert.equal(dial?.dstchannel, pickerRow.channel, "the Dial() was answered by Carol's channel");
    }
  } finally {
    if (capture) await stopCapture(capture);
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('BLF pickup of a direct call: INVITE with Replaces from the dialog NOTIFY; outsider and unknown dialog get the same 481; Bob cancelled, Alice talks with Carol', {
  timeout: 150_000,
}, async (t) => {
  await blfPickup(t, true);
});

test("BLF pickup of a dialplan Dial(): the same, on a channel's ringing leg", { timeout: 150_000 }, async (t) => {
  await blfPickup(t, false);
});

test('RFC 3891 §3 early-only: a Replaces naming an answered call with early-only gets 486 and the call goes on', { timeout: 90_000 }, async () => {
  const users = makeUsers(3, { first: 1781 });
  const [alice, bob, carol] = users as [TestUser, TestUser, TestUser];
  const dir = mkdtempSync(join(tmpdir(), 'pal-earlyonly-'));
  const pal = await startPalisade({ users, extraYaml: 'registrar:\n  qualify_interval: 0' });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    // Bob answers and hangs up after 6 s; Alice's phone writes the Replaces naming her dialog as Palisade sees it
    const callee = await sippPhone(pal, dir, bob, 'uas-bye', 60, { extraArgs: ['-d', '6000'] });
    stops.push(() => callee.stop());
    const callerCsv = join(pal.dir, 'alice.csv');
    writeFileSync(callerCsv, sippCsv([alice], { peers: [bob.number] }));
    const caller = await startSipp({ scenario: 'call-replaced-uac', target: pal.target, inf: [callerCsv], calls: 1, rate: 1, traceMsg: true, timeoutS: 60, dir: pal.dir });
    stops.push(() => caller.stop());
    const named = join(pal.dir, 'replaces-header.txt');
    const replaces = await until('the answered dialog', () => (existsSync(named) && readFileSync(named, 'utf8').includes('from-tag=') ? readFileSync(named, 'utf8') : undefined));
    writeFileSync(join(pal.dir, 'pickup-replaces.txt'), `${replaces};early-only`);
    const pressed = await press(pal, carol, bob.number);
    assert.match(pressed.status, /^486 /);
    await pal.waitForEvent((e) => e.event === 'replaces-early-only' && e.by === carol.number, 5000);
    // the call was left as it was: Bob's BYE reaches Alice through it
    const a = await caller.done;
    assert.equal(a.stats?.successful, 1, `Alice's call went on until Bob hung up: ${a.errors}`);
    assert.match(a.messages, /^BYE sip:/m);
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
