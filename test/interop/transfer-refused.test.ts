// REFER (RFC 3515) where Palisade must refuse it, from SIPp. Transfers work
// (transfer-baresip.test.ts); what stays refused:
// - out of a dialog: challenged first (401, the same for a stranger as for
//   a wrong password), then 405 with Allow — a REFER outside a call is not
//   served;
// - in a call, to a number the transferring extension may not call: the
//   call gate judges a transfer as a call by the transferor, and refuses it
//   (403, the rule named only in the log); the call stays up: a later BYE
//   gets 200 and reaches the callee, and the callee never sees a REFER.
// Both call paths: a dialplan Dial() (the demo's `_1XXX,1,Dial(SIP/${EXTEN},20)`,
// through the real dialplan engine) and the B2BUA's direct call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade } from '../helpers/palisade-process.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { sippPhone } from '../helpers/office-phones.js';

/** the SIP messages of a SIPp -trace_msg log, one block each */
const blocks = (messages: string): string[] => messages.split(/^-{10,}.*$/m);

/** a known fraud destination (fraud.numbers): refused for every extension */
const FORBIDDEN = '0088213555123';

async function referInCall(withDialplan: boolean): Promise<{ caller: SippResult; callee: SippResult; events: Record<string, unknown>[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pal-refer-'));
  const [caller, callee, target] = makeUsers(3, { first: 1700 });
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  // qualify off: the SIPp callee would abort on an unexpected OPTIONS; no unsolicited MWI NOTIFY to its
  // registration either: started with `calls: 1`, it would count that as its one call and exit early
  const extraYaml = [
    'registrar:',
    '  qualify_interval: 0',
    'voicemail:',
    '  mwi_unsolicited: false',
    'fraud:',
    '  numbers: ["+88213"]',
    ...(withDialplan ? ['dialplan:', `  file: ${conf}`] : []),
  ].join('\n');
  const pal = await startPalisade({ users: [caller!, callee!, target!], extraYaml });
  try {
    const uas = await sippPhone(pal, dir, callee!, 'uas-answer', 40, { calls: 1 });
    const csv = join(dir, 'caller.csv');
    writeFileSync(csv, sippCsv([caller!], { peers: [callee!.number] }));
    const result = await runSipp({
      scenario: 'call-refer-uac',
      target: pal.target,
      inf: [csv],
      set: { referto: FORBIDDEN },
      calls: 1,
      rate: 10,
      pauseMs: 800,
      traceMsg: true,
      timeoutS: 30,
      dir,
    });
    // the callee's one call counts once its 2 s wait for a retransmitted BYE is over; it then exits by itself
    const calleeResult = await uas.finish(5000);
    return { caller: result, callee: calleeResult, events: pal.events() };
  } finally {
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertRefused(r: { caller: SippResult; callee: SippResult; events: Record<string, unknown>[] }): void {
  const refer = blocks(r.caller.messages).find((b) => /^SIP\/2\.0 \d+ [\s\S]*^CSeq:\s*3 REFER/m.test(b)) ?? '';
  // the scenario fails on any other answer to the REFER, or when the BYE after it gets no 200
  assert.match(refer, /^SIP\/2\.0 403 Forbidden/m, `the answer to REFER:\n${refer || r.caller.messages.slice(-3000)}`);
  // the REFER reached the call gate, which named the rule in the log (not to the phone)
  const refused = r.events.find((e) => e.event === 'transfer-refused');
  assert.ok(refused, 'Palisade logged transfer-refused');
  assert.equal(refused.by, '1700');
  assert.equal(refused.to, FORBIDDEN);
  assert.match(String(refused.verdict), /^refused:fraud/);
  assert.doesNotMatch(refer, /fraud|88213/i, 'the refusal names no rule');
  assert.equal(r.caller.stats?.successful, 1, `the call stayed up and the later BYE got 200: ${r.caller.errors}`);
  // the callee saw no REFER, kept the call, and got the caller's BYE at the end
  assert.doesNotMatch(r.callee.messages, /^REFER /m);
  assert.match(r.callee.messages, /^BYE /m);
  assert.equal(r.callee.stats?.successful, 1, r.callee.errors);
  // the 200 that set the call up advertises REFER now
  const ok = blocks(r.caller.messages).find((b) => /^SIP\/2\.0 200 [\s\S]*^CSeq:\s*2 INVITE/m.test(b)) ?? '';
  assert.match(/^Allow:\s*(.*)$/im.exec(ok)?.[1] ?? '', /\bREFER\b/);
}

test('REFER in a Dial() call to a number the transferor may not call: 403, and the call stays up', { timeout: 90_000 }, async () => {
  const r = await referInCall(true);
  assert.ok(
    r.events.some((e) => e.event === 'channel-bridged'),
    'the call went through the dialplan Dial()',
  );
  assertRefused(r);
});

test('REFER in a direct B2BUA call to a number the transferor may not call: 403, not passed to the other phone', { timeout: 90_000 }, async () => {
  const r = await referInCall(false);
  assert.ok(!r.events.some((e) => e.event === 'channel-bridged') && r.events.some((e) => e.event === 'call-answered'), 'a direct call');
  assertRefused(r);
});

test('REFER out of a dialog: challenged first (401), then 405 with Allow; a stranger gets the same challenge', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-refer-ood-'));
  const [sender, target] = makeUsers(2, { first: 1720 });
  const pal = await startPalisade({ users: [sender!, target!], extraYaml: 'registrar:\n  qualify_interval: 0' });
  try {
    const csv = join(dir, 'sender.csv');
    writeFileSync(csv, sippCsv([sender!], { peers: [target!.number] }));
    const r = await runSipp({ scenario: 'refer-ood-uac', target: pal.target, inf: [csv], set: { referto: target!.number }, calls: 1, rate: 1, traceMsg: true, timeoutS: 20, dir });
    assert.equal(r.stats?.successful, 1, `401 then 405: ${r.errors}`);
    const answers = blocks(r.messages).filter((b) => /^SIP\/2\.0 /m.test(b));
    const challenge = answers.find((b) => /^SIP\/2\.0 401/m.test(b)) ?? '';
    assert.match(challenge, /^WWW-Authenticate:\s*Digest /im);
    const refused = answers.find((b) => /^SIP\/2\.0 405/m.test(b)) ?? '';
    assert.match(/^Allow:\s*(.*)$/im.exec(refused)?.[1] ?? '', /\bINVITE\b/, 'RFC 3261 §21.4.6: a 405 lists what is allowed');
    // a stranger (an extension that does not exist) is challenged exactly alike
    const strangerCsv = join(dir, 'stranger.csv');
    writeFileSync(strangerCsv, sippCsv([{ number: '1799', secret: sender!.secret, name: 'x' }], { peers: [target!.number] }));
    const s = await runSipp({
      scenario: 'refer-ood-uac',
      target: pal.target,
      inf: [strangerCsv],
      set: { referto: target!.number },
      calls: 1,
      rate: 1,
      traceMsg: true,
      timeoutS: 20,
      dir,
    });
    const first = blocks(s.messages).find((b) => /^SIP\/2\.0 /m.test(b)) ?? '';
    assert.match(first, /^SIP\/2\.0 401/m, "the stranger's REFER is challenged");
    const names = (b: string) =>
      b
        .split(/\r?\n/)
        .filter((l) => /^[A-Za-z-]+:/.test(l))
        .map((l) => l.split(':')[0]!.toLowerCase());
    assert.deepEqual(names(first), names(challenge), 'the same headers in the same order');
    // the stranger's credentials fail: challenged again, never 405
    assert.ok(!blocks(s.messages).some((b) => /^SIP\/2\.0 405/m.test(b)), 'no 405 for a stranger');
  } finally {
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
