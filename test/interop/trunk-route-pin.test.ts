// An outbound route with a PIN (FreePBX's route password), driven by SIPp
// against a real `palisade start`: the caller keys the PIN by SIP INFO,
// the route then dials its trunk (a SIPp UAS that answers and hangs up);
// a caller who keys wrong PINs three times is hung up before any trunk is
// rung, and each wrong PIN is an InvalidPassword line in the security log
// (Service "OutboundRoute"), as every PIN is — never the PIN itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { generateSecret } from '../../src/security/passwords/index.js';

const PIN = '804213';

test('a route PIN: the right one dials the trunk, three wrong ones hang up and are reported like any PIN', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunk-pin-'));
  const [pTrunk] = await freeLocalPorts(1);
  const s1001 = generateSecret({ extension: '1001', name: 'Al' });
  writeFileSync(join(dir, 'caller.csv'), `SEQUENTIAL\n1001;[authentication username=1001 password=${s1001}];0301234\n`);
  const far = await startSipp({ scenario: 'uas-bye', target: '127.0.0.1', port: pTrunk, pauseMs: 1000, timeoutS: 90, dir });
  const pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'extensions:',
      `  - { number: "1001", name: Al, secret: "${s1001}", context: internal }`,
      'trunks:',
      `  - { name: provider, host: 127.0.0.1, port: ${pTrunk} }`,
      'routes:',
      '  outbound:',
      `    - { name: national, match: ["_0X."], trunks: [provider], pin: "${PIN}" }`,
    ].join('\n'),
  });
  try {
    const good = await runSipp({ scenario: 'call-keys-uac', target: pal.target, inf: [join(dir, 'caller.csv')], set: { keys: `,${PIN}#` }, calls: 1, timeoutS: 60, dir });
    assert.equal(good.stats?.successful, 1, good.errors);
    await pal.waitForEvent((e) => e.event === 'route-attempt' && e.route === 'national' && e.status === 'ANSWER', 5000);

    const bad = await runSipp({
      scenario: 'call-keys-uac',
      target: pal.target,
      inf: [join(dir, 'caller.csv')],
      set: { keys: ',111111#,,,222222#,,,333333#' },
      calls: 1,
      timeoutS: 60,
      dir,
    });
    assert.equal(bad.stats?.successful, 1, `hung up by Palisade: ${bad.errors}`);
    assert.equal(pal.events().filter((e) => e.event === 'route-attempt').length, 1, 'no trunk rung for the wrong PINs');
    const file = join(pal.dir, 'var', 'security.log');
    let lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      lines = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.includes('SecurityEvent="InvalidPassword"') && l.includes('Service="OutboundRoute"'))
        : [];
      if (lines.length >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(lines.length, 3, 'each wrong PIN reported');
    assert.ok(!readFileSync(file, 'utf8').includes(PIN), 'the PIN is never logged');
  } finally {
    await far.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
