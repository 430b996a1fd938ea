// VoiceMail and VoiceMailMain driven through the in-memory channel double
// (test/support/memory-channel.ts): what the caller hears, what lands on
// disk, what is mailed and when MWI fires. Most callers here wait for each
// prompt to end before pressing a key (bargeIn: false) and end a recording
// with #.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MailboxConfig, VoicemailConfig } from '../../config/config-types.js';
import { LogRoot } from '../../observability/logger.js';
import type { SecurityEvent } from '../../core/security-event.js';
import type { PinOutcome } from '../../core/pin-outcome.js';
import { pinOutcomeEvent } from '../../security/ids/auth-events.js';
import { IdsEngine } from '../../security/ids/ids-engine.js';
import { createVoiceMailApp } from './app-voicemail.js';
import { createVoiceMailMainApp } from './app-voicemail-main.js';
import type { MessageCounts } from './mailbox-store.js';
import { MemoryChannel } from '../../../test/support/memory-channel.js';
import { VoicemailService, type VoicemailMail } from './voicemail-service.js';
import { parseWavHeader, pcmToWav, readWavInfo, tone } from './wav-info.js';

const BOX: MailboxConfig = {
  context: 'default',
  number: '756',
  pin: '3829',
  name: 'Jane Doe',
  email: 'jane@example.org',
  pager: null,
  attach: true,
  deleteAfterEmail: false,
  at: { file: 'voicemail.conf', line: 2, col: 1 },
};

let dir: string;
let vm: VoicemailService;
let mails: VoicemailMail[];
let mwi: Array<{ box: string; counts: MessageCounts }>;
let events: SecurityEvent[];
/** VoiceMailMain's PIN outcomes, as the security events main.ts makes of them */
const report = (o: PinOutcome): void => void events.push(pinOutcomeEvent(o));

function config(): VoicemailConfig {
  return {
    file: null,
    spoolDir: join(dir, 'spool'),
    maxMessageSeconds: 30,
    maxMessages: 3,
    maxSilenceSeconds: 3,
    emailFrom: 'voicemail@pbx.example.org',
    emailSubject: 'New voicemail ${VM_MSGNUM} in ${VM_MAILBOX} from ${VM_CALLERID}',
    emailBody: 'Hello ${VM_NAME}, ${VM_DUR} from ${VM_CIDNUM}',
    attachFormat: 'wav',
    pinMinLength: 4,
    maxLoginAttempts: 3,
    mwiUnsolicited: true,
    mwiMaxExpires: 3600,
    mailboxes: [BOX],
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palisade-vm-'));
  mails = [];
  mwi = [];
  events = [];
  vm = new VoicemailService(config(), { enqueue: async (m) => void mails.push(m) }, new LogRoot('error').get('vm'));
  vm.onChange((b, counts) => mwi.push({ box: `${b.number}@${b.context}`, counts }));
  await vm.start();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function leaveMessage(ms: number, opts: { options?: string; callerIdNum?: string } = {}): Promise<MemoryChannel> {
  const ch = new MemoryChannel({ script: '#', bargeIn: false, recordings: [ms], callerIdNum: opts.callerIdNum ?? '1001', callerIdName: 'Bob' });
  await createVoiceMailApp(vm).run(ch.call, `756@default${opts.options ? ',' + opts.options : ''}`);
  return ch;
}

test('VoiceMail: generated greeting, beep, recording saved to INBOX, e-mail with the WAV attached, MWI yes', async () => {
  const ch = await leaveMessage(2400);
  assert.equal(ch.vars.get('VMSTATUS'), 'SUCCESS');
  assert.equal(ch.answered, true);
  assert.deepEqual(ch.heard, ['vm-theperson', 'digits:756', 'vm-isunavail', 'vm-intro', 'beep', 'record:2400', 'vm-msgsaved', 'goodbye']);
  const inbox = await vm.store.list(BOX, 'INBOX');
  assert.equal(inbox.length, 1);
  assert.equal(inbox[0]!.callerIdNum, '1001');
  assert.equal(inbox[0]!.durationMs, 2400);
  assert.equal(mails.length, 1);
  const mail = mails[0]!;
  assert.equal(mail.to, 'jane@example.org');
  assert.equal(mail.subject, 'New voicemail 1 in 756 from "Bob" <1001>');
  assert.equal(mail.text, 'Hello Jane Doe, 0:02 from 1001');
  assert.equal(mail.attachments[0]!.path, inbox[0]!.wavPath);
  assert.equal(mail.attachments[0]!.contentType, 'audio/wav');
  const wav = parseWavHeader(readFileSync(mail.attachments[0]!.path));
  assert.ok(wav);
  assert.deepEqual([wav.format, wav.channels, wav.sampleRate, wav.durationMs], [1, 1, 8000, 2400]);
  assert.deepEqual(mwi.at(-1), { box: '756@default', counts: { newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 } });
});

test('VoiceMail: hanging up ends the recording and the message is kept (the usual way to finish)', async () => {
  // the script runs out during the recording: the caller hangs up
  const ch = new MemoryChannel({ recordings: [3200] });
  await createVoiceMailApp(vm).run(ch.call, '756');
  assert.equal(ch.vars.get('VMSTATUS'), 'SUCCESS');
  assert.equal(ch.heard.at(-1), 'record:3200', 'nothing is played to a caller who hung up');
  assert.equal((await vm.store.list(BOX, 'INBOX'))[0]!.durationMs, 3200);
  assert.equal(mails.length, 1);
});

test('WAV length: a recording whose header sizes were never written still counts what the file holds', async () => {
  const wav = pcmToWav(tone(440, 2000));
  wav.writeUInt32LE(0, 40); // data size left at 0 by a recorder cut off mid-call
  const p = join(dir, 'cut.wav');
  writeFileSync(p, wav);
  assert.equal(readWavInfo(p)!.durationMs, 2000);
  wav.writeUInt32LE(0xffffffff, 40);
  writeFileSync(p, wav);
  assert.equal(readWavInfo(p)!.durationMs, 2000);
});

test('VoiceMail(756&757): each mailbox gets its own copy; delete=yes keeps only the e-mailed one', async () => {
  const other: MailboxConfig = { ...BOX, number: '757', name: 'John Roe', email: 'john@example.org', deleteAfterEmail: true };
  const svc = new VoicemailService({ ...config(), mailboxes: [BOX, other] }, { enqueue: async (m) => void mails.push(m) }, new LogRoot('error').get('vm'));
  const ch = new MemoryChannel({ script: '#', bargeIn: false, recordings: [1800] });
  await createVoiceMailApp(svc).run(ch.call, ['756&757', 's']);
  assert.equal(ch.vars.get('VMSTATUS'), 'SUCCESS');
  assert.equal((await svc.store.list(BOX, 'INBOX')).length, 1);
  assert.equal((await svc.store.list(other, 'INBOX')).length, 0, 'delete=yes: removed once mailed');
  assert.deepEqual(mails.map((m) => m.to).sort(), ['jane@example.org', 'john@example.org']);
  const paths = mails.map((m) => m.attachments[0]!.path);
  assert.notEqual(paths[0], paths[1], 'two separate recordings, not one file shared');
});

test('VoiceMail: busy greeting, s skips the instructions, a too-short recording is discarded', async () => {
  const ch = await leaveMessage(300, { options: 'bs' });
  assert.deepEqual(ch.heard.slice(0, 4), ['vm-theperson', 'digits:756', 'vm-isonphone', 'beep']);
  assert.equal(ch.vars.get('VMSTATUS'), 'FAILED');
  assert.equal((await vm.store.list(BOX, 'INBOX')).length, 0);
  assert.equal(mails.length, 0);
  assert.deepEqual(readdir(join(dir, 'spool/default/756/tmp')), [], 'the discarded recording is removed');
});

test('VoiceMail: an unknown mailbox sets VMSTATUS=FAILED without answering; a full mailbox says so', async () => {
  const ch = new MemoryChannel();
  await createVoiceMailApp(vm).run(ch.call, ['999']);
  assert.equal(ch.vars.get('VMSTATUS'), 'FAILED');
  assert.equal(ch.answered, false);
  for (let i = 0; i < 3; i++) await leaveMessage(1500);
  const full = await leaveMessage(1500);
  assert.deepEqual(full.heard, ['vm-mailboxfull']);
  assert.equal(full.vars.get('VMSTATUS'), 'FAILED');
});

test('VoiceMailMain: three wrong PINs → "invalid" each time, security events, goodbye and hang-up', async () => {
  await leaveMessage(1500);
  const ch = new MemoryChannel({ script: '1111#2222#3828#' });
  await createVoiceMailMainApp(vm, report).run(ch.call, '756');
  assert.deepEqual(ch.heard, ['vm-password', 'invalid', 'vm-password', 'invalid', 'vm-password', 'invalid', 'goodbye']);
  assert.equal(ch.hungUp, true);
  assert.deepEqual(
    events.map((e) => e.type),
    ['InvalidPassword', 'InvalidPassword', 'InvalidPassword'],
  );
  assert.ok(!JSON.stringify(events).includes('3828'), 'the PIN tried is never in an event');
  assert.equal((await vm.store.list(BOX, 'INBOX')).length, 1, 'nothing changed');
});

test("VoiceMailMain: each wrong PIN counts against the caller's address and extension, like a wrong SIP password; the IDS bans the address", async () => {
  const peer = { transport: 'tcp', address: '198.51.100.23', port: 5062, account: '1004' } as const;
  const ch = new MemoryChannel({ script: '1111#2222#3828#', callerIdNum: '1004', peer });
  await createVoiceMailMainApp(vm, report).run(ch.call, '756');
  assert.deepEqual(
    events.map((e) => [e.type, e.service, e.account, e.remote, e.sessionId, e.extra?.caller]),
    Array(3).fill(['InvalidPassword', 'VoiceMail', '756', { transport: 'tcp', address: '198.51.100.23', port: 5062 }, ch.id, '1004']),
  );
  const bans: string[] = [];
  const ids = new IdsEngine(
    {
      trusted: [],
      authFailures: { threshold: 3, windowSec: 60 },
      registeredThreshold: 50,
      badRequests: { threshold: 20, windowSec: 60 },
      floodPacketsPerSecond: 0,
      scanners: { action: 'off', userAgents: [] },
      ban: { timeSec: 600, factor: 2, maxSec: 86400, forgetAfterSec: 86400 },
    },
    { sink: { emit: () => {} }, onBan: (b) => void bans.push(b.address) },
  );
  for (const e of events) ids.handle(e);
  assert.deepEqual(bans, ['198.51.100.23']);
  assert.doesNotMatch(JSON.stringify(events), /\b(1111|2222|3828)\b/, 'no PIN tried in an event');
});

test('VoiceMailMain: an unknown mailbox is asked for its PIN like a real one (no enumeration)', async () => {
  const ch = new MemoryChannel({ script: '999#1234#756#3829##' });
  await createVoiceMailMainApp(vm, report).run(ch.call, '');
  assert.deepEqual(ch.heard.slice(0, 6), ['vm-login', 'vm-password', 'invalid', 'vm-login', 'vm-password', 'vm-youhave']);
  assert.deepEqual(
    events.map((e) => e.type),
    ['InvalidAccountID', 'SuccessfulAuth'],
  );
});

test('VoiceMailMain: "you have 2 new messages", listen, next, previous, delete, save, exit; MWI follows', async () => {
  await leaveMessage(1500, { callerIdNum: '1001' });
  await leaveMessage(2500, { callerIdNum: '1002' });
  const [first, second] = await vm.store.list(BOX, 'INBOX');
  // 1 plays the first, 6 the second, 6 again: last; 4 back to the first; 7 deletes it; 9 saves the one now current; #
  const ch = new MemoryChannel({ script: '3829#1664' + '79#', bargeIn: false });
  await createVoiceMailMainApp(vm).run(ch.call, '756@default');
  assert.deepEqual(ch.heard, [
    'vm-password',
    'vm-youhave',
    'say:2',
    'vm-new',
    'vm-messages',
    'vm-menu',
    'vm-first',
    'vm-message',
    first!.wavPath,
    'vm-menu',
    'vm-last',
    'vm-message',
    second!.wavPath,
    'vm-menu',
    'vm-nomore',
    'vm-menu',
    'vm-first',
    'vm-message',
    first!.wavPath.replace('/INBOX/', '/Old/'),
    'vm-menu',
    'vm-deleted',
    'vm-menu',
    'vm-saved',
    'vm-menu',
    'goodbye',
  ]);
  assert.equal(ch.hungUp, true);
  assert.equal((await vm.store.list(BOX, 'INBOX')).length, 0);
  const old = await vm.store.list(BOX, 'Old');
  assert.deepEqual(
    old.map((m) => m.callerIdNum),
    ['1002'],
  );
  assert.ok(!existsSync(first!.wavPath.replace('/INBOX/', '/Old/')), 'the deleted WAV is gone');
  // heard messages are no longer new: the last MWI says no
  assert.deepEqual(mwi.at(-1)!.counts, { newCount: 0, oldCount: 1, urgentNew: 0, urgentOld: 0 });
});

test('VoiceMailMain: keys pressed during prompts and messages act at once (barge-in)', async () => {
  for (let i = 0; i < 3; i++) await leaveMessage(1500, { callerIdNum: `100${i}` });
  const list = await vm.store.list(BOX, 'INBOX');
  // PIN typed over the prompt; 1 over "you have..."; 6 over message 1; 7 over "message" of message 2; #
  const ch = new MemoryChannel({ script: '3829#1' + '6' + '7' + '#' });
  await createVoiceMailMainApp(vm).run(ch.call, '756');
  assert.deepEqual(ch.heard, ['vm-password', 'vm-youhave', 'vm-first', 'vm-message', 'vm-deleted', 'vm-menu', 'goodbye']);
  const left = await vm.messages(BOX);
  assert.deepEqual(
    left.map((m) => [m.callerIdNum, m.folder]),
    [
      ['1002', 'INBOX'],
      ['1000', 'Old'],
    ],
  );
  assert.equal(list.length, 3);
});

test('VoiceMailMain: no messages; 1 says "no more", * repeats the menu, invalid key', async () => {
  const ch = new MemoryChannel({ script: '3829#1*5#', bargeIn: false });
  await createVoiceMailMainApp(vm).run(ch.call, '756');
  assert.deepEqual(ch.heard, ['vm-password', 'vm-youhave', 'vm-no', 'vm-messages', 'vm-menu', 'vm-nomore', 'vm-menu', 'vm-menu', 'invalid', 'vm-menu', 'goodbye']);
});

test('VoiceMailMain options: record unavailable and busy greetings, which VoiceMail then plays', async () => {
  // each greeting recorded ends with #
  const ch = new MemoryChannel({ script: '3829#' + '01#2#*#', bargeIn: false, recordings: [2000, 1800] });
  await createVoiceMailMainApp(vm).run(ch.call, '756');
  assert.ok(ch.heard.includes('vm-rec-unavail') && ch.heard.includes('vm-rec-busy'));
  assert.equal(ch.heard.filter((h) => h === 'vm-greetingsaved').length, 2);
  const unavail = vm.store.greetingPath(BOX, 'unavail');
  assert.equal(parseWavHeader(readFileSync(unavail))!.durationMs, 2000);
  const caller = await leaveMessage(1500);
  assert.deepEqual(caller.heard.slice(0, 2), [unavail, 'vm-intro']);
  const busy = await leaveMessage(1500, { options: 'b' });
  assert.equal(busy.heard[0], vm.store.greetingPath(BOX, 'busy'));
});

test('VoiceMailMain options: change PIN — weak and mismatched refused, a good one twice works at the next login', async () => {
  const ch = new MemoryChannel({ script: '3829#' + '0' + '51234#1234#' + '55837#5873#' + '5582914#582914#' + '*#', bargeIn: false });
  await createVoiceMailMainApp(vm).run(ch.call, '756');
  assert.deepEqual(
    ch.heard.filter((h) => ['vm-weakpassword', 'vm-mismatch', 'vm-passchanged'].includes(h)),
    ['vm-weakpassword', 'vm-mismatch', 'vm-passchanged'],
  );
  const pinFile = readFileSync(join(dir, 'spool/default/756/pin.json'), 'utf8');
  assert.ok(!pinFile.includes('582914'), 'the PIN is stored hashed');
  const old = new MemoryChannel({ script: '3829#' });
  await createVoiceMailMainApp(vm).run(old.call, '756');
  assert.equal(old.heard[1], 'invalid', 'the old PIN no longer works');
  const fresh = new MemoryChannel({ script: '582914##' });
  await createVoiceMailMainApp(vm).run(fresh.call, '756');
  assert.equal(fresh.heard[1], 'vm-youhave');
});

function readdir(p: string): string[] {
  return existsSync(p) ? readdirSync(p) : [];
}
