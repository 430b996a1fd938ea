// SIP MESSAGE (RFC 3428) between two real baresip phones through Palisade
// (issue 12 proof): 1001 writes to 1002 with baresip's `message` command
// (contact module), Palisade challenges it (401), takes it with digest auth
// (202) and 1002's phone shows it; with 1002 offline the message waits in
// the messaging module's table and reaches 1002's phone when it registers
// again. A message to an extension that does not exist gets exactly the same
// answer as one to a real extension.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { Baresip } from '../helpers/baresip.js';
import { freeLocalPorts, runSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { pcmToWav, tone } from '../../src/features/voicemail/wav-info.js';

const users = makeUsers(3, { first: 1001 });
const [alice, bob, carol] = users as [TestUser, TestUser, TestUser];
const dir = mkdtempSync(join(tmpdir(), 'palisade-msg-'));
let pal: PalisadeProcess;
const phones: Baresip[] = [];

/** a registered baresip for `u`; `contact`: the one entry of its contacts file, the target of `message` */
async function phone(u: TestUser, sipPort: number, ctrlPort: number, contact?: TestUser, base = dir): Promise<Baresip> {
  const b = new Baresip({
    name: `p${u.number}`,
    sipPort,
    ctrlPort,
    user: u.number,
    domain: pal.target,
    password: u.secret,
    regint: 600,
    audioSource: join(dir, 'mic.wav'),
    appModules: contact ? ['contact'] : [],
    baseDir: base,
    sipTrace: true,
    maxLifetimeSec: 120,
  });
  mkdirSync(b.dir, { recursive: true });
  if (contact) writeFileSync(join(b.dir, 'contacts'), `"${contact.name}" <sip:${contact.number}@${pal.target}>\n`);
  phones.push(b);
  await b.start();
  await b.waitRegistered(10_000);
  return b;
}

async function stopPhones(): Promise<void> {
  for (const p of phones.splice(0)) await p.stop().catch(() => undefined);
}

/** the SIP messages in `b`'s -s trace as whole text blocks (the helper's sipTrace() leaves bodies out) */
function traceBlocks(b: Baresip): Array<{ from: string; to: string; text: string }> {
  const out: Array<{ from: string; to: string; text: string }> = [];
  let cur: { from: string; to: string; text: string } | null = null;
  for (const line of readFileSync(b.logFile, 'utf8').split('\n')) {
    const m = /^(?:UDP|TCP|TLS) (\S+) -> (\S+)$/.exec(line);
    if (m) {
      if (cur) out.push(cur);
      cur = { from: m[1]!, to: m[2]!, text: '' };
    } else if (cur) cur.text += `${line.replace(/\r$/, '')}\n`;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Resolves once `b` has received a MESSAGE from `sender` whose body holds
 * `text`, and answered it 200 OK (same Call-ID): the phone took it.
 * Returns the MESSAGE as the phone saw it.
 */
async function received(b: Baresip, sender: TestUser, text: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const blocks = traceBlocks(b);
    const msg = blocks.find((x) => x.text.startsWith('MESSAGE ') && x.text.includes(`<sip:${sender.number}@`) && x.text.includes(text));
    const callId = msg && /^Call-ID: (.+)$/m.exec(msg.text)?.[1];
    if (msg && callId && blocks.some((x) => x.text.startsWith('SIP/2.0 200') && x.text.includes(`Call-ID: ${callId}\n`))) return msg.text;
    if (Date.now() > deadline) throw new Error(`${b.opts.name} did not take a MESSAGE "${text}" within ${timeoutMs} ms; log ${b.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** the responses to one CSeq of a SIPp -trace_msg file: status line and header names in order (values vary by design: tags, nonces) */
function responseShapes(r: SippResult, cseq: string): string[] {
  return r.messages
    .split(/-{10,}[^\n]*\n/)
    .map((b) => b.replace(/^(?:UDP|TCP) message received[^\n]*\n/m, '').trim())
    .filter((b) => b.startsWith('SIP/2.0') && new RegExp(`^CSeq: ${cseq}$`, 'mi').test(b))
    .map((b) => {
      const [start, ...headers] = b.split(/\r?\n/).filter((l) => l.trim() !== '');
      return [start!.trim(), ...headers.map((h) => h.slice(0, h.indexOf(':')).toLowerCase())].join('|');
    });
}

const ctl = (cmd: string, args: Record<string, unknown> = {}) => controlRequest(join(pal.dir, 'control.sock'), cmd, args);

before(async () => {
  writeFileSync(join(dir, 'mic.wav'), pcmToWav(tone(440, 30_000)));
  writeFileSync(join(dir, 'carol.csv'), sippCsv([carol]));
  // the message context answers messages to 1000 (an attendance figure by chat), as Asterisk's message_context
  writeFileSync(
    join(dir, 'extensions.conf'),
    [
      '[default]',
      'exten => 1099,1,Hangup()',
      '[messages]',
      'exten => 1000,1,Set(MESSAGE(body)=attendance today: 12 (you asked "${MESSAGE(body)}"))',
      ' same => n,MessageSend(sip:${MESSAGE(from)},1000)',
      ' same => n,Log(NOTICE,reply ${MESSAGE_SEND_STATUS})',
      '',
    ].join('\n'),
  );
  pal = await startPalisade({
    users,
    extraYaml: ['registrar:', '  qualify_interval: 0', 'dialplan:', `  file: ${join(dir, 'extensions.conf')}`, 'messaging:', '  context: messages'].join('\n'),
  });
});
after(async () => {
  await stopPhones();
  await pal?.stop();
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

describe('SIP MESSAGE between baresip phones', () => {
  test('online: 401, then 202 with digest auth, and the recipient phone shows the message', { timeout: 60_000 }, async () => {
    const [sa, ca, sb, cb] = await freeLocalPorts(4, 3);
    const a = await phone(alice, sa!, ca!, bob);
    const b = await phone(bob, sb!, cb!);
    await a.mustCommand('message', 'hello bob, online');
    const got = await received(b, alice, 'hello bob, online', 10_000);
    assert.match(got, /^Content-Type: text\/plain$/m);
    const trace = a.sipTrace().filter((m) => m.startLine.startsWith('SIP/2.0') && m.headers.some((h) => /^CSeq: \d+ MESSAGE/i.test(h)));
    assert.deepEqual(
      trace.map((m) => m.startLine.split(' ')[1]),
      ['401', '202'],
      'challenged, then accepted',
    );
    await stopPhones();
  });

  test('offline: the message waits in the database and reaches the phone when it registers again', { timeout: 90_000 }, async () => {
    const [sa, ca, sb, cb] = await freeLocalPorts(4, 3);
    const a = await phone(alice, sa!, ca!, bob, join(dir, 'off'));
    const b1 = await phone(bob, sb!, cb!, undefined, join(dir, 'off'));
    await b1.stop();
    // baresip unregisters as it quits; wait until Palisade has no binding for bob left
    for (let i = 0; ; i++) {
      const regs = (await ctl('registrations')) as Array<{ aor: string }>;
      if (!regs.some((r) => r.aor === bob.number)) break;
      assert.ok(i < 100, 'bob is still registered 10 s after his phone quit');
      await new Promise((r) => setTimeout(r, 100));
    }
    await a.mustCommand('message', 'while you were away');
    const stored = await pal.waitForEvent((e) => e.event === 'message-stored' && e.to === bob.number, 10_000);
    const waiting = (await ctl('messages')) as { waiting: Array<{ id: string; from: string; to: string }> };
    assert.deepEqual(
      waiting.waiting.map((w) => [w.id, w.from, w.to]),
      [[stored.id, alice.number, bob.number]],
      'kept in the messaging table',
    );
    const [sb2, cb2] = await freeLocalPorts(2, 3);
    const b2 = await phone(bob, sb2!, cb2!, undefined, join(dir, 'back'));
    const got = await received(b2, alice, 'while you were away', 15_000);
    assert.match(got, /^Date: /m, 'a stored message carries the time it was sent');
    await pal.waitForEvent((e) => e.event === 'message-delivered' && e.id === stored.id, 10_000);
    assert.deepEqual(((await ctl('messages')) as { waiting: unknown[] }).waiting, [], 'gone from the table once delivered');
    await stopPhones();
  });

  test('a MESSAGE to an unknown extension looks exactly like one to a known extension', { timeout: 60_000 }, async () => {
    const run = (to: string) =>
      runSipp({
        scenario: 'message-auth',
        target: pal.target,
        inf: [join(dir, 'carol.csv')],
        set: { to },
        calls: 1,
        traceMsg: true,
        timeoutS: 20,
        dir,
        extraArgs: ['-i', '127.0.0.3'],
      });
    const known = await run(bob.number);
    const unknown = await run('1999');
    for (const [r, what] of [
      [known, 'known'],
      [unknown, 'unknown'],
    ] as const) {
      assert.equal(r.stats?.successful, 1, `${what}: ${r.errors.slice(0, 2000)}\n${r.stdout.slice(-1500)}`);
    }
    // the same challenge and the same acceptance: status, reason and header names in the same order
    assert.deepEqual(responseShapes(unknown, '1 MESSAGE'), responseShapes(known, '1 MESSAGE'));
    assert.deepEqual(responseShapes(unknown, '2 MESSAGE'), responseShapes(known, '2 MESSAGE'));
    assert.match(responseShapes(known, '1 MESSAGE')[0]!, /^SIP\/2\.0 401 Unauthorized\|.*\|www-authenticate\|/);
    assert.match(responseShapes(known, '2 MESSAGE')[0]!, /^SIP\/2\.0 202 Accepted\|/);
    // both reached the server: one was kept for bob, the other dropped as unknown
    await pal.waitForEvent((e) => e.event === 'message-unknown-recipient' && e.from === carol.number && e.to === '1999', 10_000);
    await pal.waitForEvent((e) => (e.event === 'message-stored' || e.event === 'message-delivered') && e.from === carol.number && e.to === bob.number, 10_000);
  });

  test('a MESSAGE flood from one address gets it banned; another address is still served', { timeout: 60_000 }, async () => {
    const flood = await runSipp({
      scenario: 'message-flood',
      target: pal.target,
      set: { to: bob.number },
      calls: 300,
      rate: 150,
      timeoutS: 20,
      dir,
      extraArgs: ['-i', '127.0.0.2'],
    });
    assert.ok(flood.stats && flood.stats.successful >= 100, `the flood ran: ${flood.stdout.slice(-800)}`);
    const ev = await pal.waitForEvent((e) => e.event === 'message-flood' && e.remote === '127.0.0.2', 10_000);
    assert.match(String(ev.detail), /MESSAGE requests\/s/);
    await pal.waitForEvent((e) => e.event === 'banned' && e.address === '127.0.0.2', 10_000);
    const bans = (await ctl('bans')) as Array<{ address: string; reason: string }>;
    assert.match(bans.find((b) => b.address === '127.0.0.2')?.reason ?? '', /^flood: more than \d+ MESSAGE requests\/s/);
    const ok = await runSipp({
      scenario: 'message-auth',
      target: pal.target,
      inf: [join(dir, 'carol.csv')],
      set: { to: alice.number },
      calls: 1,
      timeoutS: 20,
      dir,
      extraArgs: ['-i', '127.0.0.3'],
    });
    assert.equal(ok.stats?.successful, 1, ok.stdout.slice(-1500));
  });

  test('the message context: a dialplan script answers a message with MessageSend()', { timeout: 60_000 }, async () => {
    const [sa, ca] = await freeLocalPorts(2, 3);
    const a = await phone(alice, sa!, ca!, { number: '1000', name: 'Attendance', secret: '' }, join(dir, 'ctx'));
    await a.mustCommand('message', 'how many today?');
    await pal.waitForEvent((e) => e.event === 'message-to-dialplan' && e.from === alice.number && e.to === '1000', 10_000);
    const got = await received(a, { number: '1000', name: '', secret: '' }, 'attendance today: 12 (you asked "how many today?")', 10_000);
    assert.match(got, /^To: <sip:1001@/m);
    await pal.waitForEvent((e) => e.event === 'dialplan.log' && e.message === 'reply SUCCESS', 10_000);
    await stopPhones();
  });
});
