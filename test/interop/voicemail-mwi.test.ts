// MWI against a running Palisade with SIPp as the phone: SUBSCRIBE to
// message-summary with digest auth, NOTIFY "Messages-Waiting: yes" once a
// message is deposited and "no" once it is deleted, unsubscribe; a foreign
// mailbox is refused (403); a registered phone without a subscription gets
// an unsolicited NOTIFY. Messages are deposited and deleted through the
// control socket (the same VoicemailService path the VoiceMail application
// takes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startSipp, runSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { controlRequest as controlCommand } from '../../src/admin/control-socket.js';
import { pcmToWav, tone } from '../../src/features/voicemail/wav-info.js';

const users = makeUsers(3, { first: 2001 });
const dir = mkdtempSync(join(tmpdir(), 'palisade-mwi-'));
let pal: PalisadeProcess;
const ctl = (cmd: string, args: Record<string, unknown> = {}) => controlCommand(join(pal.dir, 'control.sock'), cmd, args);

function passed(r: SippResult, what: string): void {
  const why = `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.logs.slice(-1500)}\n${r.stdout.slice(-1500)}`;
  assert.equal(r.code, 0, why);
  assert.equal(r.stats?.successful, 1, why);
  assert.equal(r.stats?.failed, 0, why);
}

before(async () => {
  writeFileSync(join(dir, 'voicemail.conf'), ['[default]', ...users.map((u, i) => `${u.number} => ${582914 + i * 7},${u.name},`)].join('\n') + '\n');
  writeFileSync(join(dir, 'hello.wav'), pcmToWav(tone(440, 1500)));
  writeFileSync(join(dir, 'users.csv'), sippCsv(users));
  writeFileSync(join(dir, 'u1.csv'), sippCsv([users[0]!]));
  writeFileSync(join(dir, 'u2.csv'), sippCsv([users[1]!]));
  writeFileSync(join(dir, 'u3.csv'), sippCsv([users[2]!]));
  pal = await startPalisade({
    users,
    extraYaml: ['registrar:', '  qualify_interval: 0', 'voicemail:', `  file: ${join(dir, 'voicemail.conf')}`, `  spool_dir: ${join(dir, 'spool')}`].join('\n'),
  });
});
after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('MWI (RFC 3842 message-summary)', () => {
  test('SUBSCRIBE with digest auth: NOTIFY no → deposit → yes (1/0) → delete → no → unsubscribe → terminated', { timeout: 60_000 }, async () => {
    const box = users[0]!.number;
    const sipp = await startSipp({ scenario: 'mwi-subscribe', target: pal.target, inf: [join(dir, 'u1.csv')], calls: 1, traceLogs: true, timeoutS: 45, dir });
    await pal.waitForEvent((e) => e.event === 'mwi-subscribed' && e.user === box, 15_000);
    const dep = (await ctl('voicemail-deposit', { mailbox: box, wav: join(dir, 'hello.wav'), callerid: '2002' })) as { id: string; duration_ms: number };
    assert.equal(dep.duration_ms, 1500);
    const listed = (await ctl('voicemail-list')) as Array<{ mailbox: string; new: number }>;
    assert.equal(listed.find((b) => b.mailbox === `${box}@default`)?.new, 1);
    // let the "yes" NOTIFY reach SIPp before the "no" one is triggered
    await new Promise((r) => setTimeout(r, 500));
    await ctl('voicemail-delete', { mailbox: box, id: dep.id });
    const r = await sipp.done;
    passed(r, 'mwi-subscribe');
    assert.match(r.logs, /notify-2: Messages-Waiting: yes Voice-Message: 1\/0 \(0\/0\)/);
    assert.match(r.logs, /notify-4: terminated/);
    await pal.waitForEvent((e) => e.event === 'mwi-unsubscribed' && e.user === box, 5000);
  });

  test('an extension may not watch another mailbox: 403 after authentication', { timeout: 30_000 }, async () => {
    const r = await runSipp({ scenario: 'mwi-subscribe-other', target: pal.target, inf: [join(dir, 'u2.csv')], calls: 1, set: { mailbox: users[0]!.number }, timeoutS: 20, dir });
    passed(r, 'mwi-subscribe-other');
  });

  test('a registered phone without a subscription gets unsolicited NOTIFYs: its state on registering, then each change', { timeout: 40_000 }, async () => {
    const box = users[2]!.number;
    const phone = await startSipp({ scenario: 'mwi-notify-uas', target: '127.0.0.1', calls: 2, traceLogs: true, timeoutS: 30, dir });
    const reg = await runSipp({
      scenario: 'register-auth',
      target: pal.target,
      inf: [join(dir, 'u3.csv')],
      calls: 1,
      set: { contact: `127.0.0.1:${phone.port}` },
      timeoutS: 20,
      dir,
    });
    passed(reg, 'register-auth');
    await ctl('voicemail-deposit', { mailbox: box, wav: join(dir, 'hello.wav'), callerid: '2001' });
    const r = await phone.done;
    const why = `mwi-notify-uas: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.logs}`;
    assert.equal(r.code, 0, why);
    assert.equal(r.stats?.successful, 2, why);
    // the state when the phone registered, then the new message
    assert.deepEqual(r.logs.match(/mwi: .*/g), ['mwi: no 0/0 message-summary', 'mwi: yes 1/0 message-summary'], why);
  });
});
