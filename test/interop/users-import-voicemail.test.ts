// Issue 7: users provisioned with `palisade users import` get voicemail.
// A real `palisade start` whose dialplan sends an unanswered call to
// VoiceMail(${EXTEN}@default), SIPp as the phones. 2001 is imported before
// the start, 2002 while the server runs (reload-extensions takes its mailbox
// too). 2002's phone (a SIPp UAS) rings and never answers; 2001 calls it,
// skips the greeting with # and talks (SIPp's PCMA recording) for the 5 s a
// message may last. Then 2002 calls VoiceMailMain with the PIN the import
// showed once, listens to the message (it turns old) and leaves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, repoRoot, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { sippCsv, strongSecret, type TestUser } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { defaultPromptDir } from '../../src/main.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';

interface MailboxRow {
  mailbox: string;
  name: string;
  email: string | null;
  new: number;
  old: number;
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-import-vm-'));
const caller: TestUser = { number: '2001', secret: strongSecret('2001', 'Caller'), name: 'Caller' };
const owner: TestUser = { number: '2002', secret: strongSecret('2002', 'Owner'), name: 'Owner' };
let pal: PalisadeProcess;

function why(r: SippResult, what: string): string {
  return `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.stdout.slice(-1500)}`;
}

async function mailboxes(): Promise<MailboxRow[]> {
  return (await controlRequest(join(pal.dir, 'control.sock'), 'voicemail-list')) as MailboxRow[];
}

before(async () => {
  await generatePrompts(defaultPromptDir());
  writeFileSync(
    join(dir, 'extensions.conf'),
    [
      '[default]',
      'exten => _20XX,1,Dial(SIP/${EXTEN},3)',
      ' same => n,VoiceMail(${EXTEN}@default,u)',
      ' same => n,Hangup()',
      'exten => 8500,1,VoiceMailMain(${CALLERID(num)}@default)',
      ' same => n,Hangup()',
      '',
    ].join('\n'),
  );
  pal = await startPalisade({
    users: [caller],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
      'voicemail:',
      `  spool_dir: ${join(dir, 'vm')}`,
      '  max_message_seconds: 5',
      '  max_silence_seconds: 0',
      '  pin_min_length: 6',
    ].join('\n'),
  });
});

after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an imported user gets a mailbox: an unanswered call leaves a message there, and the PIN the import showed opens VoiceMailMain', { timeout: 120_000 }, async () => {
  // imported while the server runs, with the e-mail its mailbox is to use
  const csv = join(dir, 'late.csv');
  writeFileSync(csv, `number,secret,name,email\n${owner.number},${owner.secret},${owner.name},owner@example.org\n`);
  const imp = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'users', 'import', csv, '--config', pal.configPath], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /the running server now has 2 extensions and 2 mailboxes/);
  const shown = /^ {2}extension 2002 \(Owner\) {2}voicemail PIN: ([0-9]{6})$/m.exec(imp.stderr);
  assert.ok(shown, `the import shows 2002's PIN on the terminal:\n${imp.stderr}`);
  const pin = shown[1]!;
  assert.ok(!imp.stdout.includes(pin), 'the PIN is on stderr only');
  assert.deepEqual(
    (await mailboxes()).map((b) => [b.mailbox, b.email, b.new]),
    [
      ['2001@default', null, 0],
      ['2002@default', 'owner@example.org', 0],
    ],
  );

  // 2002's phone rings and is never answered
  const [uasPort] = await freeLocalPorts(1);
  const phone = await startSipp({ scenario: 'uas-ring-no-answer', target: '127.0.0.1', port: uasPort, timeoutS: 60, dir });
  let rang: SippResult;
  try {
    writeFileSync(join(dir, 'owner.csv'), sippCsv([owner]));
    const reg = await runSipp({
      scenario: 'register-auth',
      target: pal.target,
      inf: [join(dir, 'owner.csv')],
      set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
      calls: 1,
      timeoutS: 20,
      dir,
    });
    assert.equal(reg.code, 0, why(reg, 'register-auth'));

    // 2001 calls, hears 2002 ring out, presses # to skip the greeting and talks
    writeFileSync(join(dir, 'caller.csv'), sippCsv([caller], { peers: [owner.number] }));
    const call = await runSipp({ scenario: 'call-keys-uac', target: pal.target, inf: [join(dir, 'caller.csv')], set: { keys: '#', rtp_pcap: '1' }, calls: 1, timeoutS: 60, dir });
    assert.equal(call.code, 0, why(call, 'call-keys-uac (the message)'));
  } finally {
    rang = await phone.stop();
  }
  assert.equal(rang.stats?.successful, 1, why(rang, 'uas-ring-no-answer: rang, then CANCEL'));
  const [, box] = await mailboxes();
  assert.deepEqual([box!.mailbox, box!.new, box!.old], ['2002@default', 1, 0], "the message is in 2002's mailbox");

  // the owner logs in with the PIN shown once, hears the first message (it turns old), leaves with #
  writeFileSync(join(dir, 'vmmain.csv'), sippCsv([owner], { peers: ['8500'] }));
  const main = await runSipp({ scenario: 'call-keys-uac', target: pal.target, inf: [join(dir, 'vmmain.csv')], set: { keys: `${pin}#,1,#` }, calls: 1, timeoutS: 60, dir });
  assert.equal(main.code, 0, why(main, 'call-keys-uac (VoiceMailMain)'));
  const [, heard] = await mailboxes();
  assert.deepEqual([heard!.new, heard!.old], [0, 1], 'logged in with the printed PIN and listened');

  const logs = pal.lines.join('\n') + pal.stderr();
  assert.ok(!logs.includes(pin), 'the PIN is in no log');
});
