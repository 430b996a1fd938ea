// Every SIPp scenario in test/sipp/ run for real: each caller scenario
// against its callee scenario directly (the callee challenges with 407
// itself), and through Kamailio 5.6 as registrar + authenticating proxy,
// over UDP and TCP. Proves the scenarios, not Palisade: Palisade's interop
// tests use the same files against Palisade.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { startKamailio, type KamailioProcess } from '../helpers/kamailio.js';
import { makeUsers, sippCsv } from '../helpers/users.js';

const PAIRS: ReadonlyArray<[uac: string, uas: string]> = [
  ['call-auth-uac', 'uas-answer'],
  ['call-busy-uac', 'uas-busy'],
  ['call-cancel-uac', 'uas-ring-no-answer'],
  ['call-callee-bye-uac', 'uas-bye'],
  ['call-hold-uac', 'uas-hold'],
];
// Direct runs only: a 180 sent after the 200 must not fail the caller.
const DIRECT_ONLY: ReadonlyArray<[uac: string, uas: string]> = [['call-auth-uac', 'uas-late-180']];
const TRANSPORTS = ['u1', 't1'] as const;
const CALLS = 2;

function assertAllPassed(r: SippResult, what: string, calls = CALLS): void {
  const why = `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.stdout.slice(-1500)}`;
  assert.ok(r.stats, `${what}: no statistics\n${r.stderr}`);
  assert.equal(r.stats.failed, 0, why);
  assert.equal(r.stats.successful, calls, why);
  assert.equal(r.code, 0, why);
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-sipp-scn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('SIPp caller scenarios against callee scenarios, no server between', () => {
  const users = makeUsers(CALLS, { first: 1000 });
  const csv = join(dir, 'direct.csv');
  writeFileSync(csv, sippCsv(users));
  for (const t of TRANSPORTS) {
    for (const [uac, uas] of [...PAIRS, ...DIRECT_ONLY]) {
      test(`${uac} -> ${uas} (${t === 'u1' ? 'UDP' : 'TCP'})`, { timeout: 60_000 }, async () => {
        const callee = await startSipp({ scenario: uas, target: '127.0.0.1', transport: t, set: { challenge: '1' }, pauseMs: 200, rtpEcho: true, timeoutS: 40, dir });
        const r = await runSipp({
          scenario: uac,
          target: `127.0.0.1:${callee.port}`,
          transport: t,
          inf: [csv],
          service: '1500',
          calls: CALLS,
          rate: 10,
          pauseMs: 200,
          timeoutS: 30,
          dir,
        }).catch(async (e: unknown) => {
          await callee.stop();
          throw e;
        });
        const u = await callee.stop();
        assertAllPassed(r, uac);
        assert.equal(u.stats?.created, CALLS, `${uas} saw ${u.stats?.created} calls\n${u.stderr}\n${u.errors.slice(0, 2000)}`);
      });
    }
  }
});

describe('message-auth against a server whose challenge to a retransmission comes late', () => {
  // Under load both Palisade (401) and Kamailio (407) challenge the first
  // MESSAGE's retransmission statelessly with a fresh nonce, and that
  // challenge can arrive after the authenticated MESSAGE went out: the
  // sender must not abort on it (it did, failing the bench's message steps).
  test('message-auth ignores a late 401 of its first transaction and takes the 200', { timeout: 60_000 }, async () => {
    const users = makeUsers(1, { first: 1000 });
    const csv = join(dir, 'late.csv');
    writeFileSync(csv, sippCsv(users));
    const uas = await startSipp({ scenario: 'uas-message-late-challenge', target: '127.0.0.1', traceMsg: true, timeoutS: 40, dir });
    const r = await runSipp({ scenario: 'message-auth', target: `127.0.0.1:${uas.port}`, inf: [csv], set: { to: '1500' }, calls: 1, timeoutS: 30, dir }).catch(
      async (e: unknown) => {
        await uas.stop();
        throw e;
      },
    );
    const u = await uas.stop();
    assertAllPassed(r, 'message-auth', 1);
    // the late challenge was really sent (a second 401, with CSeq 1) before the 200
    assert.equal((u.messages.match(/^SIP\/2\.0 401 Unauthorized/gm) ?? []).length, 2, u.messages.slice(-3000));
    assert.equal(u.stats?.successful, 1, u.errors.slice(0, 2000));
  });
});

describe('SIPp scenarios through Kamailio (registrar + digest proxy)', () => {
  let kam: KamailioProcess;
  // Callers 1000.. and callees 1500.. with the bench's derived secrets,
  // which bench/kamailio/kamailio.cfg checks.
  const callers = makeUsers(CALLS, { first: 1000, secrets: 'bench' });
  const callees: Record<string, ReturnType<typeof makeUsers>> = {
    u1: makeUsers(CALLS, { first: 1500, secrets: 'bench' }),
    t1: makeUsers(CALLS, { first: 1600, secrets: 'bench' }),
  };
  const uasPort: Record<string, number> = {};

  before(async () => {
    kam = await startKamailio({ tcp: true });
    [uasPort.u1, uasPort.t1] = await freeLocalPorts(2);
  });
  after(async () => {
    await kam?.stop();
  });

  for (const t of TRANSPORTS) {
    const tn = t === 'u1' ? 'UDP' : 'TCP';
    test(`register-auth registers callees (${tn})`, { timeout: 30_000 }, async () => {
      const csv = join(dir, `callees-${t}.csv`);
      writeFileSync(csv, sippCsv(callees[t]));
      const r = await runSipp({
        scenario: 'register-auth',
        target: kam.target,
        transport: t,
        inf: [csv],
        set: { contact: `127.0.0.1:${uasPort[t]}`, expires: '600' },
        calls: CALLS,
        rate: 20,
        timeoutS: 20,
        dir,
      });
      assertAllPassed(r, 'register-auth');
    });

    test(`register-wrong-password is refused with 401 (${tn})`, { timeout: 30_000 }, async () => {
      const csv = join(dir, `wrong-${t}.csv`);
      writeFileSync(csv, sippCsv(callers, { wrongPassword: true }));
      const r = await runSipp({ scenario: 'register-wrong-password', target: kam.target, transport: t, inf: [csv], calls: CALLS, rate: 20, timeoutS: 20, traceLogs: true, dir });
      assertAllPassed(r, 'register-wrong-password');
      const got = r.logs.match(/wrong-password-result: (\d+)/g) ?? [];
      assert.deepEqual(got, Array(CALLS).fill('wrong-password-result: 401'));
    });

    for (const [uac, uas] of PAIRS) {
      test(`${uac} -> Kamailio -> ${uas} (${tn})`, { timeout: 60_000 }, async () => {
        const callee = await startSipp({ scenario: uas, target: '127.0.0.1', transport: t, port: uasPort[t], pauseMs: 200, rtpEcho: true, timeoutS: 40, dir });
        const csv = join(dir, `calls-${t}.csv`);
        writeFileSync(csv, sippCsv(callers, { peers: callees[t].map((u) => u.number) }));
        try {
          const r = await runSipp({ scenario: uac, target: kam.target, transport: t, inf: [csv], calls: CALLS, rate: 10, pauseMs: 200, timeoutS: 30, dir });
          assertAllPassed(r, uac);
        } finally {
          await callee.stop();
        }
      });
    }

    // The MESSAGE bench's pair (bench/run.mjs, part "messages"): Kamailio
    // challenges with 407 (Palisade with 401: message-auth takes either) and
    // relays to the recipient's contact, whose 200 comes back to the sender.
    test(`message-auth -> Kamailio -> uas-message (${tn})`, { timeout: 60_000 }, async () => {
      const recipient = await startSipp({ scenario: 'uas-message', target: '127.0.0.1', transport: t, port: uasPort[t], timeoutS: 40, dir });
      const csv = join(dir, `messages-${t}.csv`);
      writeFileSync(csv, sippCsv(callers, { peers: callees[t].map((u) => u.number) }));
      const r = await runSipp({ scenario: 'message-auth', target: kam.target, transport: t, inf: [csv], calls: CALLS, rate: 10, timeoutS: 30, traceMsg: true, dir }).catch(
        async (e: unknown) => {
          await recipient.stop();
          throw e;
        },
      );
      const got = await recipient.stop();
      assertAllPassed(r, 'message-auth');
      assert.match(r.messages, /SIP\/2\.0 407 /, 'challenged by the proxy with 407');
      assert.match(r.messages, /Proxy-Authorization: Digest/, 'answered with Proxy-Authorization');
      assert.equal(got.stats?.successful, CALLS, `the recipient answered every MESSAGE\n${got.errors.slice(0, 2000)}`);
    });

    test(`unregister removes the callees' bindings (${tn})`, { timeout: 30_000 }, async () => {
      const csv = join(dir, `callees-${t}.csv`);
      const r = await runSipp({ scenario: 'unregister', target: kam.target, transport: t, inf: [csv], calls: CALLS, rate: 20, timeoutS: 20, dir });
      assertAllPassed(r, 'unregister');
      // With no binding left, Kamailio answers the INVITE with 404: the call fails.
      const calls = join(dir, `calls-${t}.csv`);
      const c = await runSipp({ scenario: 'call-auth-uac', target: kam.target, transport: t, inf: [calls], calls: 1, rate: 10, timeoutS: 20, dir });
      assert.equal(c.stats?.failed, 1, c.errors);
      assert.match(c.errors, /SIP\/2\.0 404/);
    });
  }
});
