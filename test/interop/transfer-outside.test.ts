// Transfers to an outside number, through the transferor's outbound routes
// and a SIP trunk to a provider played by SIPp (test/sipp/provider-invite-uas.xml:
// 407, then the trunk's digest, 180, 200 with SDP, RTP echoed back):
// - blind REFER (baresip `transfer`) in a direct B2BUA call and on a dialplan
//   channel: Bob hands Alice to 0301234567; the route national (_0X.,
//   strip 1, prepend 49, caller ID name "Office Line") takes it as if Bob
//   had dialled it, so the provider's INVITE is for 49301234567 from Bob's
//   number; Bob gets 202 and NOTIFY sipfrag up to 200, then BYE; Alice
//   hears her own tone echoed by the provider; the CDRs name the trunk's leg;
//   and from the caller of a dialplan channel: Alice hands Bob to the
//   number, Bob and the provider talk on without her channel;
// - `##` (blind) and `*2` (attended: Bob talks to the provider first) by
//   DTMF on a Dial(...,t) channel;
// - Transfer() in the dialplan: the caller's phone gets the REFER and calls
//   the number itself, through its own routes and the trunk;
// - a number of a class Bob may not call (international): the call gate
//   refuses the REFER (403, transfer-refused with its verdict) and the
//   provider receives nothing, though the route would take the number;
// - a number of a class Bob may call that no route takes: 404.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baresip } from '../helpers/baresip.js';
import { dominantFrequency, readWav } from '../helpers/audio.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { baresipPhone, sippPhone } from '../helpers/office-phones.js';
import { waitCdrRows } from '../helpers/cdr-rows.js';
import { generateSecret } from '../../src/security/passwords/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const blocks = (messages: string): string[] => messages.split(/^-{10,}.*$/m);

const TONE_ALICE = 440;
const TONE_BOB = 1000;
const OUTSIDE = '0301234567';
const SENT = '49301234567';

interface Row {
  src: string;
  dst: string;
  dstchannel: string;
  lastapp: string;
  userfield: string;
  disposition: string;
  billsec: number;
}

/** the SIP provider behind the trunk (SIPp: challenges, answers, echoes RTP) at a free port */
async function startProvider(dir: string, timeoutS: number): Promise<{ provider: SippProcess; port: number }> {
  const [port] = (await freeLocalPorts(1)) as [number];
  const provider = await startSipp({ scenario: 'provider-invite-uas', target: '127.0.0.1', port, traceLogs: true, traceMsg: true, rtpEcho: true, calls: 1, timeoutS, dir });
  return { provider, port };
}

/** Palisade with a trunk to the SIPp provider at `port` and the route national; `dialplan`: calls to 1XXX run Dial() */
async function office(dir: string, users: TestUser[], port: number, dialplan: boolean, dialOptions = '', more = ''): Promise<PalisadeProcess> {
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, `[default]\nexten => _1XXX,1,Dial(SIP/\${EXTEN},20${dialOptions ? `,${dialOptions}` : ''})\n${more}`);
  return startPalisade({
    users,
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      // a transferor that is the caller of its call places its second call (the fraud default allows one)
      'fraud:',
      '  defaults: { max_outbound_calls: 2 }',
      ...(dialplan ? ['dialplan:', `  file: ${conf}`] : []),
      'trunks:',
      '  - name: provider',
      '    host: 127.0.0.1',
      `    port: ${port}`,
      '    username: acct9',
      `    secret: "${generateSecret()}"`,
      // the trunk may carry the rewritten number (49…, classed international); what an extension may dial is its own profile's
      '    call_permissions: [local, national, mobile, international]',
      'routes:',
      '  outbound:',
      '    - name: national',
      '      match: ["_0X."]',
      '      trunks: [provider]',
      '      strip: 1',
      '      prepend: "49"',
      '      caller_id_name: Office Line',
    ].join('\n'),
  });
}

/**
 * Alice (baresip) calls Bob (baresip), the office's route going out to a SIP
 * provider (SIPp, echoing RTP); `dialplan`: the call runs Dial() with
 * `dialOptions`, else it is a direct call; `trace`: whose SIP the phone
 * logs. The call is up when `body` runs; everything stops after it.
 */
async function officeCall(
  prefix: string,
  o: { dialplan: boolean; dialOptions?: string; trace?: 'alice' | 'bob' },
  body: (c: { alice: TestUser; bob: TestUser; pal: PalisadeProcess; provider: SippProcess; a: Baresip; b: Baresip }) => Promise<void>,
): Promise<void> {
  const [alice, bob] = makeUsers(2, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const { provider, port: pPort } = await startProvider(dir, 90);
  const pal = await office(dir, [alice!, bob!], pPort, o.dialplan, o.dialOptions);
  const [rtp] = await freeLocalPorts(1, 200);
  const phones: Baresip[] = [];
  try {
    const a = await baresipPhone(pal, 'alice', alice!, { tone: TONE_ALICE, rtp: rtp!, sipTrace: o.trace === 'alice' });
    const b = await baresipPhone(pal, 'bob', bob!, { tone: TONE_BOB, rtp: rtp! + 100, sipTrace: o.trace === 'bob' });
    phones.push(a, b);
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await a.waitEvent('CALL_ESTABLISHED', 8000);
    await b.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(1500);
    await body({ alice: alice!, bob: bob!, pal, provider, a, b });
  } finally {
    for (const ph of phones) await ph.stop();
    await provider.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Alice calls Bob; `by` (Bob, the called party, or Alice, the caller — on a
 * dialplan channel) transfers the other to the outside number by REFER.
 */
async function blindOutside(t: TestContext, withDialplan: boolean, by: 'callee' | 'caller' = 'callee'): Promise<void> {
  await officeCall('pal-xfer-out-', { dialplan: withDialplan, trace: by === 'caller' ? 'alice' : 'bob' }, async ({ alice, bob, pal, provider, a, b }) => {
    // the transferor and the party it hands to the outside number (the transferee)
    const [xfer, stay] = by === 'callee' ? [b, a] : [a, b];
    const [xferUser, stayUser] = by === 'callee' ? [bob!, alice!] : [alice!, bob!];
    const [xferTone, stayTone] = by === 'callee' ? [TONE_BOB, TONE_ALICE] : [TONE_ALICE, TONE_BOB];
    await xfer.mustCommand('transfer', `sip:${OUTSIDE}@${pal.target}`);
    // the transferor's call ends (Palisade's BYE after the final NOTIFY); the transferee talks to the provider
    await xfer.waitEvent('CALL_CLOSED', 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\nPalisade: ${pal.lines.slice(-25).join('\n')}`);
    });
    const done = await pal.waitForEvent((e) => e.event === 'call-transferred', 5000);
    t.diagnostic(JSON.stringify(done));
    assert.equal(
      pal.events().some((e) => e.event === 'channel-bridged'),
      withDialplan,
      'the call path: a Dial() bridge, or the direct call',
    );
    await pal.waitForEvent((e) => e.event === 'route-attempt' && e.route === 'national' && e.trunk === 'provider' && e.status === 'ANSWER', 5000);
    const talkFrom = Date.now();
    await sleep(3000);
    assert.ok(!stay.events.some((e) => e.type === 'CALL_CLOSED'), 'the transferee stayed in its call');
    await stay.hangup();
    const talkMs = Date.now() - talkFrom;
    // the provider's call ends with Palisade's BYE
    const p = await provider.done;
    assert.equal(p.stats?.successful, 1, `the provider's call: ${p.errors.slice(0, 1500)}`);
    assert.match(p.logs, /invite-result: ok/, 'the trunk answered the provider challenge');
    const invite = blocks(p.messages).find((x) => /^INVITE sip:/m.test(x) && /Proxy-Authorization/i.test(x)) ?? '';
    assert.match(invite, new RegExp(`^INVITE sip:${SENT}@127\\.0\\.0\\.1:\\d+ SIP/2\\.0`, 'm'), "the route's rewriting");
    assert.match(invite, new RegExp(`^From: "Office Line" <sip:${xferUser.number}@`, 'm'), "the transferor's number, the route's caller ID name");
    assert.match(invite, /^m=audio \d+ RTP\/AVP/m, 'an offer in the INVITE');
    assert.match(p.messages, /^ACK sip:/m, 'the 200 was ACKed');
    assert.match(p.messages, /^BYE sip:/m);

    // the transferor: 202 to the REFER, NOTIFYs with sipfrag, the last terminating the subscription
    const bt = xfer.sipTrace();
    const referAnswer = bt.find((m) => m.startLine.startsWith('SIP/2.0 ') && m.headers.some((h) => /^cseq:\s*\d+\s+REFER/i.test(h)));
    assert.match(referAnswer?.startLine ?? '', /^SIP\/2\.0 202 /, 'the REFER got 202 Accepted');
    const xferAt = `127.0.0.1:${xfer.opts.sipPort}`;
    const notifies = bt.filter((m) => m.startLine.startsWith('NOTIFY ') && m.dst === xferAt && m.headers.some((h) => /^event:\s*refer\b/i.test(h)));
    assert.ok(notifies.length >= 2, `NOTIFYs: ${notifies.length}`);
    assert.ok(notifies.every((n) => n.headers.some((h) => /^content-type:\s*message\/sipfrag/i.test(h))));
    assert.match(notifies[notifies.length - 1]!.headers.find((h) => /^subscription-state/i.test(h)) ?? '', /terminated/i);
    const notified = pal.events().filter((e) => e.event === 'transfer-failed');
    assert.equal(notified.length, 0, JSON.stringify(notified));

    // the transferee hears the transferor, then its own tone sent back by the provider's RTP echo
    const heard = readWav(stay.recordings().dec[0]!);
    const n = heard.samples.length;
    const head = dominantFrequency(heard, Math.round(0.3 * 8000), Math.round(1.2 * 8000));
    assert.ok(Math.abs(head - xferTone) <= 10, `the transferee heard the transferor first (${head} Hz)`);
    const tail = Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6));
    const hz = dominantFrequency(heard, n - tail, n);
    assert.ok(Math.abs(hz - stayTone) <= 10, `the transferee hears the provider's echo of its tone at the end (${hz} Hz)`);

    // CDRs: the segment with Bob, ended by the transfer; the segment with the provider names the trunk's leg
    const how = `blind transfer by ${xferUser.number} to ${OUTSIDE}`;
    const rows = await waitCdrRows<Row>(pal, 2);
    t.diagnostic(JSON.stringify(rows));
    if (by === 'caller') {
      // Alice's channel ends with the transfer; Bob and the provider talk on in a segment of their own, on the trunk
      assert.ok(
        rows.some((r) => r.src === alice!.number && r.dst === bob!.number && r.lastapp === 'Dial' && r.disposition === 'ANSWERED'),
        "Alice's channel",
      );
      assert.ok(
        rows.some(
          (r) =>
            r.src === stayUser.number && r.dst === SENT && /^SIP\/provider-[0-9a-f]{8}$/.test(r.dstchannel) && r.lastapp === 'Transfer' && r.userfield === how && r.billsec >= 2,
        ),
        'the segment Bob–provider',
      );
      return;
    }
    assert.ok(
      rows.some((r) => r.src === alice!.number && r.dst === bob!.number && r.userfield === how && r.disposition === 'ANSWERED'),
      'the segment with Bob',
    );
    assert.ok(
      rows.some((r) => r.src === alice!.number && /^SIP\/provider-[0-9a-f]{8}$/.test(r.dstchannel) && r.disposition === 'ANSWERED' && r.billsec >= 2),
      'the segment with the provider, on the trunk',
    );
  });
}

test('blind REFER to an outside number in a direct call: out through the route and trunk with the transferor’s caller ID; NOTIFY 200; RTP flows; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await blindOutside(t, false);
});

test('blind REFER to an outside number on a dialplan channel: the trunk’s leg takes the transferor’s place in the bridge; RTP flows; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await blindOutside(t, true);
});

test('blind REFER to an outside number from the caller of a dialplan channel: the called party and the provider talk on without the channel; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await blindOutside(t, true, 'caller');
});

/** Alice (SIPp) calls Bob (SIPp, answers) and REFERs him to `referto`; the answer to the REFER is checked by the scenario */
async function referRefused(scenario: string, referto: string, withDialplan: boolean): Promise<{ caller: string; provider: SippProcess; pal: PalisadeProcess; dir: string }> {
  const [alice, bob] = makeUsers(2, { first: 1701 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-xfer-out-no-'));
  const [pPort] = await freeLocalPorts(1);
  const provider = await startSipp({ scenario: 'provider-invite-uas', target: '127.0.0.1', port: pPort, traceMsg: true, timeoutS: 60, dir });
  const pal = await office(dir, [alice!, bob!], pPort!, withDialplan);
  const uas = await sippPhone(pal, dir, bob!, 'uas-answer', 40);
  const csv = join(dir, 'alice.csv');
  writeFileSync(csv, sippCsv([alice!], { peers: [bob!.number] }));
  const result = await runSipp({ scenario, target: pal.target, inf: [csv], set: { referto }, calls: 1, rate: 10, pauseMs: 800, traceMsg: true, timeoutS: 30, dir });
  await sleep(2500);
  const callee = await uas.stop();
  assert.equal(result.stats?.successful, 1, `Alice's scenario (the REFER's answer, then a BYE that gets 200): ${result.errors}\n${pal.lines.slice(-12).join('\n')}`);
  assert.doesNotMatch(callee.messages, /^REFER /m, 'Bob never saw a REFER');
  assert.match(callee.messages, /^BYE /m, 'the call stayed up until Alice hung up');
  return { caller: result.messages, provider, pal, dir };
}

for (const withDialplan of [false, true]) {
  test(`REFER to an outside number of a class the transferor may not call (${withDialplan ? 'dialplan channel' : 'direct call'}): 403, nothing reaches the provider`, {
    timeout: 90_000,
  }, async () => {
    const forbidden = '00442071234567';
    const r = await referRefused('call-refer-uac', forbidden, withDialplan);
    try {
      const answer = blocks(r.caller).find((b) => /^SIP\/2\.0 \d+ [\s\S]*^CSeq:\s*3 REFER/m.test(b)) ?? '';
      assert.match(answer, /^SIP\/2\.0 403 Forbidden/m);
      const refused = r.pal.events().find((e) => e.event === 'transfer-refused');
      assert.ok(refused, 'Palisade logged transfer-refused');
      assert.equal(refused.to, forbidden);
      assert.match(String(refused.verdict), /^refused:class-not-permitted:international/);
      assert.ok(!r.pal.events().some((e) => e.event === 'route-attempt'), 'no route was tried');
      const p = await r.provider.stop();
      assert.doesNotMatch(p.messages, /^INVITE /m, 'the provider received nothing');
    } finally {
      await r.provider.stop();
      await r.pal.stop();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

/**
 * After a transfer by feature code: the transfer is logged with the trunk's
 * leg, Alice talks to the provider for 3 s and hangs up; the provider's call
 * completed. Returns the provider's authenticated INVITE and how long Alice talked.
 */
async function talkToProvider(t: TestContext, pal: PalisadeProcess, provider: SippProcess, a: Baresip): Promise<{ invite: string; talkMs: number }> {
  const done = await pal.waitForEvent((e) => e.event === 'call-transferred' && e.via === 'dtmf', 5000);
  t.diagnostic(JSON.stringify(done));
  assert.match(String(done.trunk_leg), /^SIP\/provider-[0-9a-f]{8}$/);
  const talkFrom = Date.now();
  await sleep(3000);
  assert.ok(!a.events.some((e) => e.type === 'CALL_CLOSED'), 'Alice stayed in her call');
  await a.hangup();
  const talkMs = Date.now() - talkFrom;
  const p = await provider.done;
  assert.equal(p.stats?.successful, 1, `the provider's call: ${p.errors.slice(0, 1500)}`);
  return { invite: blocks(p.messages).find((x) => /^INVITE sip:/m.test(x) && /Proxy-Authorization/i.test(x)) ?? '', talkMs };
}

test('## blind transfer by DTMF to an outside number (Dial option t): Bob keys ##0301234567#; the provider answers through the route; Alice talks to it; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await officeCall('pal-xfer-out-dtmf-', { dialplan: true, dialOptions: 't' }, async ({ alice, bob, pal, provider, a, b }) => {
    await b.sendDtmf('##');
    await pal.waitForEvent((e) => e.event === 'feature-code' && e.kind === 'blind' && e.by === bob!.number, 5000);
    await sleep(1200);
    await b.sendDtmf(`${OUTSIDE}#`);
    // the provider answers: its leg takes Bob's place, Bob's call ends
    await b.waitEvent('CALL_CLOSED', 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\nPalisade: ${pal.lines.slice(-20).join('\n')}`);
    });
    const { invite, talkMs } = await talkToProvider(t, pal, provider, a);
    assert.match(invite, new RegExp(`^INVITE sip:${SENT}@`, 'm'));
    assert.match(invite, new RegExp(`^From: "Office Line" <sip:${bob!.number}@`, 'm'), "the transferor's number");
    // Alice hears her tone echoed by the provider at the end
    const heard = readWav(a.recordings().dec[0]!);
    const n = heard.samples.length;
    const hz = dominantFrequency(heard, n - Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6)), n);
    assert.ok(Math.abs(hz - TONE_ALICE) <= 10, `Alice hears the provider's echo (${hz} Hz)`);
    assert.ok(!a.dtmfReceived().includes(OUTSIDE), 'the number keyed was not passed to Alice');
    const rows = await waitCdrRows<Row>(pal, 2);
    t.diagnostic(JSON.stringify(rows));
    assert.ok(rows.some((r) => r.src === alice!.number && r.dst === bob!.number && r.userfield === `blind transfer by ${bob!.number} to ${OUTSIDE}`));
    assert.ok(
      rows.some((r) => r.src === alice!.number && /^SIP\/provider-/.test(r.dstchannel) && r.billsec >= 4),
      "Alice's channel ends with the trunk's leg",
    );
  });
});

for (const withDialplan of [false, true]) {
  test(`REFER to a number no outbound route takes (a local number; the route takes _0X. only; ${withDialplan ? 'dialplan channel' : 'direct call'}): 404, the call stays up, nothing reaches the provider`, {
    timeout: 90_000,
  }, async () => {
    const r = await referRefused('call-refer-uac', '5551234', withDialplan);
    try {
      const answer = blocks(r.caller).find((b) => /^SIP\/2\.0 \d+ [\s\S]*^CSeq:\s*3 REFER/m.test(b)) ?? '';
      assert.match(answer, /^SIP\/2\.0 404 Not Found/m);
      const refused = r.pal.events().find((e) => e.event === 'transfer-refused');
      assert.ok(refused, 'Palisade logged transfer-refused');
      assert.equal(refused.to, '5551234');
      assert.equal(refused.why, 'no route');
      assert.ok(
        r.pal.events().some((e) => e.event === 'route-none' && e.to === '5551234'),
        'the routes were asked',
      );
      const p = await r.provider.stop();
      assert.doesNotMatch(p.messages, /^INVITE /m, 'the provider received nothing');
    } finally {
      await r.provider.stop();
      await r.pal.stop();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

test('*2 attended transfer by DTMF to an outside number: Bob consults the provider (he hears its echo of his tone), hangs up, and Alice talks to it; CDRs', {
  timeout: 120_000,
}, async (t) => {
  await officeCall('pal-xfer-out-atx-', { dialplan: true, dialOptions: 't' }, async ({ alice, bob, pal, provider, a, b }) => {
    await b.sendDtmf(`*2${OUTSIDE}#`);
    await pal
      .waitForEvent((e) => e.event === 'route-attempt' && e.trunk === 'provider' && e.status === 'ANSWER', 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\nPalisade: ${pal.lines.slice(-20).join('\n')}`);
      });
    await sleep(2500);
    // Bob talks to the provider (its RTP echo sends his tone back); Alice waits apart
    const bw = readWav(b.recordings().dec[0]!);
    const nb = bw.samples.length;
    assert.ok(Math.abs(dominantFrequency(bw, nb - 12000, nb) - TONE_BOB) <= 10, `Bob hears the provider's echo of his tone (${dominantFrequency(bw, nb - 12000, nb)} Hz)`);
    await b.hangup();
    const { invite, talkMs } = await talkToProvider(t, pal, provider, a);
    assert.match(invite, new RegExp(`^From: "Office Line" <sip:${bob!.number}@`, 'm'), "the consultation is Bob's call");
    const heard = readWav(a.recordings().dec[0]!);
    const n = heard.samples.length;
    const hz = dominantFrequency(heard, n - Math.min(n, Math.round((Math.min(talkMs, 3000) / 1000) * 8000 * 0.6)), n);
    assert.ok(Math.abs(hz - TONE_ALICE) <= 10, `Alice hears the provider's echo of her tone at the end (${hz} Hz)`);
    const rows = await waitCdrRows<Row>(pal, 2);
    t.diagnostic(JSON.stringify(rows));
    assert.ok(rows.some((r) => r.src === alice!.number && r.dst === bob!.number && r.userfield === `attended transfer by ${bob!.number} to ${OUTSIDE}`));
    assert.ok(
      rows.some((r) => r.src === alice!.number && /^SIP\/provider-/.test(r.dstchannel)),
      "Alice's channel ends with the trunk's leg",
    );
  });
});

test("Transfer() in the dialplan to an outside number: the caller's phone (baresip) accepts the REFER and calls it itself, through its route and the trunk", {
  timeout: 90_000,
}, async () => {
  const [alice] = makeUsers(1, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-xfer-out-app-'));
  const { provider, port: pPort } = await startProvider(dir, 60);
  const plan = `exten => 700,1,Answer()\nsame => n,Wait(1)\nsame => n,Transfer(${OUTSIDE})\nsame => n,Wait(10)\n`;
  const pal = await office(dir, [alice!], pPort, true, '', plan);
  const [rtp] = await freeLocalPorts(1, 100);
  const phones: Baresip[] = [];
  try {
    const a = await baresipPhone(pal, 'alice', alice!, { tone: TONE_ALICE, rtp: rtp!, sipTrace: true });
    phones.push(a);
    await a.dial(`sip:700@${pal.target}`);
    const asked = await pal.waitForEvent((e) => e.event === 'channel-transfer-requested', 10_000);
    assert.equal(asked.accepted, true);
    assert.equal(asked.to, OUTSIDE);
    // the phone's own call: a channel the outbound route bridges with the trunk's leg
    await pal
      .waitForEvent((e) => e.event === 'channel-bridged' && e.to === SENT && /^SIP\/provider-/.test(String(e.leg)), 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\nPalisade: ${pal.lines.slice(-20).join('\n')}`);
      });
    const refer = a.sipTrace().find((m) => m.startLine.startsWith('REFER '));
    assert.ok(
      refer?.headers.some((h) => new RegExp(`^refer-to:\\s*<sip:${OUTSIDE}@`, 'i').test(h)),
      'Refer-To names the outside number',
    );
    await sleep(2000);
    await a.hangup();
    const p = await provider.done;
    assert.equal(p.stats?.successful, 1, `the provider's call: ${p.errors.slice(0, 1500)}`);
    const invite = blocks(p.messages).find((x) => /^INVITE sip:/m.test(x) && /Proxy-Authorization/i.test(x)) ?? '';
    assert.match(invite, new RegExp(`^INVITE sip:${SENT}@`, 'm'));
    assert.match(invite, new RegExp(`^From: "Office Line" <sip:${alice!.number}@`, 'm'), "the phone's own call");
  } finally {
    for (const ph of phones) await ph.stop();
    await provider.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
