// Kamailio 5.6 as the provider (bench/kamailio/kamailio.cfg: a registrar
// and authenticating proxy whose users 1000..1999 are the provider's
// accounts). Palisade registers its trunk as account 1100 (digest, realm =
// the To domain), calls out through Kamailio to another account (1200, a
// SIPp UAS registered there) answering Kamailio's 407 with the trunk's
// credentials and its own From user as Kamailio demands, and takes a call
// that another account (1300) places to 1100: Kamailio relays it to
// Palisade's registered Contact, Palisade recognises the trunk by source
// and sends it to the inbound route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio } from '../helpers/kamailio.js';
import { startPalisade } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { benchSecret } from '../helpers/users.js';
import { generateSecret } from '../../src/security/passwords/index.js';

test('Kamailio as the provider: the trunk registers as one of its accounts, calls out to another account through it, and takes a call from a third', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunk-kamailio-'));
  const kam = await startKamailio();
  const [uasPort] = await freeLocalPorts(1);
  const s1001 = generateSecret({ extension: '1001', name: 'Al' });
  const auth = (u: string) => `${u};[authentication username=${u} password=${benchSecret(u)}]`;
  writeFileSync(join(dir, 'callee.csv'), `SEQUENTIAL\n${auth('1200')}\n`);
  writeFileSync(join(dir, 'caller.csv'), `SEQUENTIAL\n1001;[authentication username=1001 password=${s1001}];1200\n`);
  writeFileSync(join(dir, 'outsider.csv'), `SEQUENTIAL\n${auth('1300')};1100\n`);
  const plan = join(dir, 'extensions.conf');
  writeFileSync(plan, ['[internal]', 'exten => 600,1,Hangup()', '[ivr]', 'exten => s,1,Answer()', ' same => n,Wait(1)', ' same => n,Hangup()', ''].join('\n'));
  // account 1200 takes the one outbound call, then exits by itself (-m 1)
  const callee = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, calls: 1, timeoutS: 60, dir });
  let pal: Awaited<ReturnType<typeof startPalisade>> | null = null;
  try {
    // the provider's account 1200 is a SIPp UAS
    const reg = await runSipp({
      scenario: 'register-auth',
      target: kam.target,
      inf: [join(dir, 'callee.csv')],
      calls: 1,
      set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
      timeoutS: 20,
      dir,
    });
    assert.equal(reg.stats?.successful, 1, reg.errors);
    pal = await startPalisade({
      transports: ['udp'],
      extraYaml: [
        'extensions:',
        `  - { number: "1001", name: Al, secret: "${s1001}", context: internal }`,
        'dialplan:',
        `  file: ${plan}`,
        'trunks:',
        '  - name: kam',
        '    host: 127.0.0.1',
        `    port: ${kam.port}`,
        '    username: "1100"',
        `    secret: "${benchSecret('1100')}"`,
        '    register: true',
        '    from_user: "1100"',
        'routes:',
        '  outbound:',
        '    - { name: provider, match: ["_12XX"], trunks: [kam] }',
        '  inbound:',
        '    - { did: "1100", to: "ivr,s,1" }',
      ].join('\n'),
    });
    await pal.waitForEvent((e) => e.event === 'trunk-registered' && e.trunk === 'kam', 10_000);

    // out: 1001 → route → Kamailio (407, the trunk's digest) → account 1200
    const out = await runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [join(dir, 'caller.csv')], calls: 1, pauseMs: 1500, timeoutS: 30, dir });
    assert.equal(out.stats?.successful, 1, `${out.errors}\n${pal.lines.slice(-10).join('\n')}\n${kam.log().slice(-2000)}`);
    await pal.waitForEvent((e) => e.event === 'route-attempt' && e.trunk === 'kam' && e.status === 'ANSWER', 5000);
    // the UAS keeps each call 2 s after its BYE (timewait) before counting it; the BYE may come after the caller is done
    const c = await callee.finish(5000);
    assert.ok((c.stats?.successful ?? 0) >= 1, 'the provider delivered the call to account 1200');

    // in: account 1300 calls 1100; Kamailio relays to Palisade's Contact; the DID's route answers and hangs up
    const inbound = await runSipp({ scenario: 'call-callee-bye-uac', target: kam.target, inf: [join(dir, 'outsider.csv')], calls: 1, timeoutS: 30, dir });
    assert.equal(inbound.stats?.successful, 1, `${inbound.errors}\n${pal.lines.slice(-10).join('\n')}`);
    const ch = await pal.waitForEvent((e) => e.event === 'channel-new' && e.trunk === 'kam', 5000);
    assert.equal(ch.exten, '1100');
    await pal.waitForEvent((e) => e.event === 'inbound-route' && e.to === 'ivr,s,1', 5000);
  } finally {
    await callee.stop();
    await pal?.stop();
    await kam.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
