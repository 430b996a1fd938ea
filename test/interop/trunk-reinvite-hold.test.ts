// Hold and resume on a call that leaves by a SIP trunk. A SIPp caller
// (call-hold-uac.xml: digest, then re-INVITE a=sendonly, then a=sendrecv)
// dials a number an outbound route sends out of the trunk "carrier", an IP
// peer played by SIPp's uas-hold.xml. The channel bridges the trunk's leg
// like its own phones' legs (src/channel/dial-bridge.ts): each re-INVITE is
// offered to the provider with Palisade's description of that leg, the
// provider's answer comes back to the caller. Before, the caller's
// re-INVITE got 488 and the provider never heard of the hold.
// The other way round, the provider (provider-hold-uas.xml) holds and
// resumes the caller (call-held-uac.xml), and its re-INVITEs reach the
// caller through Palisade.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startPalisade } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';

/** the a= direction lines of the SDP bodies of every INVITE in a SIPp message log, in order */
function inviteDirections(messages: string): string[] {
  const out: string[] = [];
  for (const block of messages.split(/^-{10,}.*$/m)) {
    if (!/^\s*INVITE sip:/m.test(block)) continue;
    out.push(/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(block)?.[1] ?? 'sendrecv');
  }
  return out;
}

test('a call out of a SIP trunk: the caller holds and resumes; each re-INVITE crosses to the provider and its answer comes back', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunk-hold-'));
  const [caller] = makeUsers(1, { first: 1001 });
  const [pUas] = await freeLocalPorts(1);
  const uas = await startSipp({ scenario: 'uas-hold', target: '127.0.0.1', port: pUas, rtpEcho: true, traceMsg: true, calls: 1, timeoutS: 60, dir });
  const pal = await startPalisade({
    users: [caller!],
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'trunks:',
      '  - name: carrier',
      '    host: 127.0.0.1',
      `    port: ${pUas}`,
      'routes:',
      '  outbound:',
      '    - name: national',
      '      match: ["_0X."]',
      '      trunks: [carrier]',
    ].join('\n'),
  });
  let provider: SippResult | null = null;
  try {
    const csv = join(dir, 'caller.csv');
    writeFileSync(csv, sippCsv([caller!], { peers: ['0305551234'] }));
    const r = await runSipp({ scenario: 'call-hold-uac', target: pal.target, inf: [csv], calls: 1, rate: 10, pauseMs: 1000, timeoutS: 40, traceMsg: true, dir });
    const why = `${r.errors.slice(0, 3000)}\n${pal.lines.slice(-20).join('\n')}`;
    assert.equal(r.stats?.failed, 0, why);
    assert.equal(r.stats?.successful, 1, `${why}\n${r.messages.slice(-4000)}\n${r.stdout.slice(-1500)}`);
    // the caller's hold was answered recvonly (or inactive), the resume sendrecv: the provider's answers, relayed
    assert.doesNotMatch(r.messages, /SIP\/2\.0 488/, 'no re-INVITE was refused');
    // the provider stays 2 s after the BYE (its timewait) before it counts the call, then exits by itself (-m 1);
    // the BYE may reach it after the caller is done
    provider = await uas.finish(5000);
    // the provider was offered the initial call, the hold and the resume, in that order
    assert.deepEqual(inviteDirections(provider.messages), ['sendrecv', 'sendonly', 'sendrecv'], provider.messages.slice(-3000));
    assert.equal(provider.stats?.successful, 1, `${provider.errors}\n${provider.messages.slice(-2500)}\n${JSON.stringify(provider.stats)}`);
    // the trunk's leg was bridged RTP to RTP (the relay that carries re-INVITEs), and the CDR names the trunk channel
    const bridged = await pal.waitForEvent((e) => e.event === 'channel-bridged' && String(e.leg ?? '').startsWith('SIP/carrier-'), 5000);
    assert.equal(bridged.relay, 'rtp');
    await pal.waitForEvent((e) => e.event === 'channel-ended', 5000);
    const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT dst, disposition, dstchannel FROM cdr WHERE src = '1001'").get() as { dst: string; disposition: string; dstchannel: string } | undefined;
      assert.equal(row?.disposition, 'ANSWERED', JSON.stringify(row));
      assert.match(String(row?.dstchannel), /^SIP\/carrier-/);
    } finally {
      db.close();
    }
  } finally {
    if (!provider) await uas.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** the a= direction of every INVITE a SIPp message log shows received (not sent), in order */
function receivedInviteDirections(messages: string): string[] {
  const out: string[] = [];
  for (const block of messages.split(/^-{10,}.*$/m)) {
    if (!/message received/i.test(block) || !/^\s*INVITE sip:/m.test(block)) continue;
    out.push(/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(block)?.[1] ?? 'sendrecv');
  }
  return out;
}

test('a call out of a SIP trunk: the provider holds and resumes the caller; its re-INVITEs reach the caller and the answers go back', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunk-held-'));
  const [caller] = makeUsers(1, { first: 1001 });
  const [pUas] = await freeLocalPorts(1);
  const uas = await startSipp({ scenario: 'provider-hold-uas', target: '127.0.0.1', port: pUas, rtpEcho: true, pauseMs: 1000, traceMsg: true, calls: 1, timeoutS: 60, dir });
  const pal = await startPalisade({
    users: [caller!],
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'trunks:',
      '  - name: carrier',
      '    host: 127.0.0.1',
      `    port: ${pUas}`,
      'routes:',
      '  outbound:',
      '    - name: national',
      '      match: ["_0X."]',
      '      trunks: [carrier]',
    ].join('\n'),
  });
  let provider: SippResult | null = null;
  try {
    const csv = join(dir, 'caller.csv');
    writeFileSync(csv, sippCsv([caller!], { peers: ['0305551234'] }));
    const r = await runSipp({ scenario: 'call-held-uac', target: pal.target, inf: [csv], calls: 1, rate: 10, pauseMs: 1000, timeoutS: 40, traceMsg: true, dir });
    const why = `${r.errors.slice(0, 3000)}\n${r.messages.slice(-3000)}\n${pal.lines.slice(-20).join('\n')}`;
    assert.equal(r.stats?.failed, 0, why);
    assert.equal(r.stats?.successful, 1, why);
    // Palisade offered the caller the provider's hold, then its resume
    assert.deepEqual(receivedInviteDirections(r.messages), ['sendonly', 'sendrecv'], r.messages.slice(-3000));
    // the provider counts the call 2 s after the caller's BYE (its timewait), then exits by itself (-m 1)
    provider = await uas.finish(5000);
    // the provider's hold was answered recvonly/inactive and its resume sendrecv (the scenario checks both), and no 488 came back
    assert.equal(provider.stats?.successful, 1, `${provider.errors}\n${provider.messages.slice(-3000)}`);
    assert.doesNotMatch(provider.messages, /SIP\/2\.0 488/);
  } finally {
    if (!provider) await uas.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
