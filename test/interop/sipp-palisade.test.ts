// SIPp against the real Palisade process, over UDP and TCP: registration with
// digest, wrong password, unknown user answered exactly like a wrong password,
// calls with digest through the B2BUA (answered, busy, cancelled while
// ringing, BYE from either side, re-INVITE hold and resume), forking to two
// contacts, and the CDR row each call attempt leaves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { pollUntil } from '../helpers/wait.js';

const TRANSPORTS = ['u1', 't1'] as const;

/** nothing the SIPp callees do not expect: no qualify OPTIONS, no unsolicited MWI NOTIFY */
const NO_OPTIONS_NO_MWI = 'registrar:\n  qualify_interval: 0\nvoicemail:\n  mwi_unsolicited: false';

function assertAllPassed(r: SippResult, what: string, calls: number): void {
  const why = `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.stdout.slice(-1500)}`;
  assert.ok(r.stats, `${what}: no statistics\n${r.stderr}`);
  assert.equal(r.stats.failed, 0, why);
  assert.equal(r.stats.successful, calls, why);
  assert.equal(r.code, 0, why);
}

interface CdrRow {
  src: string;
  dst: string;
  disposition: string;
  billsec: number;
  duration: number;
  channel: string;
  dstchannel: string;
  source_ip: string;
  uniqueid: string;
  dcontext: string;
  clid: string;
  lastapp: string;
}

/** the final response each message log holds for the second REGISTER: status line and header names */
function finalRegisterAnswers(messages: string): Array<{ status: string; headers: string[] }> {
  const out: Array<{ status: string; headers: string[] }> = [];
  for (const block of messages.split(/^-{10,}.*$/m)) {
    const all = block.trim().split(/\r?\n/);
    const start = all.findIndex((l) => l.startsWith('SIP/2.0 '));
    if (start < 0 || !/^CSeq:\s*2 REGISTER/im.test(block)) continue;
    const lines = all.slice(start);
    out.push({
      status: lines[0]!.trim(),
      headers: lines
        .slice(1)
        .map((l) => l.split(':')[0]!.trim().toLowerCase())
        .filter((h) => h),
    });
  }
  return out;
}

describe('SIPp against Palisade', () => {
  let pal: PalisadeProcess;
  let db: Database.Database;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-sipp-'));
  const callers = makeUsers(4, { first: 1000 });
  const callees: Record<string, TestUser[]> = { u1: makeUsers(2, { first: 1500 }), t1: makeUsers(2, { first: 1600 }) };
  const uasPort: Record<string, number> = {};

  before(async () => {
    // qualify off: SIPp's callee scenarios would abort on an unexpected OPTIONS; and no
    // unsolicited MWI NOTIFY to a new registration either: a callee started with `calls`
    // (-m) would count it (retransmitted for up to 32 s) as one of its calls and exit early
    pal = await startPalisade({ users: [...callers, ...callees.u1!, ...callees.t1!], extraYaml: NO_OPTIONS_NO_MWI });
    [uasPort.u1, uasPort.t1] = await freeLocalPorts(2);
    db = new Database(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
  });
  after(async () => {
    db?.close();
    await pal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** CDR rows for one callee number, newest last */
  const cdrsFor = (dst: string): CdrRow[] => db.prepare(`SELECT * FROM cdr WHERE dst = ? ORDER BY id`).all(dst) as CdrRow[];
  /**
   * the same once it holds more than `seen` rows: a call's row is written as
   * it ends, a moment after the phones see the end; after 10 s the rows
   * there are, and the assertions say what is missing
   */
  const cdrsAfter = async (dst: string, seen: number): Promise<CdrRow[]> =>
    (await pollUntil(() => {
      const rows = cdrsFor(dst);
      return rows.length > seen && rows;
    })) ?? cdrsFor(dst);

  for (const t of TRANSPORTS) {
    const tn = t === 'u1' ? 'UDP' : 'TCP';
    const calleeOf = () => callees[t]!;

    test(`REGISTER with digest is accepted (${tn})`, { timeout: 30_000 }, async () => {
      const csv = join(dir, `callees-${t}.csv`);
      writeFileSync(csv, sippCsv(calleeOf()));
      const r = await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        transport: t,
        inf: [csv],
        set: { contact: `127.0.0.1:${uasPort[t]}`, expires: '600' },
        calls: 2,
        rate: 20,
        timeoutS: 20,
        dir,
      });
      assertAllPassed(r, 'register-auth', 2);
    });

    test(`a wrong password and an unknown user get the same answer (${tn})`, { timeout: 30_000 }, async () => {
      const wrong = join(dir, `wrong-${t}.csv`);
      writeFileSync(wrong, sippCsv(callers.slice(0, 1), { wrongPassword: true }));
      const ghost = join(dir, `ghost-${t}.csv`);
      writeFileSync(ghost, sippCsv([{ number: '1999', secret: 'Pt-NoSuchUserHere1', name: 'nobody' }], { wrongPassword: true }));
      const a = await runSipp({
        scenario: 'register-wrong-password',
        target: pal.target,
        transport: t,
        inf: [wrong],
        calls: 1,
        rate: 10,
        timeoutS: 20,
        traceLogs: true,
        traceMsg: true,
        dir,
      });
      const b = await runSipp({
        scenario: 'register-wrong-password',
        target: pal.target,
        transport: t,
        inf: [ghost],
        calls: 1,
        rate: 10,
        timeoutS: 20,
        traceLogs: true,
        traceMsg: true,
        dir,
      });
      assertAllPassed(a, 'wrong password', 1);
      assertAllPassed(b, 'unknown user', 1);
      assert.match(a.logs, /wrong-password-result: 401/);
      assert.match(b.logs, /wrong-password-result: 401/);
      // RFC-conformant anti-enumeration: same status line, same header set, same order
      const ra = finalRegisterAnswers(a.messages);
      const rb = finalRegisterAnswers(b.messages);
      assert.equal(ra.length, 1, a.messages);
      assert.deepEqual(rb, ra);
    });

    test(`an authenticated call is bridged and answered; the caller hangs up; CDR ANSWERED (${tn})`, { timeout: 60_000 }, async () => {
      const callee = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', transport: t, port: uasPort[t], rtpEcho: true, timeoutS: 40, dir });
      const csv = join(dir, `calls-${t}.csv`);
      writeFileSync(csv, sippCsv(callers.slice(0, 2), { peers: calleeOf().map((u) => u.number) }));
      const seen = calleeOf().map((u) => cdrsFor(u.number).length);
      try {
        const r = await runSipp({ scenario: 'call-auth-uac', target: pal.target, transport: t, inf: [csv], calls: 2, rate: 10, pauseMs: 1200, timeoutS: 30, dir });
        assertAllPassed(r, 'call-auth-uac', 2);
      } finally {
        await callee.stop();
      }
      for (const [i, u] of calleeOf().entries()) {
        const row = (await cdrsAfter(u.number, seen[i]!)).at(-1);
        assert.ok(row, `no CDR for ${u.number}`);
        assert.equal(row.disposition, 'ANSWERED');
        assert.ok(row.billsec >= 1, `billsec ${row.billsec}`);
        assert.equal(row.source_ip, '127.0.0.1');
        assert.equal(row.lastapp, 'Dial');
        assert.match(row.channel, /^SIP\/10\d\d-/);
        assert.match(row.dstchannel, new RegExp(`^SIP/${u.number}-`));
      }
    });

    test(`a busy callee: the caller gets 486; CDR BUSY (${tn})`, { timeout: 60_000 }, async () => {
      const callee = await startSipp({ scenario: 'uas-busy', target: '127.0.0.1', transport: t, port: uasPort[t], timeoutS: 40, dir });
      const csv = join(dir, `busy-${t}.csv`);
      writeFileSync(csv, sippCsv(callers.slice(0, 1), { peers: [calleeOf()[0]!.number] }));
      const seen = cdrsFor(calleeOf()[0]!.number).length;
      try {
        const r = await runSipp({ scenario: 'call-busy-uac', target: pal.target, transport: t, inf: [csv], calls: 1, rate: 10, timeoutS: 30, dir });
        assertAllPassed(r, 'call-busy-uac', 1);
      } finally {
        await callee.stop();
      }
      assert.equal((await cdrsAfter(calleeOf()[0]!.number, seen)).at(-1)?.disposition, 'BUSY');
    });

    test(`CANCEL while ringing: 487 to the caller, the callee's fork is cancelled; CDR NO ANSWER (${tn})`, { timeout: 60_000 }, async () => {
      const callee = await startSipp({ scenario: 'uas-ring-no-answer', target: '127.0.0.1', transport: t, port: uasPort[t], calls: 1, timeoutS: 40, dir });
      const csv = join(dir, `cancel-${t}.csv`);
      writeFileSync(csv, sippCsv(callers.slice(0, 1), { peers: [calleeOf()[0]!.number] }));
      const seen = cdrsFor(calleeOf()[0]!.number).length;
      let calleeResult: SippResult;
      try {
        const r = await runSipp({ scenario: 'call-cancel-uac', target: pal.target, transport: t, inf: [csv], calls: 1, rate: 10, pauseMs: 500, timeoutS: 30, dir });
        assertAllPassed(r, 'call-cancel-uac', 1);
      } finally {
        // the callee's call ends with the ACK of its 487, which may come after the caller is done
        calleeResult = await callee.finish(5000);
      }
      // the callee scenario only succeeds when it received the CANCEL and sent 487
      assert.equal(calleeResult.stats?.successful, 1, calleeResult.errors);
      assert.equal((await cdrsAfter(calleeOf()[0]!.number, seen)).at(-1)?.disposition, 'NO ANSWER');
    });

    test(`the callee hangs up with BYE; the caller gets it (${tn})`, { timeout: 60_000 }, async () => {
      const callee = await startSipp({ scenario: 'uas-bye', target: '127.0.0.1', transport: t, port: uasPort[t], pauseMs: 1000, calls: 1, timeoutS: 40, dir });
      const csv = join(dir, `cbye-${t}.csv`);
      writeFileSync(csv, sippCsv(callers.slice(0, 1), { peers: [calleeOf()[0]!.number] }));
      const seen = cdrsFor(calleeOf()[0]!.number).length;
      let calleeResult: SippResult;
      try {
        const r = await runSipp({ scenario: 'call-callee-bye-uac', target: pal.target, transport: t, inf: [csv], calls: 1, rate: 10, timeoutS: 30, dir });
        assertAllPassed(r, 'call-callee-bye-uac', 1);
      } finally {
        calleeResult = await callee.finish(5000);
      }
      assert.equal(calleeResult.stats?.successful, 1, calleeResult.errors);
      const row = (await cdrsAfter(calleeOf()[0]!.number, seen)).at(-1);
      assert.equal(row?.disposition, 'ANSWERED');
    });

    test(`re-INVITE hold and resume cross the bridge (${tn})`, { timeout: 60_000 }, async () => {
      const callee = await startSipp({ scenario: 'uas-hold', target: '127.0.0.1', transport: t, port: uasPort[t], calls: 1, timeoutS: 40, traceMsg: true, dir });
      const csv = join(dir, `hold-${t}.csv`);
      writeFileSync(csv, sippCsv(callers.slice(0, 1), { peers: [calleeOf()[0]!.number] }));
      let calleeResult: SippResult;
      try {
        const r = await runSipp({ scenario: 'call-hold-uac', target: pal.target, transport: t, inf: [csv], calls: 1, rate: 10, pauseMs: 300, timeoutS: 30, dir });
        assertAllPassed(r, 'call-hold-uac', 1);
      } finally {
        // the callee's call counts once its 2 s wait for a retransmitted BYE is over
        calleeResult = await callee.finish(5000);
      }
      // the callee saw the hold offer (a=sendonly) and then the resume arrive through Palisade
      assert.match(calleeResult.messages, /a=sendonly[\s\S]*a=sendrecv/);
      assert.equal(calleeResult.stats?.successful, 1, calleeResult.errors);
    });
  }

  test('a callee registered from two contacts rings on both; the first to answer wins (forking)', { timeout: 60_000 }, async () => {
    const callee = callees.u1![1]!;
    const [p1, p2] = await freeLocalPorts(2);
    const csv = join(dir, 'fork-callee.csv');
    writeFileSync(csv, sippCsv([callee]));
    for (const p of [p1!, p2!]) {
      const r = await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        transport: 'u1',
        inf: [csv],
        set: { contact: `127.0.0.1:${p}`, expires: '600' },
        calls: 1,
        rate: 10,
        timeoutS: 20,
        dir,
      });
      assertAllPassed(r, 'register-auth', 1);
    }
    const ringer = await startSipp({ scenario: 'uas-ring-no-answer', target: '127.0.0.1', transport: 'u1', port: p1, calls: 1, timeoutS: 40, traceMsg: true, dir });
    const answerer = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', transport: 'u1', port: p2, rtpEcho: true, timeoutS: 40, dir });
    const calls = join(dir, 'fork-calls.csv');
    writeFileSync(calls, sippCsv(callers.slice(2, 3), { peers: [callee.number] }));
    const seen = cdrsFor(callee.number).length;
    let ring: SippResult;
    try {
      const r = await runSipp({ scenario: 'call-auth-uac', target: pal.target, transport: 'u1', inf: [calls], calls: 1, rate: 10, pauseMs: 500, timeoutS: 30, dir });
      assertAllPassed(r, 'call-auth-uac (forked)', 1);
    } finally {
      ring = await ringer.finish(5000);
      await answerer.stop();
    }
    // the losing fork got a CANCEL for the INVITE it was ringing on (RFC 3261 §16.7 step 10 done by the B2BUA)
    const invite = /^INVITE [\s\S]*?^Call-ID:\s*(\S+)/m.exec(ring.messages);
    assert.ok(invite, ring.messages.slice(0, 2000));
    assert.match(ring.messages, new RegExp(`^CANCEL [\\s\\S]*?^Call-ID:\\s*${invite[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    assert.equal((await cdrsAfter(callee.number, seen)).at(-1)?.disposition, 'ANSWERED');
  });

  test('an unregistered callee is temporarily unavailable; an unknown number is not found', { timeout: 30_000 }, async () => {
    const csv = join(dir, 'unreg.csv');
    writeFileSync(csv, sippCsv(callers.slice(3, 4), { peers: ['1501'] }));
    // 1501 registered in the UDP tests; unregister it first
    const un = join(dir, 'unreg-callee.csv');
    writeFileSync(un, sippCsv([callees.u1![1]!]));
    const seen1501 = cdrsFor('1501').length;
    const seen4242 = cdrsFor('4242').length;
    assertAllPassed(await runSipp({ scenario: 'unregister', target: pal.target, transport: 'u1', inf: [un], calls: 1, rate: 10, timeoutS: 20, dir }), 'unregister', 1);
    const c = await runSipp({ scenario: 'call-auth-uac', target: pal.target, transport: 'u1', inf: [csv], calls: 1, rate: 10, timeoutS: 20, dir });
    assert.equal(c.stats?.failed, 1, c.errors);
    assert.match(c.errors, /SIP\/2\.0 480/);
    const csv2 = join(dir, 'nobody.csv');
    writeFileSync(csv2, sippCsv(callers.slice(3, 4), { peers: ['4242'] }));
    const d = await runSipp({ scenario: 'call-auth-uac', target: pal.target, transport: 'u1', inf: [csv2], calls: 1, rate: 10, timeoutS: 20, dir });
    assert.equal(d.stats?.failed, 1, d.errors);
    assert.match(d.errors, /SIP\/2\.0 404/);
    assert.equal((await cdrsAfter('1501', seen1501)).at(-1)?.disposition, 'NO ANSWER');
    assert.equal((await cdrsAfter('4242', seen4242)).at(-1)?.disposition, 'FAILED');
  });

  test("media is relayed by default; with direct_media on both extensions the callee gets the caller's own SDP", { timeout: 60_000 }, async () => {
    // a second Palisade whose two extensions come from the config file with direct_media
    const a = { number: '2701', secret: 'Pt-Xq7vLw2ZkR9mYt4', name: 'Direct A' };
    const b = { number: '2702', secret: 'Pt-Hb3nQw8JpV6sDe5', name: 'Direct B' };
    const yaml = [
      'registrar:',
      '  qualify_interval: 0',
      'extensions:',
      ...[a, b].map((u) => `  - { number: "${u.number}", name: "${u.name}", secret: "${u.secret}", context: internal, direct_media: true }`),
    ].join('\n');
    const direct = await startPalisade({ users: [callers[0]!, callees.u1![0]!], extraYaml: yaml });
    try {
      const sdpSeen = async (caller: TestUser, callee: TestUser): Promise<{ callerMedia: string; calleeSaw: string }> => {
        const [uas] = await freeLocalPorts(1);
        const reg = join(dir, `dm-reg-${callee.number}.csv`);
        writeFileSync(reg, sippCsv([callee]));
        assertAllPassed(
          await runSipp({
            scenario: 'register-auth',
            target: direct.target,
            transport: 'u1',
            inf: [reg],
            set: { contact: `127.0.0.1:${uas}`, expires: '300' },
            calls: 1,
            rate: 10,
            timeoutS: 20,
            dir,
          }),
          'register',
          1,
        );
        const callee1 = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', transport: 'u1', port: uas, timeoutS: 30, traceMsg: true, dir });
        const csv = join(dir, `dm-call-${caller.number}.csv`);
        writeFileSync(csv, sippCsv([caller], { peers: [callee.number] }));
        let r: SippResult;
        let seen: SippResult;
        try {
          r = await runSipp({ scenario: 'call-auth-uac', target: direct.target, transport: 'u1', inf: [csv], calls: 1, rate: 10, pauseMs: 200, timeoutS: 20, traceMsg: true, dir });
          assertAllPassed(r, 'call', 1);
        } finally {
          await new Promise((res) => setTimeout(res, 300));
          seen = await callee1.stop();
        }
        const callerMedia = /m=audio (\d+)/.exec(r.messages)?.[1] ?? '';
        const inv = seen.messages.split(/^-{10,}.*$/m).find((blk) => /^INVITE /m.test(blk)) ?? '';
        return { callerMedia, calleeSaw: /m=audio (\d+)/.exec(inv)?.[1] ?? '' };
      };
      const relayed = await sdpSeen(callers[0]!, callees.u1![0]!);
      assert.ok(relayed.callerMedia && relayed.calleeSaw, JSON.stringify(relayed));
      assert.notEqual(relayed.calleeSaw, relayed.callerMedia, 'the relay stands between ordinary extensions');
      const dm = await sdpSeen(a, b);
      assert.equal(dm.calleeSaw, dm.callerMedia, "direct media passes the caller's own media port");
    } finally {
      await direct.stop();
    }
  });

  test('calls.ring_timeout cancels a ringing callee (480 to the caller, CDR NO ANSWER); calls.max_duration ends an answered call with BYE to both', {
    timeout: 60_000,
  }, async () => {
    const caller = callers[1]!;
    const callee = callees.t1![1]!;
    const ringing = await startPalisade({ users: [caller, callee], extraYaml: `${NO_OPTIONS_NO_MWI}\ncalls:\n  ring_timeout: 2\n  max_duration: 2` });
    try {
      const [uas] = await freeLocalPorts(1);
      const reg = join(dir, 'rt-reg.csv');
      writeFileSync(reg, sippCsv([callee]));
      assertAllPassed(
        await runSipp({
          scenario: 'register-auth',
          target: ringing.target,
          transport: 'u1',
          inf: [reg],
          set: { contact: `127.0.0.1:${uas}`, expires: '300' },
          calls: 1,
          rate: 10,
          timeoutS: 20,
          dir,
        }),
        'register',
        1,
      );
      const ringer = await startSipp({ scenario: 'uas-ring-no-answer', target: '127.0.0.1', transport: 'u1', port: uas, calls: 1, timeoutS: 30, traceMsg: true, dir });
      const csv = join(dir, 'rt-call.csv');
      writeFileSync(csv, sippCsv([caller], { peers: [callee.number] }));
      const t0 = Date.now();
      let r: SippResult;
      let ring: SippResult;
      try {
        r = await runSipp({ scenario: 'call-auth-uac', target: ringing.target, transport: 'u1', inf: [csv], calls: 1, rate: 10, timeoutS: 20, dir });
      } finally {
        ring = await ringer.finish(5000);
      }
      const waited = Date.now() - t0;
      assert.equal(r.stats?.failed, 1, r.errors);
      assert.match(r.errors, /SIP\/2\.0 480/);
      assert.ok(waited >= 1900, `answered after ${waited} ms, before the 2 s ring timeout`);
      assert.match(ring.messages, /^CANCEL /m, 'the ringing phone is cancelled');
      const db2 = new Database(join(ringing.dir, 'palisade.db'), { readonly: true });
      try {
        // the row is written as the call ends, a moment after the phones see the end
        const row = (await pollUntil(() => db2.prepare('SELECT disposition, userfield FROM cdr WHERE dst = ?').get(callee.number))) as { disposition: string; userfield: string };
        assert.equal(row.disposition, 'NO ANSWER');
        assert.equal(row.userfield, 'ring timeout');
      } finally {
        db2.close();
      }

      // calls.max_duration: an answered call is ended by Palisade with a BYE to both sides
      const answerer = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', transport: 'u1', port: uas, calls: 1, timeoutS: 30, dir });
      let ended: SippResult;
      try {
        ended = await runSipp({ scenario: 'call-callee-bye-uac', target: ringing.target, transport: 'u1', inf: [csv], calls: 1, rate: 10, timeoutS: 20, dir });
      } finally {
        // the callee's call counts once its 2 s wait for a retransmitted BYE is over
        const calleeRun = await answerer.finish(5000);
        assert.equal(calleeRun.stats?.successful, 1, 'the callee got its BYE: ' + calleeRun.errors);
      }
      assert.equal(ended.stats?.successful, 1, 'the caller got its BYE: ' + ended.errors);
      const db3 = new Database(join(ringing.dir, 'palisade.db'), { readonly: true });
      try {
        const row = (await pollUntil(() => db3.prepare("SELECT disposition, userfield, billsec FROM cdr WHERE dst = ? AND disposition = 'ANSWERED'").get(callee.number))) as {
          disposition: string;
          userfield: string;
          billsec: number;
        };
        assert.equal(row.userfield, 'max-duration');
        assert.ok(row.billsec >= 2 && row.billsec <= 3, `billsec ${row.billsec}`);
      } finally {
        db3.close();
      }
    } finally {
      await ringing.stop();
    }
  });

  test('early media: a 183 with SDP reaches the caller rewritten to the relay before the 200', { timeout: 60_000 }, async () => {
    const callee = callees.u1![0]!;
    const [uas] = await freeLocalPorts(1);
    const reg = join(dir, 'em-reg.csv');
    writeFileSync(reg, sippCsv([callee]));
    assertAllPassed(
      await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        transport: 'u1',
        inf: [reg],
        set: { contact: `127.0.0.1:${uas}`, expires: '300' },
        calls: 1,
        rate: 10,
        timeoutS: 20,
        dir,
      }),
      'register',
      1,
    );
    const early = await startSipp({ scenario: 'uas-early-media', target: '127.0.0.1', transport: 'u1', port: uas, timeoutS: 30, traceMsg: true, dir });
    const csv = join(dir, 'em-call.csv');
    writeFileSync(csv, sippCsv(callers.slice(1, 2), { peers: [callee.number] }));
    let r: SippResult;
    let calleeRun: SippResult;
    try {
      r = await runSipp({ scenario: 'call-auth-uac', target: pal.target, transport: 'u1', inf: [csv], calls: 1, rate: 10, pauseMs: 300, timeoutS: 20, traceMsg: true, dir });
      assertAllPassed(r, 'call-auth-uac', 1);
    } finally {
      await new Promise((res) => setTimeout(res, 2500));
      calleeRun = await early.stop();
    }
    const blocks = r.messages.split(/^-{10,}.*$/m);
    const i183 = blocks.findIndex((b) => /^SIP\/2\.0 183 /m.test(b));
    const i200 = blocks.findIndex((b) => /^SIP\/2\.0 200 /m.test(b) && /CSeq:\s*\d+ INVITE/i.test(b));
    assert.ok(i183 >= 0, 'the caller got the 183');
    assert.ok(i183 < i200, '183 before 200');
    const calleePort = /m=audio (\d+)/.exec(calleeRun.messages.split(/^-{10,}.*$/m).find((b) => /^SIP\/2\.0 183 /m.test(b)) ?? '')?.[1];
    const callerSaw = /m=audio (\d+)/.exec(blocks[i183]!)?.[1];
    assert.ok(calleePort && callerSaw, 'both 183s carry SDP');
    assert.notEqual(callerSaw, calleePort, 'the early media goes through the relay');
    assert.equal(/m=audio (\d+)/.exec(blocks[i200]!)?.[1], callerSaw, 'the 200 keeps the same relay port as the early media');
  });
});
