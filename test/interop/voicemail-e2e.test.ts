// Voicemail end to end through real peers: baresip 1001 calls 1002, whose
// baresip rings without answering; the dialplan drops the call to
// VoiceMail(1002), the caller's 440 Hz "voice" is recorded; a real SMTP
// listener receives the owner's e-mail with that recording attached (a valid
// WAV of the right length and pitch); SIPp, subscribed to 1002's mailbox,
// sees Messages-Waiting go yes; then 1002 dials VoiceMailMain, sends its PIN
// and 1 (listen) 7 (delete) # by RFC 4733, hears the message, and the lamp
// goes out (NOTIFY 0/1, then 0/0).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baresip, findFreePort } from '../helpers/baresip.js';
import { dominantFrequency, makeToneWav, readWav, rmsSegments } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startSipp } from '../helpers/sipp.js';
import { sippCsv } from '../helpers/users.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { defaultPromptDir } from '../../src/main.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';
import { parseWavHeader } from '../../src/features/voicemail/wav-info.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'palisade-vm-e2e-'));
const secrets = { '1001': generateSecret({ extension: '1001', name: 'Caller' }), '1002': generateSecret({ extension: '1002', name: 'Owner' }) };
const PIN = '691735';
let pal: PalisadeProcess;
let sink: SmtpSink;
const phones: Baresip[] = [];

before(async () => {
  await generatePrompts(defaultPromptDir());
  sink = await startSmtpSink();
  writeFileSync(join(dir, 'voicemail.conf'), `[default]\n1002 => ${PIN},Owner,owner@example.org\n`);
  writeFileSync(
    join(dir, 'extensions.conf'),
    [
      '[internal]',
      'exten => 1002,1,Dial(SIP/1002,4)',
      ' same => n,VoiceMail(1002@default,u)',
      ' same => n,Hangup()',
      'exten => 8500,1,VoiceMailMain(${CALLERID(num)}@default)',
      ' same => n,Hangup()',
      '',
    ].join('\n'),
  );
  pal = await startPalisade({
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
      'extensions:',
      `  - { number: "1001", name: Caller, secret: "${secrets['1001']}", context: internal }`,
      `  - { number: "1002", name: Owner, secret: "${secrets['1002']}", context: internal, voicemail: true }`,
      'voicemail:',
      `  file: ${join(dir, 'voicemail.conf')}`,
      `  spool_dir: ${join(dir, 'vm')}`,
      '  max_message_seconds: 5',
      '  max_silence_seconds: 0',
      'mail:',
      '  from: pbx@example.org',
      `  spool_dir: ${join(dir, 'mail')}`,
      '  retry_seconds: 1',
      '  smtp:',
      '    host: 127.0.0.1',
      `    port: ${sink.port}`,
    ].join('\n'),
  });
});

after(async () => {
  for (const p of phones) await p.stop().catch(() => {});
  await pal?.stop();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function phone(user: '1001' | '1002', tone: number, answerMode: 'auto' | 'manual'): Promise<Baresip> {
  const audio = join(dir, `${user}.wav`);
  makeToneWav(audio, tone, 60, 0.3);
  const rtp = await findFreePort(100);
  const b = new Baresip({
    name: `vm${user}`,
    baseDir: dir,
    user,
    domain: pal.target,
    password: secrets[user],
    regint: 600,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: audio,
    rtpPorts: [rtp, rtp + 99],
    codecs: 'PCMU',
    answerMode,
    maxLifetimeSec: 120,
  });
  phones.push(b);
  await b.start();
  await b.waitRegistered(5000);
  return b;
}

test('no answer → VoiceMail → e-mail with the WAV, MWI yes; VoiceMailMain by DTMF plays and deletes it; MWI no', { timeout: 120_000 }, async (t) => {
  writeFileSync(join(dir, 'sub.csv'), sippCsv([{ number: '1002', secret: secrets['1002'], name: 'Owner' }]));
  const watcher = await startSipp({ scenario: 'mwi-lifecycle', target: pal.target, inf: [join(dir, 'sub.csv')], calls: 1, traceLogs: true, timeoutS: 110, dir });
  await pal.waitForEvent((e) => e.event === 'mwi-subscribed' && e.user === '1002', 10_000);

  const owner = await phone('1002', 1000, 'manual');
  const caller = await phone('1001', 440, 'auto');
  // 1002 rings for 4 s without answering, then the caller hears the greeting, the beep, and is recorded for 5 s
  await caller.dial(`sip:1002@${pal.target}`);
  await owner.waitEvent('CALL_INCOMING', 5000);
  await caller.waitEvent('CALL_CLOSED', 60_000);

  const [mail] = await sink.waitFor(1, 20_000);
  assert.deepEqual(mail!.to, ['owner@example.org']);
  assert.equal(mail!.attachments.length, 1);
  const wav = mail!.attachments[0]!.content;
  const info = parseWavHeader(wav);
  assert.ok(info, 'the attachment is a WAV');
  assert.deepEqual([wav.toString('latin1', 0, 4), info.sampleRate, info.channels, info.bitsPerSample], ['RIFF', 8000, 1, 16]);
  assert.ok(Math.abs(info.durationMs - 5000) <= 300, `a max-length message of 5 s, got ${info.durationMs} ms`);
  const attached = join(dir, 'attached.wav');
  writeFileSync(attached, wav);
  const pcm = readWav(attached);
  assert.ok(Math.abs(dominantFrequency(pcm) - 440) <= 10, `the caller's 440 Hz tone was recorded (${dominantFrequency(pcm)} Hz)`);

  // the owner listens and deletes: PIN, 1 (first message), 7 (delete), #
  const sock = join(pal.dir, 'control.sock');
  assert.equal(((await controlRequest(sock, 'voicemail-list')) as Array<{ new: number }>)[0]!.new, 1);
  const mark = owner.mark();
  await owner.dial(`sip:8500@${pal.target}`);
  await owner.waitEvent('CALL_ESTABLISHED', 5000, mark);
  await sleep(1500);
  await owner.sendDtmf(`${PIN}#`);
  await sleep(4000); // "you have 1 new message", the menu
  await owner.sendDtmf('1');
  await sleep(9000); // "first message" and the 5 s recording
  await owner.sendDtmf('7');
  await sleep(2500);
  await owner.sendDtmf('#');
  await owner.waitEvent('CALL_CLOSED', 15_000, mark);

  const r = await watcher.done;
  const why = `mwi-lifecycle: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.logs}`;
  assert.equal(r.code, 0, why);
  assert.match(r.logs, /notify-2: Messages-Waiting: yes Voice-Message: 1\/0 /);
  assert.match(r.logs, /notify-4: Messages-Waiting: no Voice-Message: 0\/0 /);
  assert.equal(((await controlRequest(sock, 'voicemail-list')) as Array<{ new: number; old: number }>)[0]!.old, 0, 'deleted');

  // what the owner heard: the 440 Hz message among the prompts
  const heard = readWav(owner.recordings().dec.at(-1)!);
  const seg = rmsSegments(heard, 500);
  let best = 0;
  for (let i = 0; i + 1 < seg.length; i++) {
    const f = dominantFrequency(heard, i * 4000, (i + 1) * 4000);
    if (Math.abs(f - 440) <= 10) best++;
  }
  assert.ok(best >= 6, `the owner heard about 5 s of the 440 Hz message (${best / 2} s)`);
  t.diagnostic(`attachment ${info.durationMs} ms at ${dominantFrequency(pcm)} Hz; the owner heard ${best / 2} s of it`);
});
