// REFER (RFC 3515) in an established call, from SIPp, until Palisade can
// transfer calls: refused with 405 Method Not Allowed and an Allow header
// that does not name REFER (RFC 3261 §8.2.1), never a 200 or 202 that would
// make the phone believe the call moved and drop it. The call stays up: a
// later BYE gets 200 and reaches the callee. Both call paths: a dialplan
// Dial() (the demo's `_1XXX,1,Dial(SIP/${EXTEN},20)`, through the real
// dialplan engine) and the B2BUA's direct call when no dialplan is loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';

/** the SIP messages of a SIPp -trace_msg log, one block each */
const blocks = (messages: string): string[] => messages.split(/^-{10,}.*$/m);

async function referInCall(withDialplan: boolean): Promise<{ caller: SippResult; callee: SippResult; events: Record<string, unknown>[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pal-refer-'));
  const [caller, callee, target] = makeUsers(3, { first: 1700 });
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  // qualify off: the SIPp callee would abort on an unexpected OPTIONS
  const extraYaml = ['registrar:', '  qualify_interval: 0', ...(withDialplan ? ['dialplan:', `  file: ${conf}`] : [])].join('\n');
  const pal = await startPalisade({ users: [caller!, callee!, target!], extraYaml });
  try {
    const [uasPort] = await freeLocalPorts(1);
    const reg = join(dir, 'callee.csv');
    writeFileSync(reg, sippCsv([callee!]));
    const r = await runSipp({
      scenario: 'register-auth',
      target: pal.target,
      inf: [reg],
      set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
      calls: 1,
      rate: 10,
      timeoutS: 20,
      dir,
    });
    assert.equal(r.stats?.successful, 1, `register: ${r.errors}`);
    const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, rtpEcho: true, traceMsg: true, timeoutS: 40, dir });
    const csv = join(dir, 'caller.csv');
    writeFileSync(csv, sippCsv([caller!], { peers: [callee!.number] }));
    const result = await runSipp({
      scenario: 'call-refer-uac',
      target: pal.target,
      inf: [csv],
      set: { referto: target!.number },
      calls: 1,
      rate: 10,
      pauseMs: 800,
      traceMsg: true,
      timeoutS: 30,
      dir,
    });
    // the callee's call counts once its 2 s wait for a retransmitted BYE is over
    await new Promise((res) => setTimeout(res, 2500));
    const calleeResult = await uas.stop();
    return { caller: result, callee: calleeResult, events: pal.events() };
  } finally {
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertRefused(r: { caller: SippResult; callee: SippResult }): void {
  const refer = blocks(r.caller.messages).find((b) => /^SIP\/2\.0 \d+ [\s\S]*^CSeq:\s*3 REFER/m.test(b)) ?? '';
  // the scenario fails on any other answer to the REFER, or when the BYE after it gets no 200
  assert.match(refer, /^SIP\/2\.0 405 Method Not Allowed/m, `the answer to REFER:\n${refer || r.caller.messages.slice(-3000)}`);
  const allow = /^Allow:\s*(.*)$/im.exec(refer)?.[1] ?? '';
  assert.match(allow, /\bINVITE\b/, 'RFC 3261 §21.4.6: a 405 lists what is allowed');
  assert.doesNotMatch(allow, /\bREFER\b/, 'REFER is not offered where it is refused');
  assert.equal(r.caller.stats?.successful, 1, `the call stayed up and the later BYE got 200: ${r.caller.errors}`);
  // the callee saw no REFER, kept the call, and got the caller's BYE at the end
  assert.doesNotMatch(r.callee.messages, /^REFER /m);
  assert.match(r.callee.messages, /^BYE /m);
  assert.equal(r.callee.stats?.successful, 1, r.callee.errors);
  // the 200 that set the call up did not advertise REFER either
  const ok = blocks(r.caller.messages).find((b) => /^SIP\/2\.0 200 [\s\S]*^CSeq:\s*2 INVITE/m.test(b)) ?? '';
  assert.match(ok, /^Allow:/m);
  assert.doesNotMatch(/^Allow:\s*(.*)$/im.exec(ok)?.[1] ?? '', /\bREFER\b/);
}

test('REFER in a Dial() call is refused with 405 (Allow without REFER) and the call stays up', { timeout: 90_000 }, async () => {
  const r = await referInCall(true);
  assert.ok(
    r.events.some((e) => e.event === 'channel-bridged'),
    'the call went through the dialplan Dial()',
  );
  assertRefused(r);
});

test('REFER in a direct B2BUA call is refused the same way (not passed to the other phone)', { timeout: 90_000 }, async () => {
  const r = await referInCall(false);
  assert.ok(!r.events.some((e) => e.event === 'channel-bridged') && r.events.some((e) => e.event === 'call-answered'), 'a direct call');
  assertRefused(r);
});
