// SIPp's standard digest against a real `palisade start` (issue 7):
// `REGISTER sip:127.0.0.1` answered with SIPp's [authentication], whose
// digest uri is always "sip:REMOTE_IP:REMOTE_PORT" — the server with its
// port, not the Request-URI. Several phones do the same. RFC 3261 §22.4
// item 6 lets the server accept a digest uri that names a user (or itself)
// for whom it accepts requests, so the registrar answers 200, logs no failed
// login and never bans the phone; a digest uri naming another server (here
// our address with a port we do not listen on) is still refused with 400
// (RFC 2617 §3.2.2.5) and logged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';

const PHONE = '127.0.0.3';
const OTHER = '127.0.0.4';
const THRESHOLD = 3;
const dir = mkdtempSync(join(tmpdir(), 'palisade-digest-uri-'));
const users = makeUsers(2, { first: 1000 });
let pal: PalisadeProcess;

before(async () => {
  pal = await startPalisade({
    users,
    extraYaml: ['registrar:', '  qualify_interval: 0', 'security:', '  log: { min_level: 0 }', '  ids:', `    auth_failures: { threshold: ${THRESHOLD} }`].join('\n'),
  });
});
after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function securityLog(): string[] {
  const file = join(pal.dir, 'var', 'security.log');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('res_security_log.c'))
    : [];
}

function why(r: SippResult): string {
  return `exit ${r.code}\n${r.errors.slice(0, 2000)}\n${r.messages.slice(-3000)}\nsecurity log:\n${securityLog().join('\n')}`;
}

for (const t of ['u1', 't1'] as const) {
  const tn = t === 'u1' ? 'UDP' : 'TCP';
  test(`REGISTER sip:127.0.0.1 with SIPp's digest uri "sip:127.0.0.1:PORT" gets 200, no failed login, no ban (${tn})`, { timeout: 60_000 }, async () => {
    const csv = join(dir, `phone-${t}.csv`);
    writeFileSync(csv, sippCsv(users.slice(0, 1)));
    // more registrations than the IDS threshold: refused ones would get the phone banned
    const calls = THRESHOLD + 2;
    const r = await runSipp({
      scenario: 'register-auth',
      target: pal.target,
      transport: t,
      inf: [csv],
      set: { ruri: '127.0.0.1', expires: '600' },
      calls,
      rate: 5,
      timeoutS: 30,
      traceMsg: true,
      dir,
      extraArgs: ['-i', PHONE],
    });
    // the case of issue 7: the Request-URI has no port, the digest uri has ours
    assert.match(r.messages, /^REGISTER sip:127\.0\.0\.1 SIP\/2\.0/m, why(r));
    assert.match(r.messages, new RegExp(`^Authorization: Digest .*uri="sip:127\\.0\\.0\\.1:${pal.sipPort}"`, 'm'), why(r));
    assert.equal(r.stats?.failed, 0, why(r));
    assert.equal(r.stats?.successful, calls, why(r));
    assert.doesNotMatch(r.messages, /SIP\/2\.0 400/, why(r));

    await sleep(400); // the security log is written asynchronously
    const fromPhone = securityLog().filter((l) => l.includes(`/${PHONE}/`));
    assert.ok(
      fromPhone.some((l) => l.includes('SecurityEvent="SuccessfulAuth"')),
      `the log is written (min_level 0):\n${fromPhone.join('\n')}`,
    );
    const failed = fromPhone.filter((l) => !/SecurityEvent="(ChallengeSent|SuccessfulAuth)"/.test(l));
    assert.deepEqual(failed, [], 'no failed login or any other event from the phone');
    const bans = (await controlRequest(join(pal.dir, 'control.sock'), 'bans', {})) as Array<{ address: string }>;
    assert.ok(!bans.some((b) => b.address === PHONE), `the phone is not banned: ${JSON.stringify(bans)}`);
  });
}

test('a digest uri naming our address with a port we do not listen on is still refused (400) and logged', { timeout: 60_000 }, async () => {
  const csv = join(dir, 'other.csv');
  writeFileSync(csv, sippCsv(users.slice(1, 2)));
  const r = await runSipp({
    scenario: 'register-auth',
    target: pal.target,
    inf: [csv],
    set: { ruri: '127.0.0.1' },
    calls: 1,
    rate: 5,
    timeoutS: 20,
    traceMsg: true,
    dir,
    extraArgs: ['-i', OTHER, '-auth_uri', '127.0.0.1:9'],
  });
  assert.match(r.messages, /^Authorization: Digest .*uri="sip:127\.0\.0\.1:9"/m, why(r));
  assert.match(r.messages, /^SIP\/2\.0 400 Digest URI Mismatch/m, why(r));
  assert.equal(r.stats?.successful, 0, why(r));
  await sleep(400);
  assert.ok(
    securityLog().some((l) => l.includes('SecurityEvent="InvalidPassword"') && l.includes(`/${OTHER}/`)),
    why(r),
  );
});
