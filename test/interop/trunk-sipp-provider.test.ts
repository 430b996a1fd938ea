// A provider played by SIPp scenarios of our own (test/sipp/provider-*.xml)
// against a real `palisade start`:
//   - registration: the provider answers REGISTER with 401, checks our
//     digest (SIPp verifyauth) and grants 6 s; Palisade refreshes in time
//   - a call out: route "national" (_0X., strip 1, prepend 49) tries the
//     trunk "down" (503) first, fails over to "up", which challenges the
//     INVITE with 407 and checks the trunk's (not the caller's) credentials;
//     the trunk's caller ID goes out in From and P-Asserted-Identity
//   - a call in to a DID from the provider's address: not challenged, the
//     inbound route sends it to the dialplan (ivr,s,1)
//   - the same INVITE from an unknown address is challenged (407) exactly
//     as before trunks existed; an inbound trunk call to a number only an
//     outbound route serves finds no route (no trunk-to-trunk by default)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { startPalisade } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { generateSecret } from '../../src/security/passwords/index.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** RFC 2617 §3.2.2.1 with qop=auth: does the Proxy-Authorization in the trace answer its challenge with this password? */
function digestValid(trace: string, method: string, user: string, password: string): boolean {
  const line = /Proxy-Authorization: Digest (.*)/i.exec(trace)?.[1];
  if (!line) return false;
  const p: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  const ha1 = md5(`${user}:${p.realm}:${password}`);
  const ha2 = md5(`${method}:${p.uri}`);
  return p.username === user && p.response === md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
}

test('SIPp as a provider: REGISTER with 401 and refresh, INVITE with 407 after failover from a 503 trunk, caller ID rules, a DID call in, strangers still challenged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunk-sipp-'));
  const [pReg, pDown, pUp] = await freeLocalPorts(3);
  const regSecret = generateSecret();
  const upSecret = generateSecret();
  const s1001 = generateSecret({ extension: '1001', name: 'Al' });
  writeFileSync(join(dir, 'reg.csv'), `SEQUENTIAL\nacct1;${regSecret}\n`);
  writeFileSync(join(dir, 'caller.csv'), `SEQUENTIAL\n1001;[authentication username=1001 password=${s1001}];030555\n`);
  const plan = join(dir, 'extensions.conf');
  writeFileSync(plan, ['[internal]', 'exten => 600,1,Hangup()', '[ivr]', 'exten => s,1,Answer()', ' same => n,Wait(1)', ' same => n,Hangup()', ''].join('\n'));

  const reg = await startSipp({
    scenario: 'provider-register-uas',
    target: '127.0.0.1',
    port: pReg,
    inf: [join(dir, 'reg.csv')],
    set: { expires: '6' },
    calls: 1,
    traceLogs: true,
    timeoutS: 60,
    dir,
  });
  const down = await startSipp({ scenario: 'provider-503-uas', target: '127.0.0.1', port: pDown, traceMsg: true, timeoutS: 60, dir });
  const up = await startSipp({ scenario: 'provider-invite-uas', target: '127.0.0.1', port: pUp, traceLogs: true, traceMsg: true, rtpEcho: true, timeoutS: 60, dir });
  const pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'extensions:',
      `  - { number: "1001", name: Al, secret: "${s1001}", context: internal }`,
      'dialplan:',
      `  file: ${plan}`,
      'trunks:',
      '  - name: provider',
      '    host: 127.0.0.1',
      `    port: ${pReg}`,
      '    username: acct1',
      `    secret: "${regSecret}"`,
      '    register: true',
      '    retry_interval: 1',
      '  - name: down',
      '    host: 127.0.0.1',
      `    port: ${pDown}`,
      '  - name: up',
      '    host: 127.0.0.1',
      `    port: ${pUp}`,
      '    username: acct2',
      `    secret: "${upSecret}"`,
      '    caller_id_number: "4930123456"',
      '    send_pai: true',
      'routes:',
      '  outbound:',
      '    - name: national',
      '      match: ["_0X."]',
      '      trunks: [down, up]',
      '      strip: 1',
      '      prepend: "49"',
      '      caller_id_name: Palisade Office',
      '  inbound:',
      '    - did: "4930123456"',
      '      to: "ivr,s,1"',
    ].join('\n'),
  });
  try {
    // registration with 401, then the refresh before the 6 s run out
    await pal.waitForEvent((e) => e.event === 'trunk-registered' && e.trunk === 'provider', 10_000);
    await pal.waitForEvent((e) => e.event === 'trunk-refreshed' && e.trunk === 'provider', 10_000);
    const r = await reg.done;
    assert.match(r.logs, /register-result: ok 1/);
    assert.match(r.logs, /register-result: ok 2/);
    assert.doesNotMatch(r.logs, /register-result: bad/);
    const show = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'show', 'trunks', '--config', pal.configPath], { encoding: 'utf8', timeout: 10_000 });
    assert.match(show.stdout, new RegExp(`provider\\s+sip\\s+127\\.0\\.0\\.1:${pReg}\\s+registered\\s+udp:127\\.0\\.0\\.1:${pReg}\\s+6\\s+2\\s`), show.stdout);

    // a call out: 030555 → 4930555; "down" answers 503, "up" challenges and answers
    const call = await runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [join(dir, 'caller.csv')], calls: 1, pauseMs: 2000, timeoutS: 30, dir });
    assert.equal(call.stats?.successful, 1, `${call.errors}\n${pal.lines.slice(-15).join('\n')}`);
    await pal.waitForEvent((e) => e.event === 'route-attempt' && e.trunk === 'down' && e.status === 'CONGESTION', 5000);
    await pal.waitForEvent((e) => e.event === 'route-attempt' && e.trunk === 'up' && e.status === 'ANSWER', 5000);
    const d = await down.stop();
    assert.match(d.messages, /INVITE sip:4930555@127\.0\.0\.1:\d+ SIP\/2\.0/, 'the 503 trunk got the rewritten number');
    const u = await up.stop();
    assert.match(u.logs, /invite-result: ok/, 'the provider accepted the trunk credentials on the INVITE');
    assert.match(u.messages, /INVITE sip:4930555@127\.0\.0\.1:\d+ SIP\/2\.0/);
    assert.match(u.messages, /From: "Palisade Office" <sip:4930123456@127\.0\.0\.1>/, 'trunk caller ID in From, route name');
    assert.match(u.messages, /P-Asserted-Identity: "Palisade Office" <sip:4930123456@127\.0\.0\.1>/i);
    assert.match(u.messages, /Proxy-Authorization: Digest username="acct2"/i, "the trunk's account, not the caller's");
    assert.ok(digestValid(u.messages, 'INVITE', 'acct2', upSecret), 'the INVITE digest answers the challenge with the trunk secret');

    // a call in from the provider's address and port: the DID's route, no challenge
    const inbound = await runSipp({
      scenario: 'provider-call-in-uac',
      target: pal.target,
      port: pUp,
      service: '4930123456',
      set: { cid: '015112345' },
      calls: 1,
      traceLogs: true,
      timeoutS: 20,
      dir,
    });
    assert.match(inbound.logs, /call-in-result: 200/, `${inbound.errors}\n${pal.lines.slice(-10).join('\n')}`);
    assert.equal(inbound.stats?.successful, 1);
    const ch = await pal.waitForEvent((e) => e.event === 'channel-new' && e.trunk === 'up', 5000);
    assert.equal(ch.context, 'from-trunk');
    await pal.waitForEvent((e) => e.event === 'inbound-route' && e.did === '4930123456' && e.to === 'ivr,s,1', 5000);

    // the trunk's caller dials a number only the outbound route serves: no route for a trunk call
    const t2t = await runSipp({
      scenario: 'provider-call-in-uac',
      target: pal.target,
      port: pUp,
      service: '0900123456',
      set: { cid: '015112345' },
      calls: 1,
      traceLogs: true,
      timeoutS: 20,
      dir,
    });
    assert.match(t2t.logs, /call-in-result: 404/);
    await pal.waitForEvent((e) => e.event === 'trunk-call-refused' && e.to === '0900123456' && e.why === 'no-route', 5000);

    // the same INVITE from an address that is no trunk: challenged as every stranger is
    const stranger = await runSipp({
      scenario: 'provider-call-in-uac',
      target: pal.target,
      service: '4930123456',
      set: { cid: '015112345' },
      calls: 1,
      traceLogs: true,
      timeoutS: 20,
      dir,
    });
    assert.match(stranger.logs, /call-in-result: 407/);
    assert.equal(pal.events().filter((e) => e.event === 'channel-new' && e.trunk === 'up').length, 1, 'only the provider’s own call entered');
  } finally {
    await reg.stop();
    await down.stop();
    await up.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
