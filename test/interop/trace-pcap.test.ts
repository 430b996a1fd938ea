// Call traces and captures against real peers: SIPp callers with digest
// ([authentication]) through the real Palisade process to SIPp callees.
// - a traced extension's answered call, with RTP played from SIPp's
//   g711a.pcap and echoed back: `palisade pcap` writes a pcapng that tshark
//   opens with every SIP message and RTP packet recorded, the RTP found from
//   the SDP alone, nothing malformed;
// - a busy call is kept without asking (a failure), an answered call of an
//   untraced extension is not;
// - REGISTER and INVITE with digest: no Authorization value and no secret in
//   the stored trace (`palisade trace --messages`) or the capture.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { repoRoot } from '../helpers/paths.js';

const BIN = join(repoRoot(), 'bin', 'palisade.js');

function assertAllPassed(r: SippResult, what: string, calls: number): void {
  const why = `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.stdout.slice(-1500)}`;
  assert.ok(r.stats, `${what}: no statistics\n${r.stderr}`);
  assert.equal(r.stats.failed, 0, why);
  assert.equal(r.stats.successful, calls, why);
}

function tshark(args: string[]): string {
  // the ports are random: one a dissector of its own claims (a registered UDP port) would hide SIP
  // from the heuristics unless they are tried first (a run failed that way: 0 SIP messages decoded)
  const r = spawnSync('tshark', ['-o', 'udp.try_heuristic_first:TRUE', ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');

/** the messages of SIPp's -trace_msg log, one block each */
const sippBlocks = (log: string): string[] => log.split(/^-{10,}.*$/m).filter((b) => /message (sent|received)/i.test(b));

/** the Call-ID of the INVITE in SIPp's message log (a callee also gets MWI NOTIFYs) */
function inviteCallId(log: string): string {
  const block = sippBlocks(log).find((b) => /^INVITE sip:/m.test(b));
  const id = block && /^Call-ID:\s*(\S+)/im.exec(block)?.[1];
  assert.ok(id, 'no INVITE in the SIPp log');
  return id;
}

/** how many messages of `callId` SIPp sent or received */
const sippCount = (log: string, callId: string): number => sippBlocks(log).filter((b) => b.includes(`Call-ID: ${callId}`)).length;

describe('call traces and captures (palisade trace / pcap)', () => {
  let pal: PalisadeProcess;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-trace-'));
  const callers = makeUsers(2, { first: 1000 });
  const callees = makeUsers(3, { first: 1500 });
  const uasPort: number[] = [];

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  before(async () => {
    // 8NNNN reaches NNNN through the dialplan's Dial() (a channel), the rest goes straight through the B2BUA
    const conf = join(dir, 'extensions.conf');
    writeFileSync(conf, ['[default]', 'exten => _8XXXX,1,Dial(PJSIP/${EXTEN:1},10)', ' same => n,Hangup(busy)', ''].join('\n'));
    pal = await startPalisade({
      users: [...callers, ...callees],
      transports: ['udp'],
      extraYaml: ['registrar:', '  qualify_interval: 0', 'dialplan:', `  file: ${conf}`, ''].join('\n'),
    });
    uasPort.push(...(await freeLocalPorts(3)));
    for (const [i, u] of callees.entries()) {
      const csv = join(dir, `reg-${u.number}.csv`);
      writeFileSync(csv, sippCsv([u]));
      // the first callee's REGISTER is traced: its digest must not reach the trace
      if (i === 0) assert.equal(cli('trace', '--extension', u.number, '--on').code, 0);
      const r = await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        inf: [csv],
        set: { contact: `127.0.0.1:${uasPort[i]}`, expires: '600' },
        calls: 1,
        rate: 10,
        timeoutS: 20,
        dir,
      });
      assertAllPassed(r, `register ${u.number}`, 1);
    }
  });
  after(async () => {
    await pal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a traced extension’s call: the ladder shows both legs; the pcapng opens in tshark with every SIP message and RTP packet, nothing malformed', {
    timeout: 90_000,
  }, async () => {
    const callee = callees[0]!;
    const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort[0], rtpEcho: true, timeoutS: 60, traceMsg: true, dir });
    const csv = join(dir, 'call.csv');
    writeFileSync(csv, sippCsv([callers[0]!], { peers: [callee.number] }));
    let caller: SippResult;
    try {
      caller = await runSipp({
        scenario: 'call-auth-uac',
        target: pal.target,
        inf: [csv],
        set: { rtp_pcap: '1' },
        calls: 1,
        rate: 1,
        pauseMs: 8500,
        timeoutS: 40,
        traceMsg: true,
        dir,
      });
      assertAllPassed(caller, 'call-auth-uac', 1);
    } finally {
      await uas.stop();
    }
    const uasLog = readFileSync(join(dir, `sipp-${uasPort[0]}.msg.log`), 'utf8');
    const legA = inviteCallId(caller.messages);
    const legB = inviteCallId(uasLog);
    assert.notEqual(legA, legB);
    // the legs linger 2 s for late retransmissions, then the recorder decides
    await new Promise((r) => setTimeout(r, 3500));

    const ladder = cli('trace', legB);
    assert.equal(ladder.code, 0, ladder.err);
    assert.match(ladder.out, new RegExp(`leg A {2}INVITE {2}Call-ID: ${legA.replace(/[.]/g, '\\.')}`));
    assert.match(ladder.out, new RegExp(`leg B {2}INVITE {2}Call-ID: ${legB.replace(/[.]/g, '\\.')}`));
    assert.match(ladder.out, /traced extension 1500/);
    for (const m of [/407 Proxy Authentication Required/, /INVITE sip:1500@\S+ \(SDP\)/, /200 OK \(SDP\)/, /BYE sip:/]) assert.match(ladder.out, m);
    const info = JSON.parse(cli('trace', legA, '--json').out) as { sip: number; rtp: number };

    const file = join(dir, 'call.pcapng');
    const pc = cli('pcap', legA, '--out', file);
    assert.equal(pc.code, 0, pc.err);
    // SIP on Palisade's and SIPp's ports is found by tshark's SIP heuristics; RTP from the SDP in the capture
    const sip = lines(tshark(['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'sip.Method', '-e', 'sip.Status-Code']));
    assert.equal(sip.length, info.sip, 'every recorded SIP message decodes as SIP');
    assert.ok(sip.length >= 16, `${sip.length} SIP messages`);
    assert.deepEqual(new Set(sip.map((l) => l.split('\t')[0])), new Set([legA, legB]));
    assert.equal(sippCount(caller.messages, legA) + sippCount(uasLog, legB), sip.length, 'the SIPp peers logged as many messages on their legs');
    const rtp = lines(tshark(['-r', file, '-Y', 'rtp', '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtp.p_type']));
    assert.equal(rtp.length, info.rtp, 'every recorded RTP packet decodes as RTP');
    // g711a.pcap holds 236 packets: caller → Palisade → callee, and back again through the echo
    assert.ok(rtp.length >= 2 * 236 * 0.9, `${rtp.length} RTP packets`);
    assert.ok(
      rtp.every((l) => l.endsWith('\t8')),
      'PCMA',
    );
    const streams = tshark(['-r', file, '-q', '-z', 'rtp,streams']);
    // four streams: each direction as it reached Palisade and as it left; the caller's 236 packets all there
    const counts = [...streams.matchAll(/ g711A +(\d+) /g)].map((m) => Number(m[1]));
    assert.equal(counts.length, 4, streams);
    assert.equal(counts.filter((n) => n === 236).length >= 2, true, streams);
    assert.ok(
      counts.every((n) => n >= 224),
      streams,
    );
    assert.equal(tshark(['-r', file, '-Y', '_ws.malformed || (sip && _ws.expert.severity >= "warning")']).trim(), '');
    // tshark's own SIP statistics agree on the transactions
    assert.match(tshark(['-r', file, '-q', '-z', 'sip,stat']), /INVITE\s+:\s*3/);

    // the CLI's CDR listing and `show call` carry the call's media figures: 236 packets each way, none lost
    const listing = cli('cdr', '--src', callers[0]!.number, '--json');
    assert.equal(listing.code, 0, listing.err);
    const rows = JSON.parse(listing.out) as Array<Record<string, string>>;
    const row = rows.find((r) => r.dst === callee.number && r.disposition === 'ANSWERED');
    assert.ok(row, listing.out);
    assert.equal(row.loss_a, '0 %');
    assert.equal(row.loss_b, '0 %');
    assert.match(row.jitter_a!, /^\d+(\.\d+)? ms$/);
    assert.match(row.mos_a!, /^4\.\d+$/, 'G.711 without loss scores above 4');
    const table = cli('cdr');
    assert.match(table.out, /^start\s+uniqueid\s+src\s+dst\s+disposition\s+billsec\s+loss_a\s+loss_b\s+jitter_a\s+jitter_b\s+mos_a\s+mos_b\s+flags$/m);
    const shown = cli('show', 'call', row.uniqueid!);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, new RegExp(`^dst: ${callee.number}$`, 'm'));
    assert.match(shown.out, /^a \(from the caller\)\s+236\s+0\s+0 %/m);
    assert.match(shown.out, /^b \(from the callee\)\s+236\s+0\s+0 %/m);
    const missing = cli('show', 'call', '1.2');
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /no call record 1\.2/);
  });

  test('a busy call is kept without asking; an answered call of an untraced extension is not', { timeout: 60_000 }, async () => {
    const busy = callees[1]!;
    const uas = await startSipp({ scenario: 'uas-busy', target: '127.0.0.1', port: uasPort[1], timeoutS: 40, dir });
    const csv = join(dir, 'busy.csv');
    writeFileSync(csv, sippCsv([callers[1]!], { peers: [busy.number] }));
    try {
      const r = await runSipp({ scenario: 'call-busy-uac', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, traceMsg: true, dir });
      assertAllPassed(r, 'call-busy-uac', 1);
    } finally {
      await uas.stop();
    }
    const ok = callees[2]!;
    const uas2 = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort[2], timeoutS: 40, dir });
    const csv2 = join(dir, 'ok.csv');
    writeFileSync(csv2, sippCsv([callers[1]!], { peers: [ok.number] }));
    let answered: SippResult;
    try {
      answered = await runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [csv2], calls: 1, rate: 1, pauseMs: 500, timeoutS: 30, traceMsg: true, dir });
      assertAllPassed(answered, 'call-auth-uac', 1);
    } finally {
      await uas2.stop();
    }
    await new Promise((r) => setTimeout(r, 3500));
    const t = cli('trace', busy.number);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /failed: 486 INVITE/);
    assert.match(t.out, /486 Busy Here/);
    const none = cli('trace', inviteCallId(answered.messages));
    assert.equal(none.code, 1);
    assert.match(none.err, /no trace kept/);
    const list = cli('trace', '--list');
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /failed: 486 INVITE/);
    assert.match(list.out, /traced extensions: 1500/);
  });

  test('a call the dialplan bridges with Dial(): the callee’s leg, sent later by the dialplan, is in the same trace as the caller’s', { timeout: 60_000 }, async () => {
    const busy = callees[1]!;
    const uas = await startSipp({ scenario: 'uas-busy', target: '127.0.0.1', port: uasPort[1], timeoutS: 40, traceMsg: true, dir });
    const csv = join(dir, 'dial-busy.csv');
    writeFileSync(csv, sippCsv([callers[0]!], { peers: [`8${busy.number}`] }));
    let caller: SippResult;
    try {
      caller = await runSipp({ scenario: 'call-busy-uac', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, traceMsg: true, dir });
      assertAllPassed(caller, 'call-busy-uac through Dial()', 1);
    } finally {
      await uas.stop();
    }
    const uasLog = readFileSync(join(dir, `sipp-${uasPort[1]}.msg.log`), 'utf8');
    const legA = inviteCallId(caller.messages);
    // the Dial() leg is the last INVITE the busy phone got (not the last message: an unsolicited NOTIFY may follow)
    const invites = sippBlocks(uasLog).filter((b) => /^INVITE sip:/m.test(b));
    const legB = /^Call-ID:\s*(\S+)/im.exec(invites.at(-1) ?? '')?.[1] ?? '';
    assert.ok(legB, `no INVITE reached the busy phone: ${uasLog.slice(-1500)}`);
    assert.notEqual(legA, legB);
    await new Promise((r) => setTimeout(r, 3500));
    const ladder = cli('trace', legA);
    assert.equal(ladder.code, 0, ladder.err);
    assert.match(ladder.out, new RegExp(`leg A {2}INVITE {2}Call-ID: ${legA.replace(/[.]/g, '\\.')}`));
    assert.match(ladder.out, new RegExp(`leg B {2}INVITE {2}Call-ID: ${legB.replace(/[.]/g, '\\.')}`));
    assert.match(ladder.out, /486 Busy Here/);
    const byB = JSON.parse(cli('trace', legB, '--json').out) as { legs: Array<{ callId: string }> };
    assert.deepEqual(
      byB.legs.map((l) => l.callId),
      [legA, legB],
      'found by either Call-ID, the same two-leg trace',
    );
  });

  test('no secret and no Authorization value in a stored trace, its ladder or its capture (REGISTER and INVITE with digest)', { timeout: 30_000 }, async () => {
    const texts: string[] = [];
    const list = JSON.parse(cli('trace', '--list', '--json').out) as { traces: Array<{ id: number }> };
    assert.ok(list.traces.length >= 3, 'the registration, the traced call and the busy call');
    for (const { id } of list.traces) {
      const t = cli('trace', `#${id}`, '--messages');
      assert.equal(t.code, 0, t.err);
      texts.push(t.out);
      const f = join(dir, `t${id}.pcapng`);
      assert.equal(cli('pcap', `#${id}`, '--out', f).code, 0);
      texts.push(readFileSync(f).toString('latin1'));
    }
    const all = texts.join('\n');
    assert.match(all, /REGISTER sip:/);
    assert.match(all, /^Authorization: Digest username="1500", \[redacted by Palisade\]/m);
    assert.match(all, /^Proxy-Authorization: Digest username="1000", \[redacted by Palisade\]/m);
    for (const u of [...callers, ...callees]) assert.ok(!all.includes(u.secret), `secret of ${u.number} in a trace`);
    assert.doesNotMatch(all, /\bresponse="?[0-9a-f]{32}/i, 'a digest response in a trace');
    assert.doesNotMatch(all, /\bcnonce=/i);
  });

  test('palisade trace --extension N --off, and usage errors', () => {
    assert.match(cli('trace', '--extension', '1500', '--off').out, /tracing of 1500 off/);
    assert.equal(cli('trace', '--extension', '1500').code, 2);
    assert.equal(cli('trace', '--on').code, 2);
    assert.equal(cli('pcap').code, 2);
  });
});
