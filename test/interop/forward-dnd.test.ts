// Do-not-disturb and call forwarding (busy, no answer, unconditional) on a
// running Palisade, set through its control socket (the office module's
// `dnd` and `forward` commands, stored in its own table), with SIPp phones:
// a caller, the called extension (answering, busy, or ringing without an
// answer) and the forward target. Direct B2BUA calls, and a dialplan
// Dial() for DND and the unconditional forward. And the forward set by a
// feature code written as a pattern (`_*72X.` to CallForward()): its `*`
// does not make the toll-fraud guard class it international, while a code
// of the same shape that may Dial() out still is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { runSipp } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { ask, sippPhone } from '../helpers/office-phones.js';

interface Site {
  pal: PalisadeProcess;
  dir: string;
  users: TestUser[];
}

/** forward-always by feature code, and a code of the same shape that dials the rest out (a trunk) */
const FEATURE_CODES = [
  'exten => _*72X.,1,Answer()',
  ' same => n,CallForward(always,${EXTEN:3})',
  ' same => n,Wait(0.2)',
  ' same => n,Hangup()',
  'exten => _*74X.,1,Dial(PJSIP/${EXTEN:3}@provider,20)',
];

async function site(withDialplan = false): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'pal-fwd-'));
  const users = makeUsers(3, { first: 1740 });
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, ['[default]', 'exten => _1XXX,1,Dial(SIP/${EXTEN},20)', ...FEATURE_CODES, ''].join('\n'));
  // no qualify OPTIONS and no unsolicited MWI NOTIFY to a new registration: the SIPp phones would take
  // either for a call (a phone started with `calls` counts it as one of its calls and exits early)
  const extraYaml = ['registrar:', '  qualify_interval: 0', 'voicemail:', '  mwi_unsolicited: false', ...(withDialplan ? ['dialplan:', `  file: ${conf}`] : [])].join('\n');
  const pal = await startPalisade({ users, extraYaml });
  return { pal, dir, users };
}

async function call(s: Site, scenario: string, to = s.users[1]!.number): Promise<{ ok: boolean; errors: string; logs: string }> {
  const [caller] = s.users;
  const csv = join(s.dir, 'caller.csv');
  writeFileSync(csv, sippCsv([caller!], { peers: [to] }));
  const r = await runSipp({ scenario, target: s.pal.target, inf: [csv], calls: 1, rate: 1, pauseMs: 1000, traceMsg: true, traceLogs: true, timeoutS: 40, dir: s.dir });
  return { ok: r.stats?.successful === 1, errors: r.errors, logs: r.logs };
}

const invites = (messages: string): number => (messages.match(/^INVITE sip:/gm) ?? []).length;

test('forward on busy: the callee answers 486, the target rings and answers; the setting is stored in the module table', { timeout: 90_000 }, async () => {
  const s = await site();
  try {
    const [, callee, target] = s.users;
    const set = (await ask(s.pal, 'forward', { extension: callee!.number, type: 'busy', target: target!.number })) as { busy: string };
    assert.equal(set.busy, target!.number);
    await assert.rejects(ask(s.pal, 'forward', { extension: callee!.number, type: 'busy', target: '9999' }), /not an extension/);
    const busy = await sippPhone(s.pal, s.dir, callee!, 'uas-busy', 40, { calls: 1 });
    const answer = await sippPhone(s.pal, s.dir, target!, 'uas-answer', 40, { calls: 1 });
    const r = await call(s, 'call-auth-uac');
    assert.ok(r.ok, `the caller's call was answered: ${r.errors}`);
    // each phone ends its one call by itself: the busy one on the ACK of its 486, the
    // target 2 s (its wait for a retransmitted BYE) after the BYE that may come after the caller is done
    const b = await busy.finish(5000);
    const a = await answer.finish(5000);
    assert.equal(invites(b.messages), 1, 'the callee was rung and said busy');
    assert.match(b.messages, /^SIP\/2\.0 486/m);
    assert.equal(invites(a.messages), 1, 'the target was rung');
    assert.match(a.messages, /^BYE /m, 'and talked until the caller hung up');
    assert.ok(s.pal.events().some((e) => e.event === 'call-forwarded' && e.why === 'busy' && e.target === target!.number));
    // in the module's own table (a restart keeps it)
    const db = new Database(join(s.pal.dir, 'palisade.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT fwd_busy FROM office_diversion WHERE extension = ?').get(callee!.number) as { fwd_busy: string };
      assert.equal(row.fwd_busy, target!.number);
    } finally {
      db.close();
    }
  } finally {
    await s.pal.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('forward on no answer: after the set seconds the callee is cancelled and the target answers', { timeout: 90_000 }, async () => {
  const s = await site();
  try {
    const [, callee, target] = s.users;
    await ask(s.pal, 'forward', { extension: callee!.number, type: 'noanswer', target: target!.number, seconds: 2 });
    const ringing = await sippPhone(s.pal, s.dir, callee!, 'uas-ring-no-answer', 40, { calls: 1 });
    const answer = await sippPhone(s.pal, s.dir, target!, 'uas-answer', 40, { calls: 1 });
    const t0 = Date.now();
    const r = await call(s, 'call-auth-uac');
    assert.ok(r.ok, `the caller's call was answered: ${r.errors}`);
    assert.ok(Date.now() - t0 >= 2000, 'not before the no-answer time');
    // each phone ends its one call by itself: the ringing one on the ACK of its 487, the
    // target 2 s (its wait for a retransmitted BYE) after the BYE that may come after the caller is done
    const n = await ringing.finish(5000);
    const a = await answer.finish(5000);
    assert.equal(invites(n.messages), 1);
    assert.match(n.messages, /^CANCEL /m, 'the callee stopped ringing');
    assert.equal(invites(a.messages), 1);
    assert.ok(s.pal.events().some((e) => e.event === 'call-forwarded' && e.why === 'no answer'));
  } finally {
    await s.pal.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
});

for (const withDialplan of [false, true]) {
  const path = withDialplan ? 'a Dial() call' : 'a direct call';
  test(`do-not-disturb in ${path}: busy at once, the phone never rings; unconditional forward rings the target only`, { timeout: 90_000 }, async () => {
    const s = await site(withDialplan);
    try {
      const [, callee, target] = s.users;
      await ask(s.pal, 'dnd', { extension: callee!.number, on: true });
      const phone = await sippPhone(s.pal, s.dir, callee!, 'uas-answer', 40);
      const other = await sippPhone(s.pal, s.dir, target!, 'uas-answer', 40, { calls: 1 });
      const r = await call(s, 'call-busy-uac');
      assert.ok(r.ok, `the caller got 486: ${r.errors}`);
      // the call reached Palisade, which refused it for DND
      assert.ok(s.pal.events().some((e) => e.event === (withDialplan ? 'dial-dnd' : 'call-dnd') && e.to === callee!.number));
      // DND off, forward always on: the target answers, the callee still does not ring
      await ask(s.pal, 'dnd', { extension: callee!.number, on: false });
      await ask(s.pal, 'forward', { extension: callee!.number, type: 'always', target: target!.number });
      const f = await call(s, 'call-auth-uac');
      assert.ok(f.ok, `forwarded call answered: ${f.errors}`);
      // the target ends its one call by itself, 2 s (its wait for a retransmitted BYE) after the BYE;
      // the phone in DND / forwarded must see nothing meanwhile, and answers until stopped
      const o = await other.finish(5000);
      const p = await phone.stop();
      assert.equal(invites(p.messages), 0, 'the extension in DND / forwarded never rang');
      assert.equal(invites(o.messages), 1, 'the forward target rang once');
      const list = (await ask(s.pal, 'diversions')) as Array<{ extension: string; dnd: boolean; always: string }>;
      assert.deepEqual(
        list.map((x) => [x.extension, x.dnd, x.always]),
        [[callee!.number, false, target!.number]],
      );
    } finally {
      await s.pal.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

test('a feature code by pattern with *: `*72` + number sets the forward; the same shape that dials out is refused 403 as international', { timeout: 90_000 }, async () => {
  const s = await site(true);
  try {
    const [caller, callee, target] = s.users;
    // the caller forwards its own calls by keying *72 and the target; Palisade answers, sets it and hangs up
    const set = await call(s, 'call-callee-bye-uac', `*72${target!.number}`);
    assert.ok(set.ok, `the feature code was answered and ended by Palisade: ${set.errors}`);
    const list = (await ask(s.pal, 'diversions')) as Array<{ extension: string; always: string }>;
    assert.deepEqual(
      list.map((x) => [x.extension, x.always]),
      [[caller!.number, target!.number]],
    );
    assert.ok(s.pal.events().some((e) => e.event === 'forward-set' && e.extension === caller!.number && e.target === target!.number));
    const refusedBefore = s.pal.events().filter((e) => e.event === 'security-event' && e.detail === 'class-not-permitted:international').length;
    assert.equal(refusedBefore, 0, 'the feature code passed the toll-fraud guard');
    // *74 + number may reach a trunk: it stays international, which an extension may not call by default
    const out = await call(s, 'call-expect-uac', `*74${callee!.number}`);
    assert.match(out.logs, /call-result: 403/, out.errors);
    assert.ok(
      s.pal.events().some((e) => e.event === 'security-event' && e.detail === 'class-not-permitted:international'),
      'refused by the call gate after authentication, not for some other reason',
    );
  } finally {
    await s.pal.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
});
