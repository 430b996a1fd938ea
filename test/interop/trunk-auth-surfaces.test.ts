// The authentication surfaces trunks add, driven by SIPp against a real
// `palisade start`:
//   - a dynamic trunk's REGISTER (the far end registers to us): a wrong
//     password gets the registrar's 401 and is reported to the defences
//     (security event for the account, like a SIP guesser's); the right one
//     registers the peer
//   - an IP peer with auth_inbound: its INVITE from its address is
//     challenged with 407 and taken only with the trunk's own credentials
//     (digest both ways); the wrong ones get a fresh 407, and nothing enters
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade } from '../helpers/palisade-process.js';
import { runSipp } from '../helpers/sipp.js';
import { generateSecret } from '../../src/security/passwords/index.js';

/** the security log (Asterisk's format, what fail2ban reads) has a line with every part, within 5 s */
async function securityLogHas(dir: string, parts: string[]): Promise<void> {
  const file = join(dir, 'var', 'security.log');
  for (let i = 0; i < 50; i++) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
    if (lines.some((l) => parts.every((p) => l.includes(p)))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no security log line with ${parts.join(' ')}`);
}

test('trunk authentication surfaces: a dynamic trunk’s REGISTER (wrong password reported, right one registers) and an IP peer with digest both ways', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunk-auth-'));
  const branchSecret = generateSecret();
  const carrierSecret = generateSecret();
  writeFileSync(join(dir, 'branch-ok.csv'), `SEQUENTIAL\n9100;[authentication username=9100 password=${branchSecret}]\n`);
  writeFileSync(join(dir, 'branch-wrong.csv'), `SEQUENTIAL\n9100;[authentication username=9100 password=Wrong-${branchSecret}]\n`);
  writeFileSync(join(dir, 'carrier-ok.csv'), `SEQUENTIAL\n015112345;[authentication username=carrier1 password=${carrierSecret}];4930123456\n`);
  writeFileSync(join(dir, 'carrier-wrong.csv'), `SEQUENTIAL\n015112345;[authentication username=carrier1 password=Wrong-${carrierSecret}];4930123456\n`);
  const plan = join(dir, 'extensions.conf');
  writeFileSync(plan, ['[internal]', 'exten => 600,1,Hangup()', '[ivr]', 'exten => s,1,Answer()', ' same => n,Wait(10)', ' same => n,Hangup()', ''].join('\n'));
  const pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'dialplan:',
      `  file: ${plan}`,
      'trunks:',
      '  - { name: branch, host: dynamic, username: "9100", secret: "' + branchSecret + '" }',
      '  - { name: carrier, host: 192.0.2.50, allow_from: [127.0.0.5/32], auth_inbound: true, username: carrier1, secret: "' + carrierSecret + '" }',
      'routes:',
      '  inbound:',
      '    - { did: "4930123456", to: "ivr,s,1" }',
    ].join('\n'),
  });
  try {
    const wrong = await runSipp({ scenario: 'register-wrong-password', target: pal.target, inf: [join(dir, 'branch-wrong.csv')], calls: 1, traceLogs: true, timeoutS: 20, dir });
    assert.match(wrong.logs, /wrong-password-result: 401/);
    await securityLogHas(pal.dir, ['SecurityEvent="InvalidPassword"', 'AccountID="9100"', 'Service="SIP"']);
    assert.equal(pal.events().filter((e) => e.event === 'trunk-peer-registered').length, 0);
    const ok = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [join(dir, 'branch-ok.csv')], calls: 1, timeoutS: 20, dir });
    assert.equal(ok.stats?.successful, 1, ok.errors);
    await pal.waitForEvent((e) => e.event === 'trunk-peer-registered' && e.trunk === 'branch', 5000);

    // the IP peer from its address, wrong credentials: challenged again, no channel
    const bad = await runSipp({
      scenario: 'call-expect-uac',
      target: pal.target,
      inf: [join(dir, 'carrier-wrong.csv')],
      calls: 1,
      traceLogs: true,
      timeoutS: 20,
      dir,
      extraArgs: ['-i', '127.0.0.5'],
    });
    assert.doesNotMatch(bad.logs, /call-result: 200/);
    await securityLogHas(pal.dir, ['SecurityEvent="InvalidPassword"', 'AccountID="carrier1"']);
    assert.equal(pal.events().filter((e) => e.event === 'channel-new').length, 0);
    // right credentials: the DID's route takes it
    const good = await runSipp({
      scenario: 'call-auth-uac',
      target: pal.target,
      inf: [join(dir, 'carrier-ok.csv')],
      calls: 1,
      pauseMs: 1000,
      timeoutS: 20,
      dir,
      extraArgs: ['-i', '127.0.0.5'],
    });
    assert.equal(good.stats?.successful, 1, good.errors);
    const ch = await pal.waitForEvent((e) => e.event === 'channel-new' && e.trunk === 'carrier', 5000);
    assert.equal(ch.context, 'from-trunk');
  } finally {
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
