// Two offices, each a real `palisade start` process with its own extension
// range, linked by an IAX2 trunk (RFC 5456): office B registers to office A
// over IAX2 (REGREQ/REGAUTH/REGACK with the MD5 challenge and a call token;
// A's trunk is host: dynamic), the configuration contract with
// type: iax2. A baresip phone (SIP) in each office calls the other office's
// phone by extension number, both ways: SIP in, Dial() through the
// dial-technology registry to IAX2 out of the trunk, IAX2 in at the other
// office and Dial() back to SIP. The audio is proven from the phones'
// recordings (440 Hz one way, 1000 Hz the other), each side keeps its CDR
// row naming the IAX2 trunk channel, and the registration is visible in
// `palisade show trunks` / `palisade show iax2` and refreshed before it
// expires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Baresip } from '../helpers/baresip.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { assertHeard, cdrRowsOnce, officePhone, startIax2Office, show, dumpOffices } from '../helpers/office-link.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('two Palisade offices linked by an IAX2 trunk with registration: calls both ways by extension number, audio both ways, CDR on both sides, registration shown and refreshed', {
  timeout: 150_000,
}, async () => {
  const [portA, portB, iaxA, iaxB] = await freeLocalPorts(4);
  const trunkSecret = generateSecret();
  const s1001 = generateSecret({ extension: '1001', name: 'Al' });
  const s2001 = generateSecret({ extension: '2001', name: 'Bea' });
  // office A: extensions 1XXX; office B registers to it over IAX2 as 9000 (host: dynamic)
  const a = await startIax2Office(portA, {
    extension: { number: '1001', name: 'Al', secret: s1001 },
    iaxPort: iaxA,
    iax2: ['refresh: 10', 'min_refresh: 5'],
    trunks: [{ name: 'office-b', iax: 'dynamic', username: '9000', secret: trunkSecret }],
    outbound: [{ name: 'to-office-b', match: '_2XXX', trunk: 'office-b', extra: ['strip: 0', 'prepend: ""'] }],
    inbound: ['_1XXX'],
  });
  // office B: extensions 2XXX; registers to A with a 10 s refresh so the refresh is seen
  const b = await startIax2Office(portB, {
    extension: { number: '2001', name: 'Bea', secret: s2001 },
    iaxPort: iaxB,
    iax2: ['refresh: 10'],
    trunks: [{ name: 'office-a', iax: iaxA, username: '9000', secret: trunkSecret, extra: ['register: true'] }],
    outbound: [{ name: 'to-office-a', match: '_1XXX', trunk: 'office-a', extra: ['strip: 0', 'prepend: ""'] }],
    inbound: ['_2XXX'],
  });
  const phones: Baresip[] = [];
  try {
    // registration: B answered A's REGAUTH challenge with the trunk's secret, A holds the binding
    await b.waitForEvent((e) => e.event === 'iax2-trunk-registration' && e.trunk === 'office-a' && e.state === 'registered', 10_000);
    await a.waitForEvent((e) => e.event === 'iax2-registered' && e.username === '9000' && e.kind === 'trunk', 5000);
    assert.match(show(b, 'trunks'), /office-a\s+iax2\s+127\.0\.0\.1:\d+\s+registered\s+/);
    assert.match(show(a, 'trunks'), /office-b\s+iax2\s+dynamic \(127\.0\.0\.1:\d+\)\s+peer-registered/);
    assert.match(show(a, 'iax2'), /9000/);

    const alice = await officePhone(a, 'alice', '1001', s1001, 440, true);
    const bea = await officePhone(b, 'bea', '2001', s2001, 1000, true);
    phones.push(alice, bea);

    // A → B: 1001 dials 2001 at its own office; the route sends it to B, which registered over IAX2
    await alice.dial(`sip:2001@127.0.0.1:${portA}`);
    await bea.waitEvent('CALL_ESTABLISHED', 15_000);
    await alice.waitEvent('CALL_ESTABLISHED', 10_000);
    await sleep(3000);
    // bea holds and resumes: her leg at B has no SIP dialog on the other side (the call came by
    // IAX2), so B answers her re-INVITEs for that leg itself — 200, never 488
    await bea.mustCommand('hold');
    await sleep(1000);
    await bea.mustCommand('resume');
    await sleep(1000);
    await alice.hangup();
    await bea.waitEvent('CALL_CLOSED', 10_000);
    const me = `127.0.0.1:${bea.opts.sipPort}`;
    const reinviteAnswers = bea
      .sipTrace()
      .filter((m) => m.dst === me && m.startLine.startsWith('SIP/2.0 ') && !m.startLine.startsWith('SIP/2.0 1') && m.headers.some((h) => /^cseq:\s*\d+\s+INVITE/i.test(h)))
      .map((m) => `${m.startLine.split(' ')[1]} ${m.sdp.find((l) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l))?.slice(2) ?? 'sendrecv'}`);
    assert.deepEqual(reinviteAnswers, ['200 recvonly', '200 sendrecv'], 'B answered the hold and the resume');

    // B → A over the same trunk: B's route dials IAX2 to A's address
    const am = alice.mark();
    await bea.dial(`sip:1001@127.0.0.1:${portB}`);
    await alice.waitEvent('CALL_ESTABLISHED', 15_000, am);
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
    assert.match(String(outA.dstchannel), /^IAX2\/office-b-/);
    assert.ok(Number(outA.billsec) >= 2);
    const inB = rowsB.find((r) => r.src === '1001' && r.dst === '2001');
    assert.ok(inB, JSON.stringify(rowsB));
    assert.equal(inB.disposition, 'ANSWERED');
    assert.match(String(inB.channel), /^IAX2\/office-a-/, 'the call entered B on its IAX2 trunk');
    assert.equal(inB.dcontext, 'from-trunk');
    const outB = rowsB.find((r) => r.src === '2001' && r.dst === '1001');
    assert.ok(outB && outB.disposition === 'ANSWERED', JSON.stringify(rowsB));
    assert.match(String(outB.dstchannel), /^IAX2\/office-a-/);
    const inA = rowsA.find((r) => r.src === '2001' && r.dst === '1001');
    assert.ok(inA && inA.disposition === 'ANSWERED', JSON.stringify(rowsA));
    assert.match(String(inA.channel), /^IAX2\/office-b-/);
    assert.equal(inA.dcontext, 'from-trunk');

    // the registration is refreshed before its 10 s run out (at three quarters), and A saw the refresh
    await b.waitForEvent((e) => e.event === 'iax2-trunk-registration' && e.trunk === 'office-a' && Number(e.registrations) >= 2, 15_000);
    await waitFor('A took the refresh', () => a.events().filter((e) => e.event === 'iax2-registered' && e.username === '9000').length >= 2, 5000);
    const line = show(b, 'trunks')
      .split('\n')
      .find((l) => l.startsWith('office-a'));
    assert.ok(line && /\bregistered\b/.test(line), `trunk row: ${line}`);
  } catch (err) {
    // what each office logged about the trunk, the routes and the channels
    dumpOffices({ A: a, B: b }, /iax2|route|trunk|dial|channel/);
    throw err;
  } finally {
    for (const p of phones) await p.stop();
    await a.stop();
    await b.stop();
  }
});
