// The shipped attendance example and voicemail, end to end with real phones:
// a running Palisade process loads examples/attendance/extensions.conf and
// its SQLite database; baresip phones dial it and key digits by RFC 4733.
//  - the IVR: right PIN → the figure is spoken; wrong PIN → "invalid" three
//    times. What the phone heard is checked segment by segment for speech,
//    and the branch taken is read from the dialplan's path log.
//  - voicemail: 1001 calls 1002, which refuses (busy); 1001 leaves a tone;
//    a real SMTP listener receives the mail with a WAV of that length; 1002's
//    phone (subscribed with baresip's mwi module) gets Messages-Waiting: yes;
//    1002 dials *97, enters its PIN, listens (hears the tone) and deletes it;
//    the lamp goes out (Messages-Waiting: no) and the mailbox is empty.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Baresip, findFreePort } from '../helpers/baresip.js';
import { analyseWav, makeToneWav, readWav, rmsSegments, dominantFrequency } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { repoRoot } from '../helpers/paths.js';
import { generatePin, generateSecret } from '../../src/security/passwords/index.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { parseWavHeader } from '../../src/features/voicemail/wav-info.js';

const example = join(repoRoot(), 'examples', 'attendance');
const dir = mkdtempSync(join(tmpdir(), 'palisade-attendance-'));
const secrets = { '1001': generateSecret({ extension: '1001', name: 'Reception' }), '1002': generateSecret({ extension: '1002', name: 'Registrar' }) };
const pin1002 = generatePin(6, '1002');
let pal: PalisadeProcess;
let sink: SmtpSink;
const phones: Baresip[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** seconds of a generated prompt (the set Palisade made on its first start) */
function promptSec(name: string): number {
  const p = readWav(join(repoRoot(), 'prompts', 'en', `${name}.wav`));
  return p.samples.length / p.sampleRate;
}

before(async () => {
  sink = await startSmtpSink();
  for (const f of ['extensions.conf', 'attendance.sql']) copyFileSync(join(example, f), join(dir, f));
  writeFileSync(join(dir, 'voicemail.conf'), `[default]\n1002 => ${pin1002},Registrar,registrar@example.edu\n`);
  // the example's own named query, as shipped
  const queries = (parseYaml(readFileSync(join(example, 'palisade.yaml'), 'utf8')) as { dialplan: { queries: Record<string, { datasource: string; sql: string }> } }).dialplan
    .queries;
  const q = queries.attendance_figure!;
  pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
      '  datasources:',
      `    attendance: { driver: sqlite, path: ${join(dir, 'attendance.db')}, create_from: ${join(dir, 'attendance.sql')} }`,
      '  queries:',
      '    attendance_figure:',
      `      datasource: ${q.datasource}`,
      `      sql: ${JSON.stringify(q.sql)}`,
      'voicemail:',
      `  file: ${join(dir, 'voicemail.conf')}`,
      `  spool_dir: ${join(dir, 'vm')}`,
      'mail:',
      '  from: pbx@example.edu',
      `  spool_dir: ${join(dir, 'mail')}`,
      '  retry_seconds: 1',
      '  smtp:',
      '    host: 127.0.0.1',
      `    port: ${sink.port}`,
      'extensions:',
      `  - { number: "1001", name: Reception, secret: "${secrets['1001']}", context: internal }`,
      `  - { number: "1002", name: Registrar, secret: "${secrets['1002']}", context: internal, voicemail: true }`,
    ].join('\n'),
  });
});

after(async () => {
  for (const p of phones) await p.stop().catch(() => undefined);
  await pal?.stop();
  await sink?.close();
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

async function phone(user: '1001' | '1002', tone: number, opts: { answerMode?: 'auto' | 'manual'; mwi?: boolean } = {}): Promise<Baresip> {
  const wav = join(dir, `tone-${tone}.wav`);
  if (!existsSync(wav)) makeToneWav(wav, tone, 60, 0.3);
  const rtp = await findFreePort(100, 42000, 48000);
  const b = new Baresip({
    name: `${user}-${phones.length}`,
    baseDir: dir,
    user,
    domain: pal.target,
    password: secrets[user],
    regint: 600,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: wav,
    rtpPorts: [rtp, rtp + 99],
    answerMode: opts.answerMode ?? 'auto',
    sipTrace: true,
    appModules: opts.mwi ? ['mwi'] : [],
    maxLifetimeSec: 90,
  });
  phones.push(b);
  await b.start();
  // a bound, not a speed check: in the full test line, baresip once took over 5 s to answer its own `reginfo`
  await b.waitRegistered(15_000);
  return b;
}

/** how many dialplan calls have ended so far (read before a call, passed to dialplanPath) */
const endedCount = (): number => pal.events().filter((e) => e.event === 'dialplan.ended').length;

/** the path of the next dialplan call to end after `before` had */
async function dialplanPath(before: number): Promise<string> {
  await waitUntil('the dialplan call to end', () => endedCount() > before, 10_000);
  return String(pal.events().filter((e) => e.event === 'dialplan.ended')[before]!.path ?? '');
}

/** 100 ms windows of the recording with speech-like energy, as [startSec, endSec] runs */
function speechRuns(path: string): Array<[number, number]> {
  const seg = rmsSegments(readWav(path), 100);
  const runs: Array<[number, number]> = [];
  let start = -1;
  seg.forEach((r, i) => {
    if (r > 0.01 && start < 0) start = i;
    if ((r <= 0.01 || i === seg.length - 1) && start >= 0) {
      runs.push([start / 10, (i + 1) / 10]);
      start = -1;
    }
  });
  return runs;
}

describe('the attendance IVR from examples/attendance, dialled by baresip', () => {
  test('right ID and PIN: greeting, ID, PIN by RFC 4733, the figure spoken, goodbye', { timeout: 90_000 }, async () => {
    const caller = await phone('1001', 0);
    const since = endedCount();
    await caller.dial(`sip:800@${pal.target}`);
    await caller.waitEvent('CALL_ESTABLISHED', 10_000);
    // each digit string is keyed once its prompt has finished playing
    await sleep((promptSec('attendance-welcome') + promptSec('attendance-enter-id') + 0.6) * 1000);
    await caller.sendDtmf('240001#');
    await sleep((promptSec('attendance-enter-pin') + 1.2) * 1000);
    await caller.sendDtmf('7294#');
    const figureSec = promptSec('attendance-your-figure') + promptSec('digits/80') + promptSec('percent') + promptSec('attendance-another');
    await sleep((figureSec + 1.2) * 1000);
    await caller.sendDtmf('2'); // not 1: no other student → goodbye, and Palisade hangs up
    await caller.waitEvent('CALL_CLOSED', 15_000);

    const path = await dialplanPath(since);
    assert.match(path, /internal,800,1:Goto/, path);
    assert.match(path, /attendance,s,\d+:DBLookup/, path);
    assert.match(path, /attendance,s,\d+:SayNumber/, `the found branch spoke the figure: ${path}`);
    assert.equal(path.match(/:Read/g)?.length, 3, `ID, PIN, another-student: ${path}`);

    // what the phone heard: speech where prompts played, in several separate runs
    const heard = caller.recordings().dec.at(-1)!;
    const a = analyseWav(heard);
    const expected = promptSec('attendance-welcome') + promptSec('attendance-enter-id') + promptSec('attendance-enter-pin') + figureSec + promptSec('goodbye');
    const runs = speechRuns(heard);
    const spoken = runs.reduce((s, [x, y]) => s + (y - x), 0);
    assert.ok(spoken >= expected * 0.6, `heard ${spoken.toFixed(1)} s of speech, prompts last ${expected.toFixed(1)} s (${a.activeSec} s active)`);
    assert.ok(runs.length >= 6, `speech in separate prompts: ${JSON.stringify(runs)}`);
    assert.ok(runs[0]![0] < 1.5, `the greeting starts at once: ${JSON.stringify(runs[0])}`);
    await caller.stop();
  });

  test('wrong PIN: "invalid" and the PIN asked again, three times, then goodbye', { timeout: 90_000 }, async () => {
    const caller = await phone('1001', 0);
    const since = endedCount();
    await caller.dial(`sip:800@${pal.target}`);
    await caller.waitEvent('CALL_ESTABLISHED', 10_000);
    await sleep((promptSec('attendance-welcome') + promptSec('attendance-enter-id') + 0.6) * 1000);
    await caller.sendDtmf('240001#');
    for (let i = 0; i < 3; i++) {
      await sleep((promptSec(i === 0 ? 'attendance-enter-pin' : 'invalid') + (i === 0 ? 0 : promptSec('attendance-enter-pin')) + 1.2) * 1000);
      await caller.sendDtmf('1111#');
    }
    await caller.waitEvent('CALL_CLOSED', 20_000);
    const path = await dialplanPath(since);
    assert.doesNotMatch(path, /SayNumber/, `no figure for a wrong PIN: ${path}`);
    assert.equal(path.match(/:Read/g)?.length, 4, `the ID once, the PIN three times: ${path}`);
    assert.equal(path.match(/:DBLookup/g)?.length, 3, path);
    assert.ok(runsOf(caller) >= 6, 'the phone heard the prompts');
    await caller.stop();
  });
});

function runsOf(b: Baresip): number {
  return speechRuns(b.recordings().dec.at(-1)!).length;
}

describe('voicemail end to end with real phones and a real SMTP server', () => {
  test('busy → message left → e-mail with the WAV, MWI on → *97 listen and delete → MWI off', { timeout: 120_000 }, async () => {
    const owner = await phone('1002', 0, { answerMode: 'manual', mwi: true });
    const caller = await phone('1001', 440);

    // 1002 refuses the call: Dial() ends BUSY, VoiceMail(1002,b) answers
    const t0 = Date.now();
    await caller.dial(`sip:1002@${pal.target}`);
    await owner.waitEvent('CALL_INCOMING', 10_000);
    await owner.hangup();
    await caller.waitEvent('CALL_ESTABLISHED', 10_000);
    const greeting =
      promptSec('vm-theperson') + ['1', '0', '0', '2'].reduce((s, d) => s + promptSec(`digits/${d}`), 0) + promptSec('vm-isonphone') + promptSec('vm-intro') + promptSec('beep');
    await sleep((greeting + 0.5) * 1000 + 3000); // then about 3 s of the caller's 440 Hz tone
    await caller.sendDtmf('#');
    await caller.waitEvent('CALL_CLOSED', 15_000).catch(async () => caller.hangup());

    // the e-mail, with the recording attached as a WAV of the right length
    const [mail] = await sink.waitFor(1, 20_000);
    assert.deepEqual(mail!.to, ['registrar@example.edu']);
    assert.equal(mail!.attachments.length, 1);
    const wav = mail!.attachments[0]!.content;
    const info = parseWavHeader(wav);
    assert.ok(info, 'the attachment is a WAV file');
    assert.equal(info!.sampleRate, 8000);
    assert.equal(info!.channels, 1);
    assert.ok(info!.durationMs >= 2000 && info!.durationMs <= 4500, `recorded ${info!.durationMs} ms`);
    writeFileSync(join(dir, 'mailed.wav'), wav);
    const mailed = readWav(join(dir, 'mailed.wav'));
    const hz = dominantFrequency(mailed);
    assert.ok(Math.abs(hz - 440) <= 15, `the message holds the caller's tone: ${hz} Hz`);

    // the owner's phone was told (its own SUBSCRIBE, digest-authenticated)
    const ownerLog = () => readFileSync(owner.logFile, 'utf8');
    await waitUntil('MWI yes at the phone', () => /Messages-Waiting:\s*yes/i.test(ownerLog()), 10_000);
    const msgs = (await controlRequest(join(pal.dir, 'control.sock'), 'voicemail-messages', { mailbox: '1002@default' })) as unknown[];
    assert.equal(msgs.length, 1);

    // the owner dials *97: PIN, "you have 1 new message", 1 = listen, 7 = delete, # = exit
    const since = endedCount();
    await owner.dial(`sip:*97@${pal.target}`);
    await owner.waitEvent('CALL_ESTABLISHED', 10_000);
    await sleep(800);
    await owner.sendDtmf(`${pin1002}#`);
    await sleep(1500);
    await owner.sendDtmf('1');
    await sleep((promptSec('vm-first') + promptSec('vm-message') + info!.durationMs / 1000 + 1.0) * 1000);
    await owner.sendDtmf('7');
    await sleep((promptSec('vm-deleted') + 0.8) * 1000);
    await owner.sendDtmf('#');
    await owner.waitEvent('CALL_CLOSED', 15_000);
    const path = await dialplanPath(since);
    assert.match(path, /internal,\*97,1:VoiceMailMain/, path);

    const left = (await controlRequest(join(pal.dir, 'control.sock'), 'voicemail-messages', { mailbox: '1002@default' })) as unknown[];
    assert.deepEqual(left, [], 'the message was deleted');
    await waitUntil('MWI no at the phone', () => /Messages-Waiting:\s*yes[\s\S]*Messages-Waiting:\s*no/i.test(ownerLog()), 10_000);
    // the owner heard the message: the caller's tone in what its phone played
    const heard = owner.recordings().dec.at(-1)!;
    const p = readWav(heard);
    let toneSec = 0;
    for (let i = 0; i + 800 <= p.samples.length; i += 800) if (Math.abs(dominantFrequency(p, i, i + 800) - 440) <= 20) toneSec += 0.1;
    assert.ok(toneSec >= 1.5, `the owner heard ${toneSec.toFixed(1)} s of the 440 Hz message`);
    assert.ok(Date.now() - t0 < 110_000);
  });
});

async function waitUntil(what: string, pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
