// Two offices, each a real `palisade start` process with its own extension
// range, linked by a SIP trunk: office A registers to office B (B's trunk is
// host: dynamic), the configuration contract verbatim
// (routes.outbound[].match/trunks/strip/prepend, routes.inbound[].did/to).
// A baresip phone in each office calls the other office's phone by
// extension number, both ways; the audio is proven from the phones'
// recordings (a 440 Hz tone one way, 1000 Hz the other), each side keeps its
// CDR row, and the trunk's registration is visible in `palisade show
// trunks` and refreshed before it expires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPalisade } from '../helpers/palisade-process.js';
import type { Baresip } from '../helpers/baresip.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { assertHeard, cdrRowsOnce, officePhone, show } from '../helpers/office-link.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('two Palisade offices linked by a registered SIP trunk: calls both ways by extension number, audio both ways, CDR on both sides, registration shown and refreshed', async () => {
  const [portA, portB] = await freeLocalPorts(2);
  const trunkSecret = generateSecret();
  const s1001 = generateSecret({ extension: '1001', name: 'Al' });
  const s2001 = generateSecret({ extension: '2001', name: 'Bea' });
  // office B: extensions 2XXX; office A registers to it as 9000 (host: dynamic)
  const b = await startPalisade({
    sipPort: portB,
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  min_expires: 5',
      'extensions:',
      `  - { number: "2001", name: Bea, secret: "${s2001}", context: internal }`,
      'trunks:',
      '  - name: office-a',
      '    type: sip',
      '    host: dynamic',
      '    username: "9000"',
      `    secret: "${trunkSecret}"`,
      'routes:',
      '  outbound:',
      '    - name: to-office-a',
      '      match: ["_1XXX"]',
      '      trunks: [office-a]',
      '      strip: 0',
      '      prepend: ""',
      '  inbound:',
      '    - did: "_2XXX"',
      '      to: "${EXTEN}"',
    ].join('\n'),
  });
  // office A: extensions 1XXX; the contract, with a short expiry so the refresh is seen
  const a = await startPalisade({
    sipPort: portA,
    transports: ['udp'],
    extraYaml: [
      'extensions:',
      `  - { number: "1001", name: Al, secret: "${s1001}", context: internal }`,
      'trunks:',
      '  - name: office-b',
      '    type: sip',
      '    host: 127.0.0.1',
      `    port: ${portB}`,
      '    username: "9000"',
      `    secret: "${trunkSecret}"`,
      '    register: true',
      '    expiry: 10',
      'routes:',
      '  outbound:',
      '    - name: to-office-b',
      '      match: ["_2XXX"]',
      '      trunks: [office-b]',
      '      strip: 0',
      '      prepend: ""',
      '  inbound:',
      '    - did: "_1XXX"',
      '      to: "${EXTEN}"',
    ].join('\n'),
  });
  const phones: Baresip[] = [];
  try {
    // registration: A answered B's 401 with the trunk's digest, B shows the peer
    await a.waitForEvent((e) => e.event === 'trunk-registered' && e.trunk === 'office-b', 10_000);
    await b.waitForEvent((e) => e.event === 'trunk-peer-registered' && e.trunk === 'office-a', 5000);
    assert.match(show(a, 'trunks'), /office-b\s+sip\s+127\.0\.0\.1:\d+\s+registered\s+udp:127\.0\.0\.1:\d+\s+10\s+1\s/);
    assert.match(show(b, 'trunks'), /office-a\s+sip\s+dynamic \(127\.0\.0\.1:\d+\)\s+peer-registered/);

    const alice = await officePhone(a, 'alice', '1001', s1001, 440);
    const bea = await officePhone(b, 'bea', '2001', s2001, 1000);
    phones.push(alice, bea);

    // A → B: 1001 dials 2001 at its own office; the route takes it out of the trunk
    await alice.dial(`sip:2001@127.0.0.1:${portA}`);
    await bea.waitEvent('CALL_ESTABLISHED', 10_000);
    await alice.waitEvent('CALL_ESTABLISHED', 10_000);
    await sleep(3000);
    await alice.hangup();
    await bea.waitEvent('CALL_CLOSED', 10_000);

    // B → A over the same trunk: B sends to where A registered from
    const am = alice.mark();
    await bea.dial(`sip:1001@127.0.0.1:${portB}`);
    await alice.waitEvent('CALL_ESTABLISHED', 10_000, am);
    await sleep(3000);
    await bea.hangup();
    await alice.waitEvent('CALL_CLOSED', 10_000, am);

    // audio crossed both offices both ways, in both calls
    assertHeard(bea, 'alice', 440, 2);
    assertHeard(alice, 'bea', 1000, 2);

    // CDR rows on both sides (written when the channels end)
    const rowsA = await cdrRowsOnce(a, 2, 'A');
    const rowsB = await cdrRowsOnce(b, 2, 'B');
    const outA = rowsA.find((r) => r.src === '1001' && r.dst === '2001');
    assert.ok(outA, JSON.stringify(rowsA));
    assert.equal(outA.disposition, 'ANSWERED');
    assert.match(String(outA.dstchannel), /^SIP\/office-b-/);
    assert.ok(Number(outA.billsec) >= 2);
    const inB = rowsB.find((r) => r.src === '1001' && r.dst === '2001');
    assert.ok(inB, JSON.stringify(rowsB));
    assert.equal(inB.disposition, 'ANSWERED');
    assert.match(String(inB.channel), /^SIP\/office-a-/, 'the call entered B on its trunk');
    assert.equal(inB.dcontext, 'from-trunk');
    const outB = rowsB.find((r) => r.src === '2001' && r.dst === '1001');
    assert.ok(outB && outB.disposition === 'ANSWERED', JSON.stringify(rowsB));
    assert.match(String(outB.dstchannel), /^SIP\/office-a-/);
    const inA = rowsA.find((r) => r.src === '2001' && r.dst === '1001');
    assert.ok(inA && inA.disposition === 'ANSWERED', JSON.stringify(rowsA));
    assert.match(String(inA.channel), /^SIP\/office-b-/);

    // the registration is refreshed before its 10 s run out, and B saw the refresh
    await a.waitForEvent((e) => e.event === 'trunk-refreshed' && e.trunk === 'office-b', 15_000);
    await b.waitForEvent((e) => e.event === 'trunk-peer-refreshed' && e.trunk === 'office-a', 5000);
    const line = show(a, 'trunks')
      .split('\n')
      .find((l) => l.startsWith('office-b'));
    const registrations = Number(line?.trim().split(/\s+/)[6]);
    assert.ok(registrations >= 2, `registrations shown: ${line}`);
  } finally {
    for (const p of phones) await p.stop();
    await a.stop();
    await b.stop();
  }
});
