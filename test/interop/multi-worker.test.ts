// Two workers under one `palisade start` (sip.workers: 2, docs/operations.md
// "One machine, every core"), driven by SIPp from several loopback source
// addresses chosen so that their out-of-dialog traffic belongs to different
// workers (src/transport/worker-route.ts addressWorker):
// - phones register through either worker and every worker calls every
//   phone: a caller on worker 1 calls a phone registered through worker 0
//   and the other way round, under load, each call with a deliberately
//   retransmitted INVITE and a re-INVITE and BYE from the callee's side
//   (routed by the To tag), with 0 failed calls and no 481;
//   `show workers` shows both workers handled traffic and packets forwarded;
//   the one control socket lists the phones of both workers, and one scrape
//   of worker 0's /metrics counts both workers' calls;
// - each worker has its own socket of a SO_REUSEPORT group the kernel steers
//   by source address: requests from 8 addresses reach their owner without
//   a forward, also after the owner was killed and restarted;
// - a ban made in one worker (wrong-password REGISTERs from an address
//   worker 1 owns) refuses the address's packets in every worker at once:
//   OPTIONS with fresh ports and Call-IDs get no answer, the workers' gate
//   counters rise by as many packets, and worker 0's `bans list` holds it;
// - a phone's re-REGISTERs that move only the expiry reach the other worker
//   once a second, not once each: worker 0 shows the new expiry of a phone
//   worker 1 owns, and worker 1 shared a handful of changes for ten refreshes;
// - a busy lamp whose SUBSCRIBE worker 0 took shows a call worker 1 holds,
//   and the key's INVITE with Replaces picks it up there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { ask, sippPhone } from '../helpers/office-phones.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess, type SippResult } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { UdpProbe, parseResponse, udpOptions, type Received } from '../helpers/sip-probe.js';
import { computeDigestResponse } from '../../src/sip/auth/digest.js';
import { computeHa1 } from '../../src/sip/auth/ha1.js';
import type { SipMessage } from '../../src/sip-message/sip-message.js';
import { workerAddresses } from '../helpers/worker-addresses.js';
import { apiCall } from '../helpers/http-api.js';
import { callResult } from '../helpers/call-result.js';
import { pidfs } from '../helpers/presence-notify.js';
import { repoRoot } from '../helpers/paths.js';
import { startCapture, stopCapture } from '../helpers/tshark.js';
import { tsharkRtpStreams } from '../helpers/rtp-streams.js';
import { waitCdrRows } from '../helpers/cdr-rows.js';
import { spawnSync } from 'node:child_process';
import { generateSecret } from '../../src/security/passwords/index.js';
import { pcmToWav, tone } from '../../src/features/voicemail/wav-info.js';

const dir = mkdtempSync(join(tmpdir(), 'multi-worker-'));
const branchSecret = generateSecret();
const users = makeUsers(17, { first: 3100 });
// a carrier (an IP-authenticated trunk) calling in from an address worker 1 owns
const [carrierAddr] = workerAddresses(1, 1, 2, 245);
const phones: SippProcess[] = [];
let pal: PalisadeProcess | null = null;
after(async () => {
  for (const p of phones) await p.stop();
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` loopback addresses whose out-of-dialog traffic worker `w` of 2 owns */
const addressesOf = (w: number, n: number): string[] => workerAddresses(w, n);

interface WorkerRow {
  worker: number;
  pid: number;
  udp: string;
  calls: number;
  bans: number;
  received: number;
  gated: number;
  forwarded: number;
  injected: number;
  shared_out: number;
  shared_in: number;
}

// a busy lamp for 3107 (its hint in a context of its own), and 3108 may pick its calls up; the users'
// context has only the do-not-disturb codes, so calls between extensions stay direct B2BUA calls
const lampsConf = join(dir, 'extensions.conf');
writeFileSync(
  lampsConf,
  [
    '[lamps]',
    'exten => 3107,hint,SIP/3107',
    '[default]',
    'exten => *78,1,DND(on)',
    'exten => *79,1,DND(off)',
    // a queue line, and a code that logs the caller in to it
    'exten => 6000,1,Answer()',
    ' same => n,Queue(mwq)',
    'exten => *45,1,AddQueueMember(mwq)',
    // the queue line reached by a pattern and a written-out jump
    'exten => _610X,1,Goto(default,6000,1)',
    // ... by a jump made of the number's own digits, and by a menu key
    'exten => _63XX,1,Goto(mw-lines,${EXTEN:2},1)',
    'exten => 6200,1,Goto(mw-ivr,s,1)',
    // ... by a jump whose extension is a variable (as a Read() or a database answer sets it)
    'exten => 6400,1,Set(LINE=01)',
    ' same => n,Goto(mw-lines,${LINE},1)',
    // pickup and park reached through the dialplan rather than by their codes
    'exten => _7XXXX,1,Pickup(${EXTEN:1})',
    'exten => *85701,1,ParkedCall(${EXTEN:3})',
    // ... with the argument kept in a variable first: Set() on the way, and across a Goto() for the slot
    'exten => _76XXXX,1,Set(TARGET=${EXTEN:2})',
    ' same => n,NoOp(picking up ${TARGET})',
    ' same => n,Pickup(${TARGET})',
    'exten => _86XXX,1,Set(SLOT=${EXTEN:2})',
    ' same => n,Goto(mw-park,s,1)',
    // ... with an argument the call itself decides (an expression, as a Read() or a database answer would be):
    // not steered; the worker that took the call hands it over to the one where the slot's call waits or the phone rings
    'exten => _88XXX,1,Set(SLOT=$[${EXTEN:2} + 0])',
    ' same => n,ParkedCall(${SLOT})',
    'exten => _78XXXX,1,Set(T=$[${EXTEN:2} + 0])',
    ' same => n,Pickup(${T})',
    // a conference room
    'exten => 8000,1,ConfBridge(mw)',
    // the carrier's calls: the DID's inbound route runs [support-in], which jumps to the queue line
    '[from-carrier]',
    'exten => 999,1,Hangup()',
    '[support-in]',
    'exten => s,1,Goto(default,6000,1)',
    '[mw-lines]',
    'exten => 01,1,Goto(default,6000,1)',
    'exten => 02,1,Hangup()',
    '[mw-park]',
    'exten => s,1,ParkedCall(${SLOT})',
    '[mw-ivr]',
    'exten => s,1,Answer()',
    ' same => n,WaitExten(20)',
    'exten => 1,1,Goto(default,6000,1)',
    '',
  ].join('\n'),
);
const queuesConf = join(dir, 'queues.conf');
const queueLog = join(dir, 'queue_log');
writeFileSync(queuesConf, '[general]\npersistentmembers = no\n[mwq]\nstrategy = ringall\ntimeout = 5\nretry = 1\nmember => SIP/3114\n');
const voicemailConf = join(dir, 'voicemail.conf');
writeFileSync(voicemailConf, '[default]\n3105 => 582914,MWI box,\n');
writeFileSync(join(dir, 'hello.wav'), pcmToWav(tone(440, 1500)));

// many calls per caller at once: the call limits and the short-call reputation rule are not under test here
const EXTRA = [
  `dialplan:\n  file: ${lampsConf}`,
  'office:\n  pickup:\n    groups:\n      sales: [3107, 3108]\n      support: [3110, 3111]',
  `queues:\n  file: ${queuesConf}\n  log_file: ${queueLog}`,
  `voicemail:\n  file: ${voicemailConf}\n  spool_dir: ${join(dir, 'spool')}`,
  // a branch office that registers to us (host: dynamic), reached by 5XXX
  `trunks:\n  - { name: branch, host: dynamic, username: "9100", secret: "${branchSecret}" }`,
  `  - { name: carrier, host: ${carrierAddr}, allow_from: ["${carrierAddr}/32"], context: from-carrier, username: "7300111" }`,
  'routes:\n  outbound:\n    - { name: to-branch, match: ["_5XXX"], trunks: [branch] }',
  '  inbound:\n    - { did: "4930555000", to: "support-in,s,1" }',
  'registrar:\n  qualify_interval: 0',
  'fraud:\n  defaults: { max_calls: 0, calls_per_minute: 0, max_outbound_calls: 10000 }',
  'security:\n  reputation: { short_call_burst: 10000 }',
].join('\n');

const workers = async () => (await ask(pal!, 'workers')) as WorkerRow[];

/** worker 0's HTTP API (GET /metrics) */
let httpBase = '';

async function started(): Promise<PalisadeProcess> {
  if (pal) return pal;
  const [httpPort] = await freeLocalPorts(1);
  httpBase = `http://127.0.0.1:${httpPort}`;
  const http = `http:\n  listen: ["127.0.0.1:${httpPort}"]\nadmin:\n  acl: { permit: [127.0.0.1/32] }`;
  pal = await startPalisade({ users, workers: 2, transports: ['udp', 'tcp'], extraYaml: `${EXTRA}\n${http}` });
  return pal;
}

function assertCompleted(what: string, r: SippResult, calls: number): void {
  assert.equal(r.stats?.successful, calls, `${what}: ${JSON.stringify(r.stats)}\n${r.errors.slice(0, 3000)}`);
  assert.equal(r.stats?.failed, 0, what);
  assert.doesNotMatch(r.messages, /SIP\/2\.0 481/, `${what}: a request reached a worker that did not own its dialog`);
}

test('two workers: phones registered through either worker call each other; retransmissions and in-dialog requests reach the owner', { timeout: 300_000 }, async () => {
  const p = await started();
  const [w0a, w0b] = addressesOf(0, 2);
  const [w1a, w1b] = addressesOf(1, 2);
  // callees: 3100 registers through worker 0's address, 3101 through worker 1's
  phones.push(await sippPhone(p, dir, users[0]!, 'uas-reinvite-bye', 200, { address: w0a!, extraArgs: ['-d', '300'] }));
  phones.push(await sippPhone(p, dir, users[1]!, 'uas-reinvite-bye', 200, { address: w1a!, extraArgs: ['-d', '300'] }));
  const regs = (await ask(p, 'registrations')) as Array<{ aor: string; received: string }>;
  assert.deepEqual(regs.map((r) => r.aor).sort(), ['3100', '3101'], 'the one control socket lists the phones of both workers');
  assert.ok(regs.some((r) => r.received.includes(w0a!)) && regs.some((r) => r.received.includes(w1a!)), JSON.stringify(regs));
  // every worker's socket has the same cap: a capped buffer is reported once, by worker 0
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  const udpBound = p.events().filter((e) => e.event === 'listening' && String(e.listen).startsWith('udp:'));
  assert.equal(udpBound.length, 2, `each worker bound the UDP listen point: ${JSON.stringify(udpBound)}`);
  const capped = p.events().filter((e) => e.event === 'udp-recv-buffer-capped');
  assert.equal(capped.length, rmemMax < 8 * 1024 * 1024 ? 1 : 0, `rmem_max ${rmemMax}: ${JSON.stringify(capped)}`);

  // callers: 3102 from worker 1's other address calls 3100 (worker 0's phone), 3103 from worker 0's calls 3101
  const calls = 40;
  const caller = (user: number, callee: string, from: string, calls: number) => {
    const csv = join(dir, `caller-${user}.csv`);
    writeFileSync(csv, sippCsv([users[user]!], { peers: [callee] }));
    return runSipp({
      scenario: 'call-reinvited-uac',
      target: p.target,
      inf: [csv],
      calls,
      rate: 10,
      pauseMs: 300,
      traceMsg: true,
      timeoutS: 150,
      dir,
      extraArgs: ['-i', from, '-l', '20', '-recv_timeout', '10000', '-timeout', '120s'],
    });
  };
  const [r1, r2] = await Promise.all([caller(2, '3100', w1b!, calls), caller(3, '3101', w0b!, calls)]);
  assertCompleted('worker 1 → phone of worker 0', r1, calls);
  assertCompleted('worker 0 → phone of worker 1', r2, calls);
  for (const ph of phones) assert.doesNotMatch((await ph.stop()).messages, /SIP\/2\.0 481/, 'the callee saw no 481');
  phones.length = 0;

  const rows = await workers();
  process.stdout.write(`# workers: ${JSON.stringify(rows)}\n`);
  assert.equal(rows.length, 2);
  assert.notEqual(rows[0]!.pid, rows[1]!.pid);
  for (const r of rows) assert.ok(r.received - r.forwarded + r.injected > 50, `worker ${r.worker} handled traffic: ${JSON.stringify(r)}`);
  assert.ok(rows[0]!.forwarded + rows[1]!.forwarded > 0, 'packets were forwarded to their owner');
  assert.deepEqual(
    rows.map((r) => r.calls),
    [0, 0],
    'every call ended',
  );

  // `status` sums what each worker counts (the 80 answered calls) and lists both workers
  const st = (await ask(p, 'status')) as { calls: { answered: number }; registrations: number; workers: Array<{ worker: number }> };
  assert.ok(st.calls.answered >= 80, `status counts both workers' calls: ${JSON.stringify(st.calls)}`);
  assert.equal(st.registrations, 2, 'the bindings every worker holds, once');
  assert.deepEqual(
    st.workers.map((x) => x.worker),
    [0, 1],
  );
  // one scrape of worker 0's /metrics counts both workers' calls (40 each) and the two phones once
  const metrics = await (await fetch(`${httpBase}/metrics`)).text();
  assert.match(metrics, /^palisade_calls_total\{outcome="started"\} 80$/m, 'the calls of both workers');
  assert.match(metrics, /^palisade_calls_total\{outcome="ended"\} 80$/m);
  assert.match(metrics, /^palisade_registrations 2$/m, 'the bindings every worker holds, once');
  const invites = Number(/^palisade_sip_transactions_total\{method="INVITE",status="200"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  assert.ok(invites >= 80, `INVITEs answered 200, in both workers: ${invites}`);
});

test("two workers: the kernel hands each address's requests to the worker that owns it (sockets of a SO_REUSEPORT group steered by source address): none is read by the other worker and forwarded", {
  timeout: 60_000,
}, async () => {
  const p = await started();
  const steered = p.events().filter((e) => e.event === 'udp-steered');
  assert.deepEqual(
    steered.map((e) => e.listen),
    [`udp:127.0.0.1:${p.sipPort}`],
    `the primary opened a steered group for the UDP listen point: ${JSON.stringify(p.events().filter((e) => String(e.event).startsWith('udp-')))}`,
  );
  const before = await workers();
  assert.deepEqual(
    before.map((r) => r.udp),
    ['steered', 'steered'],
    '`show workers` says each reads its own steered socket',
  );
  // 4 addresses of each worker, 6 requests each, each from a fresh port
  const probes: Array<Promise<boolean>> = [];
  for (const w of [0, 1]) for (const a of addressesOf(w, 8).slice(4)) for (let i = 0; i < 6; i++) probes.push(udpOptions(p, a));
  const answered = await Promise.all(probes);
  assert.deepEqual(answered, Array(48).fill(true), 'every OPTIONS was answered');
  const after = await workers();
  process.stdout.write(`# workers before ${JSON.stringify(before)} after ${JSON.stringify(after)}\n`);
  for (const w of [0, 1]) {
    assert.ok(after[w]!.received - before[w]!.received >= 24, `worker ${w} read its own addresses' 24 requests: ${JSON.stringify({ before, after })}`);
    // with one socket shared by both, about half of the 48 would have been read by the other worker (p of none: 2^-48)
    assert.equal(after[w]!.forwarded - before[w]!.forwarded, 0, `worker ${w} forwarded nothing: ${JSON.stringify({ before, after })}`);
  }
});

test('a ban made in one worker refuses the address in every worker before its next packet', { timeout: 120_000 }, async () => {
  const p = await started();
  // an address worker 1 owns; a neighbour worker 0 owns stays served
  const strangerAddr = addressesOf(1, 3)[2]!;
  const neighbour = addressesOf(0, 3)[2]!;
  assert.equal(await udpOptions(p, strangerAddr), true, 'answered before the ban');
  const wrong = join(dir, 'wrong.csv');
  writeFileSync(wrong, sippCsv([users[4]!], { wrongPassword: true }));
  const crack = await runSipp({
    scenario: 'register-wrong-password',
    target: p.target,
    inf: [wrong],
    calls: 12,
    rate: 20,
    timeoutS: 20,
    dir,
    extraArgs: ['-i', strangerAddr, '-timeout', '6'],
  });
  assert.ok((crack.stats?.successful ?? 0) <= 6, `banned after a handful of failures: ${JSON.stringify(crack.stats)}`);
  const before = await workers();
  const gatedBefore = before.reduce((n, r) => n + r.gated, 0);
  // from the same address, new ports and Call-IDs: whichever worker reads them, none is answered
  const probes = 12;
  // all at once (each waits 1 s for an answer that must not come), each from its own port
  const answered = await Promise.all(Array.from({ length: probes }, () => udpOptions(p, strangerAddr)));
  assert.deepEqual(answered, Array(probes).fill(false), 'OPTIONS from the banned address were answered');
  const after = await workers();
  const gatedAfter = after.reduce((n, r) => n + r.gated, 0);
  process.stdout.write(`# gate counters before ${JSON.stringify(before.map((r) => r.gated))} after ${JSON.stringify(after.map((r) => r.gated))}\n`);
  assert.ok(gatedAfter - gatedBefore >= probes, `the probes reached the server and were gated: ${gatedBefore} → ${gatedAfter}`);
  for (const r of after) assert.ok(r.bans >= 1, `worker ${r.worker} holds the ban: ${JSON.stringify(r)}`);
  const bans = JSON.stringify(await ask(p, 'bans'));
  assert.ok(bans.includes(strangerAddr), `worker 0 (the control socket) lists the ban worker 1 made: ${bans}`);
  // `status` through the one control socket counts the defences of every worker: the ban worker 1 issued, its auth failures
  const st = (await ask(p, 'status')) as { security: { ids: { bansIssued: number; bansAdopted: number }; events: Record<string, number> } };
  process.stdout.write(`# status.security ${JSON.stringify(st.security)}\n`);
  assert.ok(st.security.ids.bansIssued >= 1, `status counts the ban worker 1 issued: ${JSON.stringify(st.security)}`);
  assert.ok(st.security.ids.bansAdopted >= 1, 'and worker 0 adopting it');
  assert.equal(await udpOptions(p, neighbour), true, 'a neighbour is still answered');
});

/** a probe bound at the loopback address `from`, and the final answer Palisade gives to `text` sent from it */
async function udpFrom(from: string): Promise<{ port: number; ask: (text: string, callId: string) => Promise<SipMessage>; close: () => void }> {
  const probe = await UdpProbe.open(0, from);
  const ask = async (text: string, callId: string): Promise<SipMessage> => {
    const isFinal = (r: Received) => r.data.includes(callId) && /^SIP\/2\.0 [2-6]/.test(r.data.toString('latin1'));
    probe.send(text, pal!.sipPort);
    assert.ok(await probe.waitFor((got) => got.some(isFinal), 3000), `no final answer from Palisade to a request sent from ${from}: ${text.split('\r\n')[0]}`);
    return parseResponse(probe.received.find(isFinal)!.data);
  };
  return { port: probe.port, ask, close: () => probe.close() };
}

test('two workers: credentials one worker accepted cannot be replayed through the other (each checks only its own nonces)', { timeout: 60_000 }, async () => {
  const p = await started();
  const user = users[8]!;
  const [w0r] = workerAddresses(0, 1, 2, 90);
  const [w1r] = workerAddresses(1, 1, 2, 90);
  const phone = await udpFrom(w0r!);
  const thief = await udpFrom(w1r!);
  try {
    // a binding query (REGISTER without Contact, RFC 3261 §10.2.3): authenticated, and it changes nothing
    const register = (from: string, port: number, callId: string, cred?: string) =>
      [
        `REGISTER sip:${p.domain} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from}:${port};branch=z9hG4bK-${callId}-${Math.random().toString(36).slice(2)};rport`,
        'Max-Forwards: 70',
        `From: <sip:${user.number}@${p.domain}>;tag=${callId.slice(-8)}`,
        `To: <sip:${user.number}@${p.domain}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 REGISTER',
        ...(cred ? [`Authorization: ${cred}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    const challenged = await phone.ask(register(w0r!, phone.port, 'replay-a1'), 'replay-a1');
    assert.equal(challenged.status, 401);
    const wa = challenged.get('www-authenticate')!;
    const nonce = /nonce="([^"]+)"/.exec(wa)![1]!;
    const realm = /realm="([^"]+)"/.exec(wa)![1]!;
    const uri = `sip:${p.domain}`;
    // what the phone answers to a challenge's nonce
    const answer = (n: string, cnonce: string) => {
      const response = computeDigestResponse({
        algorithm: 'MD5',
        ha1: computeHa1('MD5', user.number, realm, user.secret),
        method: 'REGISTER',
        uri,
        nonce: n,
        nc: '00000001',
        cnonce,
        qop: 'auth',
      });
      return `Digest username="${user.number}", realm="${realm}", nonce="${n}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
    };
    const cred = answer(nonce, 'cafe01');
    assert.equal((await phone.ask(register(w0r!, phone.port, 'replay-a2', cred), 'replay-a2')).status, 200, 'the phone, through worker 0, is registered');
    // the same credentials, seen on the wire and sent again from an address worker 1 owns (new branch, new Call-ID)
    const replayed = await thief.ask(register(w1r!, thief.port, 'replay-b1', cred), 'replay-b1');
    assert.equal(replayed.status, 401, 'a replay through worker 1 is refused');
    assert.match(replayed.get('www-authenticate') ?? '', /stale=true/, 'as a nonce worker 1 did not issue (stale: a real phone retries at once)');
    // ... and again through worker 0, where they were taken
    assert.equal((await phone.ask(register(w0r!, phone.port, 'replay-a3', cred), 'replay-a3')).status, 401, 'a replay through worker 0 is refused');
    // the user is not locked out: a fresh challenge from worker 1 and its answer are accepted there
    const fresh = await thief.ask(register(w1r!, thief.port, 'replay-b2'), 'replay-b2');
    const n1 = /nonce="([^"]+)"/.exec(fresh.get('www-authenticate')!)![1]!;
    const c1 = answer(n1, 'cafe02');
    assert.equal((await thief.ask(register(w1r!, thief.port, 'replay-b3', c1), 'replay-b3')).status, 200, 'worker 1 accepts its own nonce');
  } finally {
    phone.close();
    thief.close();
  }
});

test('two workers: a phone on TCP (its connections held by worker 0) is called from a caller worker 1 owns', { timeout: 180_000 }, async () => {
  const p = await started();
  // addresses none of the tests before used (the third of worker 1 is banned)
  const w1c = addressesOf(1, 4)[3];
  const w0c = addressesOf(0, 4)[3];
  // 3104 registers over TCP; worker 1 places the calls and sends on the connection through worker 0
  const tcpPhone = await sippPhone(p, dir, users[4]!, 'uas-reinvite-bye', 150, { address: w0c!, transport: 't1', extraArgs: ['-d', '300'] });
  phones.push(tcpPhone);
  const before = await workers();
  const csv = join(dir, 'caller-tcp.csv');
  writeFileSync(csv, sippCsv([users[2]!], { peers: ['3104'] }));
  const calls = 10;
  const r = await runSipp({
    scenario: 'call-reinvited-uac',
    target: p.target,
    inf: [csv],
    calls,
    rate: 5,
    pauseMs: 300,
    traceMsg: true,
    timeoutS: 120,
    dir,
    extraArgs: ['-i', w1c!, '-l', '10', '-recv_timeout', '10000', '-timeout', '100s'],
  });
  assertCompleted('worker 1 → phone on TCP', r, calls);
  assert.doesNotMatch((await tcpPhone.stop()).messages, /SIP\/2\.0 481/, 'the TCP phone saw no 481');
  const rows = await workers();
  // worker 1 received what worker 0 read on the TCP connection for its calls
  assert.ok(rows[1]!.injected - before[1]!.injected >= calls * 4, `worker 1 was handed the TCP phone's answers: ${JSON.stringify(before)} → ${JSON.stringify(rows)}`);
});

test("two workers: a TCP phone's connection (held by worker 0) closing while worker 1's call rings it ends that call at once", { timeout: 120_000 }, async () => {
  const p = await started();
  const [w0x] = workerAddresses(0, 1, 2, 60);
  const [w1x] = workerAddresses(1, 1, 2, 60);
  const phone = await sippPhone(p, dir, users[16]!, 'uas-ring-no-answer', 60, { address: w0x!, transport: 't1' });
  let stopped = 0;
  try {
    const call = callResult(p, users[13]!, users[16]!.number, 'tcp-closed', dir, { from: w1x!, timeoutS: 40 });
    await until('the call rings in worker 1', async () => {
      const calls = (await ask(p, 'calls')) as Array<{ worker: number; state: string; to: string }>;
      return calls.some((c) => c.worker === 1 && c.state === 'ringing' && c.to === users[16]!.number);
    });
    // the phone goes away: its TCP connection closes in worker 0
    await phone.stop();
    stopped = Date.now();
    const result = await call;
    assert.notEqual(result, '200');
    assert.ok(Date.now() - stopped < 10_000, `worker 1 ended the call ${Date.now() - stopped} ms after the connection closed (${result})`);
  } finally {
    if (!stopped) await phone.stop();
  }
});

test('re-REGISTERs that move only the expiry reach the other worker once a second, not once each', { timeout: 120_000 }, async () => {
  const p = await started();
  const from = addressesOf(1, 7)[6]!;
  const user = users[5]!;
  const csv = join(dir, 'refresh.csv');
  writeFileSync(csv, sippCsv([user]));
  // one source port for every run, as a phone keeps its own: the refreshes change nothing but the expiry
  const [port] = await freeLocalPorts(1);
  const register = (expires: number, calls: number) =>
    runSipp({
      scenario: 'register-auth',
      target: p.target,
      inf: [csv],
      set: { contact: `${from}:${port}`, expires: String(expires) },
      calls,
      rate: 50,
      port,
      timeoutS: 30,
      dir,
      extraArgs: ['-i', from],
    });
  const first = await register(600, 1);
  assert.equal(first.stats?.successful, 1, first.errors);
  const expiresSeen = async () => ((await ask(p, 'registrations')) as Array<{ aor: string; expires_in: number }>).find((r) => r.aor === user.number)?.expires_in;
  // worker 0 answers the control socket: it holds the phone worker 1 registered
  const deadline = Date.now() + 5000;
  while ((await expiresSeen()) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(((await expiresSeen()) ?? 0) > 590, 'worker 0 holds the new registration at once');
  const before = (await workers())[1]!;
  const refreshes = await register(3000, 10);
  assert.equal(refreshes.stats?.successful, 10, refreshes.errors);
  let seen = await expiresSeen();
  const until = Date.now() + 5000;
  while ((seen ?? 0) < 2990 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await expiresSeen();
  }
  assert.ok((seen ?? 0) >= 2990, `worker 0 learned the refreshed expiry within seconds (expires_in ${seen})`);
  const shared = (await workers())[1]!.shared_out - before.shared_out;
  assert.ok(shared >= 1 && shared <= 4, `ten refreshes were shared as ${shared} changes (at most one a second each)`);
});

test('a busy lamp on one worker shows a call the other worker holds, and its key picks the call up there', { timeout: 120_000 }, async () => {
  const p = await started();
  // addresses apart from the other tests' (one of those is banned)
  const [w1a, w1b] = workerAddresses(1, 2, 2, 120);
  const [w0a, w0b] = workerAddresses(0, 2, 2, 120);
  const [alice, bob, carol] = [users[6]!, users[7]!, users[8]!];
  const stops: Array<() => Promise<unknown>> = [];
  try {
    // Bob's phone registers through worker 1 and rings without answering; Alice calls him through worker 1
    const bobPhone = await sippPhone(p, dir, bob, 'uas-ring-no-answer', 60, { address: w1a! });
    stops.push(() => bobPhone.stop());
    const callerCsv = join(dir, 'lamp-caller.csv');
    writeFileSync(callerCsv, sippCsv([alice], { peers: [bob.number] }));
    const caller = await startSipp({
      scenario: 'call-callee-bye-uac',
      target: p.target,
      inf: [callerCsv],
      calls: 1,
      rate: 1,
      timeoutS: 60,
      dir,
      extraArgs: ['-i', w1b!],
    });
    stops.push(() => caller.stop());
    // worker 0 holds the control socket and the lamps' state: it sees Bob ringing in worker 1's call
    const ringing = async (): Promise<boolean> => {
      const lamps = (await ask(p, 'blf')) as Array<{ resource: string; dialogs: string[] }>;
      return (lamps.find((l) => l.resource === bob.number)?.dialogs ?? []).includes(`recipient early ${alice.number}`);
    };
    const deadline = Date.now() + 10_000;
    while (!(await ringing())) {
      if (Date.now() > deadline) throw new Error(`worker 0's lamp for ${bob.number} never showed the call: ${JSON.stringify(await ask(p, 'blf'))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const held = (await ask(p, 'calls')) as Array<{ worker: number }>;
    assert.deepEqual(
      held.map((c) => c.worker),
      [1],
      "the call is worker 1's",
    );
    // Carol's BLF key (its SUBSCRIBE worker 0's) gets the early dialog in its NOTIFY
    const watchCsv = join(dir, 'lamp-watch.csv');
    writeFileSync(watchCsv, sippCsv([carol]));
    const watcher = await startSipp({
      scenario: 'blf-pickup-watch',
      target: p.target,
      inf: [watchCsv],
      set: { watch: bob.number },
      calls: 1,
      rate: 1,
      timeoutS: 60,
      dir,
      extraArgs: ['-i', w0a!],
    });
    stops.push(() => watcher.stop());
    const file = join(dir, 'pickup-replaces.txt');
    const until = Date.now() + 10_000;
    while (!(existsSync(file) && readFileSync(file, 'utf8').includes('from-tag='))) {
      if (Date.now() > until) throw new Error('no early dialog in the NOTIFY Carol got from worker 0');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Carol presses the key from an address worker 0 owns: the Replaces is steered to worker 1, which holds the call
    const pickCsv = join(dir, 'lamp-pick.csv');
    writeFileSync(pickCsv, sippCsv([carol]));
    const picked = await runSipp({
      scenario: 'call-pickup-uac',
      target: p.target,
      inf: [pickCsv],
      service: bob.number,
      calls: 1,
      rate: 1,
      pauseMs: 1000,
      traceLogs: true,
      traceMsg: true,
      timeoutS: 30,
      dir,
      extraArgs: ['-i', w0b!],
    });
    assert.equal(picked.stats?.successful, 1, `Carol's INVITE with Replaces: ${picked.errors}`);
    assert.match(/pickup-result: (.+)/.exec(picked.logs)?.[1] ?? '', /^200 /, 'the pickup was answered');
    const a = await caller.done;
    assert.equal(a.stats?.successful, 1, `Alice's call was answered (by Carol) and ended: ${a.errors}`);
    // and Carol's INVITE was taken as the pickup of the early dialog worker 1 holds, not as a call of its own
    assert.match(picked.messages, new RegExp(`^P-Asserted-Identity: <sip:${alice.number}@`, 'mi'), 'the picker is told who calls');
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(join(dir, 'pickup-replaces.txt'), { force: true });
  }
});

/** one call from `from` (a loopback address) by `user` to `number`: its final status ('200' when answered, then a BYE after `pauseMs`) */
const dial = (p: PalisadeProcess, user: (typeof users)[number], number: string, from: string, pauseMs = 500): Promise<string> =>
  callResult(p, user, number, `dial-${user.number}-${number}`, dir, { from, pauseMs, timeoutS: 30 });

/** a caller that waits to be hung up on (call-callee-bye-uac): answered by Palisade or a picker, ended from the far side */
function waitingCaller(p: PalisadeProcess, user: (typeof users)[number], number: string, from: string): Promise<SippProcess> {
  const csv = join(dir, `waiting-${user.number}.csv`);
  writeFileSync(csv, sippCsv([user], { peers: [number] }));
  return startSipp({ scenario: 'call-callee-bye-uac', target: p.target, inf: [csv], calls: 1, rate: 1, timeoutS: 60, dir, extraArgs: ['-i', from] });
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('two workers: *8 and **EXT dialled through worker 0 pick up a call ringing in worker 1 (the INVITE is steered there)', { timeout: 150_000 }, async () => {
  const p = await started();
  const [w1a, w1b] = workerAddresses(1, 2, 2, 160);
  const [w0a, w0b] = workerAddresses(0, 2, 2, 160);
  const [alice, bob, carol, eve] = [users[9]!, users[10]!, users[11]!, users[13]!];
  const bobPhone = await sippPhone(p, dir, bob, 'uas-ring-no-answer', 90, { address: w1a! });
  try {
    for (const [picker, code, how] of [
      [carol, '*8', 'group'],
      [eve, `**${bob.number}`, 'directed'],
      // _7XXXX => Pickup(${EXTEN:1}) in the dialplan: steered as **EXT is
      [eve, `7${bob.number}`, 'directed'],
      // _76XXXX => Set(TARGET=${EXTEN:2}), NoOp(), Pickup(${TARGET}): the variable is worked out, steered alike
      [eve, `76${bob.number}`, 'directed'],
    ] as const) {
      // Alice calls Bob from an address worker 1 owns: worker 1 holds the call, Bob's phone rings
      const seen = p.events().length;
      const caller = await waitingCaller(p, alice, bob.number, w1b!);
      try {
        await until('the call rings in worker 1', async () => {
          const calls = (await ask(p, 'calls')) as Array<{ worker: number; state: string }>;
          return calls.length === 1 && calls[0]!.worker === 1 && calls[0]!.state === 'ringing';
        });
        // the picker dials the code from an address worker 0 owns; worker 0 hands the INVITE to worker 1
        assert.equal(await dial(p, picker, code, w0a!, 1000), '200', `${code} is answered`);
        const a = await caller.done;
        assert.equal(a.stats?.successful, 1, `Alice's call was answered by ${picker.number} and ended: ${a.errors}`);
        const after = p.events().slice(seen);
        const steered = after.find((e) => e.event === 'request-steered' && e.user === code);
        assert.equal(steered?.to, 1, `worker 0 steered ${code} to worker 1: ${JSON.stringify(after.filter((e) => /steer|pickup|picked/.test(String(e.event))))}`);
        const picked = after.find((e) => e.event === 'call-picked-up');
        assert.equal(picked?.by, picker.number);
        assert.equal(picked?.how, how);
        assert.equal(picked?.worker, 1, 'the pickup ran in worker 1, which holds the call');
      } finally {
        await caller.stop().catch(() => undefined);
      }
    }
    // and a code with nothing to take anywhere is answered where it landed: nothing picked up
    const seen = p.events().length;
    assert.equal(await dial(p, carol, '*8', w0b!, 300), '200');
    const nothing = p
      .events()
      .slice(seen)
      .find((e) => e.event === 'pickup-nothing');
    assert.equal(nothing?.by, carol.number, 'the INVITE reached worker 0, which found nothing to pick up');
    assert.equal(nothing?.worker, 0);
  } finally {
    await bobPhone.stop();
  }
});

test('two workers: a call parked in worker 1 is taken by dialling its slot through worker 0; a slot held in one worker is not given in the other; `parked` lists both', {
  timeout: 150_000,
}, async () => {
  const p = await started();
  const [w1a, w1b] = workerAddresses(1, 2, 2, 180);
  const [w0a, w0b] = workerAddresses(0, 2, 2, 180);
  const [alice, carol, eve] = [users[9]!, users[11]!, users[13]!];
  // Alice parks herself (700) through worker 1: slot 701
  const parkedAlice = await waitingCaller(p, alice, '700', w1a!);
  const stops = [() => parkedAlice.stop()];
  try {
    type Row = { worker: number; slot: string; caller: string };
    await until('Alice waits in a slot', async () => ((await ask(p, 'parked')) as Row[]).length === 1);
    assert.deepEqual(
      ((await ask(p, 'parked')) as Row[]).map((r) => [r.worker, r.slot, r.caller]),
      [[1, '701', alice.number]],
    );
    // Eve parks through worker 0: 701 is taken (in worker 1), so 702
    const parkedEve = await waitingCaller(p, eve, '700', w0a!);
    stops.push(() => parkedEve.stop());
    await until('Eve waits in a slot', async () => ((await ask(p, 'parked')) as Row[]).length === 2);
    assert.deepEqual(
      ((await ask(p, 'parked')) as Row[]).map((r) => [r.worker, r.slot, r.caller]).sort(),
      [
        [0, '702', eve.number],
        [1, '701', alice.number],
      ],
      'one lot over both workers',
    );
    // Carol dials *85701 (ParkedCall(${EXTEN:3}) in the dialplan) through worker 0, and the slot 702
    // itself through worker 1: each reaches the worker where the call waits
    const seen = p.events().length;
    assert.equal(await dial(p, carol, '*85701', w0b!, 1000), '200');
    assert.equal((await parkedAlice.done).stats?.successful, 1, 'Alice was taken out of the lot and hung up on by Carol');
    assert.equal(await dial(p, carol, '702', w1b!, 1000), '200');
    assert.equal((await parkedEve.done).stats?.successful, 1, 'Eve too');
    const taken = p
      .events()
      .slice(seen)
      .filter((e) => e.event === 'parked-call-retrieved')
      .map((e) => [e.slot, e.worker, e.extension]);
    assert.deepEqual(taken, [
      ['701', 1, carol.number],
      ['702', 0, carol.number],
    ]);
    assert.deepEqual(await ask(p, 'parked'), [], 'the lot is empty in both workers');
  } finally {
    for (const s of stops) await s().catch(() => undefined);
  }
});

/** Alice parks herself (700) from `from`, an address worker 1 owns: her SIPp, waiting to be hung up on, and the slot worker 1 holds */
async function parkedInWorker1(p: PalisadeProcess, alice: (typeof users)[number], from: string): Promise<{ parked: SippProcess; slot: string }> {
  const parked = await waitingCaller(p, alice, '700', from);
  try {
    type Row = { worker: number; slot: string; caller: string };
    await until('Alice waits in a slot', async () => ((await ask(p, 'parked')) as Row[]).length === 1);
    const [row] = (await ask(p, 'parked')) as Row[];
    assert.deepEqual([row!.worker, row!.caller], [1, alice.number], 'worker 1 holds the parked call');
    return { parked, slot: row!.slot };
  } catch (err) {
    await parked.stop().catch(() => undefined);
    throw err;
  }
}

test('two workers: ParkedCall(${SLOT}) after Set(SLOT=${EXTEN:2}) and a Goto(), dialled through worker 0, takes the call parked in worker 1', { timeout: 120_000 }, async () => {
  const p = await started();
  const [w1a] = workerAddresses(1, 1, 2, 190);
  const [w0a] = workerAddresses(0, 1, 2, 190);
  const [alice, carol] = [users[9]!, users[11]!];
  // Alice parks herself (700) through worker 1
  const { parked: parkedAlice, slot } = await parkedInWorker1(p, alice, w1a!);
  try {
    // Carol dials 86<slot> through worker 0: _86XXX sets SLOT and jumps to [mw-park], whose ParkedCall(${SLOT}) takes it
    const code = `86${slot}`;
    const seen = p.events().length;
    assert.equal(await dial(p, carol, code, w0a!, 1000), '200');
    assert.equal((await parkedAlice.done).stats?.successful, 1, 'Alice was taken out of the lot and hung up on by Carol');
    const after = p.events().slice(seen);
    const steered = after.find((e) => e.event === 'request-steered' && e.user === code);
    assert.equal(steered?.to, 1, `worker 0 steered ${code} to worker 1: ${JSON.stringify(after.filter((e) => /steer|park/.test(String(e.event))))}`);
    assert.deepEqual(
      after.filter((e) => e.event === 'parked-call-retrieved').map((e) => [e.slot, e.worker, e.extension]),
      [[slot, 1, carol.number]],
      'the call was taken in worker 1, where it waited',
    );
    assert.deepEqual(await ask(p, 'parked'), [], 'the lot is empty in both workers');
  } finally {
    await parkedAlice.stop().catch(() => undefined);
  }
});

/** the RTP streams of a capture (tshark's own analysis), RTP found by heuristics on any port */
const rtpStreams = (pcap: string) => tsharkRtpStreams(pcap, ['-o', 'udp.try_heuristic_first:TRUE', '-o', 'rtp.heuristic_rtp:TRUE']);

test('two workers: ParkedCall(${SLOT}) with a slot the call decides runs in worker 0 and hands the caller over to worker 1, where the call waits: they talk across the workers', {
  timeout: 120_000,
}, async () => {
  const p = await started();
  const [w1a] = workerAddresses(1, 1, 2, 210);
  const [w0a] = workerAddresses(0, 1, 2, 210);
  const [alice, carol] = [users[9]!, users[11]!];
  const { parked: parkedAlice, slot } = await parkedInWorker1(p, alice, w1a!);
  const pcap = join(dir, 'handover-park.pcap');
  const capture = await startCapture(pcap, 'udp and not port 5060');
  try {
    // Carol dials 88<slot> from an address worker 0 owns: SLOT=$[...] is the call's own answer, so nothing steers it
    const code = `88${slot}`;
    const seen = p.events().length;
    const csv = join(dir, 'handover-carol.csv');
    writeFileSync(csv, sippCsv([carol], { peers: [code] }));
    // Carol talks (SIPp plays a PCMA recording) for 4 s, then hangs up
    const c = await runSipp({
      scenario: 'call-auth-uac',
      target: p.target,
      inf: [csv],
      set: { rtp_pcap: '1' },
      calls: 1,
      rate: 1,
      pauseMs: 4000,
      timeoutS: 30,
      dir,
      extraArgs: ['-i', w0a!],
    });
    assert.equal(c.stats?.successful, 1, `Carol's call: ${c.errors}${c.stdout.slice(-800)}`);
    assert.equal((await parkedAlice.done).stats?.successful, 1, 'Alice was taken out of the lot and hung up on when Carol hung up');
    const after = p.events().slice(seen);
    const show = JSON.stringify(after.filter((e) => /steer|park|hand/.test(String(e.event))));
    assert.ok(!after.some((e) => e.event === 'request-steered' && e.user === code), `worker 0 kept the call: ${show}`);
    const handed = after.find((e) => e.event === 'call-handed-over');
    assert.deepEqual([handed?.worker, handed?.to, handed?.app, handed?.arg, handed?.status], [0, 1, 'park', slot, 'ANSWER'], show);
    const taken = after.filter((e) => e.event === 'parked-call-retrieved');
    assert.deepEqual(
      taken.map((e) => [e.slot, e.worker, e.extension]),
      [[slot, 1, carol.number]],
      "the call was taken in worker 1, where it waited, as Carol's",
    );
    assert.deepEqual(await ask(p, 'parked'), [], 'the lot is empty in both workers');
    // each worker wrote its CDR: worker 0 Carol's call to the code, bridged to the hand-over leg; worker 1 her taking the slot
    type Cdr = { src: string; dst: string; dstchannel: string; disposition: string };
    let cdrs: Cdr[] = [];
    const mine = (r: Cdr) => r.src === carol.number && r.disposition === 'ANSWERED';
    await until('both workers wrote their CDRs', async () => {
      cdrs = (await waitCdrRows<Cdr>(p, 0, 0)).filter(mine);
      return cdrs.some((r) => r.dst === code) && cdrs.some((r) => r.dst === slot);
    }).catch(() => assert.fail(`Carol's CDRs: ${JSON.stringify(cdrs)}`));
    assert.match(cdrs.find((r) => r.dst === code)!.dstchannel, /^HANDOVER\/1-/, JSON.stringify(cdrs));
    await stopCapture(capture);
    // Carol's voice crossed the workers: from worker 0's leg to worker 1's (both on Palisade's own address), and on to Alice
    const streams = rtpStreams(pcap);
    const between = streams.filter((st) => st.src === '127.0.0.1' && st.dst === '127.0.0.1');
    const list = streams.map((st) => `${st.src}:${st.srcPort}>${st.dst}:${st.dstPort} ${st.payload} ${st.packets}`).join('; ');
    // (Alice's SIPp sends no audio: the other way stays silent)
    assert.ok(
      between.some((st) => st.packets >= 100),
      `RTP from worker 0's leg to worker 1's: ${list}`,
    );
    assert.ok(
      streams.some((st) => st.dst === w1a && st.packets >= 100 && /g711A|PCMA|g711U|PCMU/i.test(st.payload)),
      `RTP to Alice: ${list}`,
    );
  } finally {
    await stopCapture(capture);
    await parkedAlice.stop().catch(() => undefined);
  }
});

test('two workers: a caller handed over to the worker where its parked call waits holds and resumes it across the workers', { timeout: 120_000 }, async () => {
  const p = await started();
  const [w1a] = workerAddresses(1, 1, 2, 215);
  const [w0a] = workerAddresses(0, 1, 2, 215);
  const [alice, carol] = [users[9]!, users[11]!];
  const { parked: parkedAlice, slot } = await parkedInWorker1(p, alice, w1a!);
  try {
    const code = `88${slot}`;
    const seen = p.events().length;
    const csv = join(dir, 'handover-hold.csv');
    writeFileSync(csv, sippCsv([carol], { peers: [code] }));
    // Carol holds (a=sendonly: the answer must say recvonly or inactive), resumes (sendrecv), hangs up
    const c = await runSipp({ scenario: 'call-hold-uac', target: p.target, inf: [csv], calls: 1, rate: 1, pauseMs: 800, timeoutS: 30, dir, extraArgs: ['-i', w0a!] });
    assert.equal(c.stats?.successful, 1, `Carol's hold and resume: ${c.errors}${c.stdout.slice(-800)}`);
    assert.equal((await parkedAlice.done).stats?.successful, 1, 'Alice stayed in the call through the hold and was hung up on at its end');
    const after = p.events().slice(seen);
    const handed = after.find((e) => e.event === 'call-handed-over');
    assert.deepEqual([handed?.worker, handed?.to, handed?.status], [0, 1, 'ANSWER'], JSON.stringify(after.filter((e) => /park|hand|hold|invite/i.test(String(e.event)))));
  } finally {
    await parkedAlice.stop().catch(() => undefined);
  }
});

test('two workers: Pickup(${T}) with an extension the call decides runs in worker 0 and hands the picker over to worker 1, where the call rings', {
  timeout: 120_000,
}, async () => {
  const p = await started();
  const [w1a, w1b] = workerAddresses(1, 2, 2, 220);
  const [w0a, w0b] = workerAddresses(0, 2, 2, 220);
  const [alice, bob, eve] = [users[9]!, users[10]!, users[13]!];
  const bobPhone = await sippPhone(p, dir, bob, 'uas-ring-no-answer', 90, { address: w1a! });
  try {
    // nothing rings Bob yet: Eve's pickup finds nothing anywhere and is answered where it landed
    let seen = p.events().length;
    assert.equal(await dial(p, eve, `78${bob.number}`, w0b!, 300), '200');
    let after = p.events().slice(seen);
    assert.ok(!after.some((e) => e.event === 'call-handed-over'), 'nothing to hand over');
    assert.deepEqual(
      after.filter((e) => e.event === 'pickup-nothing').map((e) => [e.by, e.worker]),
      [[eve.number, 0]],
      'the INVITE reached worker 0, which found nothing to pick up',
    );
    // Alice calls Bob through worker 1: it rings there; Eve's pickup through worker 0 is handed over and takes it
    const caller = await waitingCaller(p, alice, bob.number, w1b!);
    try {
      await until('the call rings in worker 1', async () => {
        const calls = (await ask(p, 'calls')) as Array<{ worker: number; state: string }>;
        return calls.length === 1 && calls[0]!.worker === 1 && calls[0]!.state === 'ringing';
      });
      seen = p.events().length;
      assert.equal(await dial(p, eve, `78${bob.number}`, w0a!, 1000), '200');
      assert.equal((await caller.done).stats?.successful, 1, 'Alice was answered by Eve, who hung up');
      after = p.events().slice(seen);
      const show = JSON.stringify(after.filter((e) => /steer|pick|hand/.test(String(e.event))));
      const handed = after.find((e) => e.event === 'call-handed-over');
      assert.deepEqual([handed?.worker, handed?.to, handed?.app, handed?.arg, handed?.status], [0, 1, 'pickup', bob.number, 'ANSWER'], show);
      const picked = after.find((e) => e.event === 'call-picked-up');
      assert.deepEqual([picked?.by, picked?.how, picked?.worker], [eve.number, 'directed', 1], show);
    } finally {
      await caller.stop().catch(() => undefined);
    }
  } finally {
    await bobPhone.stop();
  }
});

test('two workers: a forged or replayed hand-over is challenged like any INVITE, and reaches the server', { timeout: 60_000 }, async () => {
  const p = await started();
  const [w0a] = workerAddresses(0, 1, 2, 230);
  const [carol] = [users[11]!];
  const probe = await udpFrom(w0a!);
  try {
    const before = (await workers()).reduce((n, w) => n + w.received, 0);
    for (const value of ['1;park;701;' + carol.number + ';99999999999999;AAAA', 'garbage']) {
      const callId = `forged-${Math.random().toString(36).slice(2)}`;
      const res = await probe.ask(
        [
          `INVITE sip:701@${p.target} SIP/2.0`,
          `Via: SIP/2.0/UDP ${w0a}:${probe.port};branch=z9hG4bK${callId};rport`,
          'Max-Forwards: 70',
          `From: <sip:${carol.number}@${p.target}>;tag=f${callId}`,
          `To: <sip:701@${p.target}>`,
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          `Contact: <sip:${carol.number}@${w0a}:${probe.port}>`,
          `X-Palisade-Handover: ${value}`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        callId,
      );
      assert.equal(res.status, 407, `a hand-over not signed by the workers' key is challenged (${value})`);
    }
    const after = (await workers()).reduce((n, w) => n + w.received, 0);
    assert.ok(after - before >= 2, 'both INVITEs reached the server');
    assert.ok(p.events().filter((e) => e.event === 'handover-refused').length >= 2, 'and each was refused as a hand-over');
  } finally {
    probe.close();
  }
});

test('two workers: do-not-disturb set by a feature code in worker 1 holds for a call worker 0 routes, at once', { timeout: 120_000 }, async () => {
  const p = await started();
  const [w1a, w1b] = workerAddresses(1, 2, 2, 200);
  const [w0a] = workerAddresses(0, 1, 2, 200);
  const [dave, eve] = [users[12]!, users[13]!];
  const davePhone = await sippPhone(p, dir, dave, 'uas-answer', 90, { address: w1a! });
  try {
    // Eve's call through worker 0 reaches Dave's phone: answered
    assert.equal(await dial(p, eve, dave.number, w0a!, 200), '200', 'Dave answers before the code');
    // Dave dials *78 from an address worker 1 owns (DND() runs there, the dialplan then ends: 480)
    const seen = p.events().length;
    assert.equal(await dial(p, dave, '*78', w1b!), '480');
    const set = p
      .events()
      .slice(seen)
      .find((e) => e.event === 'dnd-set');
    assert.equal(set?.worker, 1, 'the code ran in worker 1');
    // worker 0 refuses Eve's next call as busy without ringing Dave
    assert.equal(await dial(p, eve, dave.number, w0a!, 200), '486', 'worker 0 knows Dave does not want to be disturbed');
    assert.ok(
      p
        .events()
        .slice(seen)
        .some((e) => e.event === 'call-dnd' && e.to === dave.number && e.worker === 0),
    );
    assert.equal(await dial(p, dave, '*79', w1b!), '480');
    assert.equal(await dial(p, eve, dave.number, w0a!, 200), '200', 'and again once Dave turns it off');
  } finally {
    await davePhone.stop();
  }
});

test('two workers: a queue runs in worker 0: a caller through worker 1 waits in its one line; a member logged in by a code in worker 1 is a member there', {
  timeout: 120_000,
}, async () => {
  const p = await started();
  const [w1a, w1b] = workerAddresses(1, 2, 2, 220);
  const [w0a] = workerAddresses(0, 1, 2, 220);
  const [caller, agent, latecomer] = [users[9]!, users[14]!, users[15]!];
  type Queue = { waiting: number; members: Array<{ interface: string; paused: boolean; dynamic: boolean }>; callers: Array<{ callerid: string }> };
  const queue = async () => ((await ask(p, 'queue-show', { queue: 'mwq' })) as Queue[])[0]!;
  // 3115 logs itself in (PJSIP/3115) by *45 through worker 1 (the dialplan then ends unanswered: 480)
  const seen = p.events().length;
  assert.equal(await dial(p, latecomer, '*45', w1a!), '480');
  assert.ok(
    readFileSync(queueLog, 'utf8')
      .split('\n')
      .some((l) => /\|mwq\|PJSIP\/3115\|ADDMEMBER\|/.test(l)),
    'worker 1 ran AddQueueMember',
  );
  await until('worker 0 holds the member worker 1 added', async () => (await queue()).members.some((m) => m.interface === 'PJSIP/3115' && m.dynamic));
  assert.equal(
    readFileSync(queueLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes('|PJSIP/3115|ADDMEMBER|')).length,
    1,
    'one ADDMEMBER line, not one per worker',
  );
  // the agent's phone (through worker 0's address) is paused: a caller waits
  const agentPhone = await sippPhone(p, dir, agent, 'uas-answer', 90, { address: w0a! });
  try {
    await ask(p, 'queue-pause', { queue: 'mwq', interface: 'SIP/3114', reason: 'test' });
    // the caller dials 6000 through worker 1: steered to worker 0, answered there, and waits in worker 0's line
    const call = dial(p, caller, '6000', w1b!, 8000);
    await until('the caller waits in worker 0', async () => (await queue()).callers.some((c) => c.callerid === caller.number));
    const steered = p
      .events()
      .slice(seen)
      .find((e) => e.event === 'request-steered' && e.user === '6000');
    assert.equal(steered?.to, 0, 'worker 1 handed the call to worker 0');
    assert.equal(steered?.worker, 1);
    // the agent is back: worker 0 offers the call and the agent answers
    await ask(p, 'queue-unpause', { queue: 'mwq', interface: 'SIP/3114' });
    assert.equal(await call, '200');
    const connected = readFileSync(queueLog, 'utf8')
      .split('\n')
      .find((l) => /\|mwq\|SIP\/3114\|CONNECT\|/.test(l));
    assert.ok(connected, `the agent took the call: ${readFileSync(queueLog, 'utf8').slice(-800)}`);
    assert.equal((await queue()).waiting, 0);
  } finally {
    await agentPhone.stop();
  }
});

test("two workers: the queue is worker 0's one line also for a number that reaches Queue() by a pattern and a Goto (its target written out, made of the number, or a variable), and for a carrier's DID whose inbound route runs the dialplan", {
  timeout: 120_000,
}, async () => {
  const p = await started();
  const [w1b] = workerAddresses(1, 1, 2, 226);
  const caller = users[9]!;
  type Queue = { callers: Array<{ callerid: string }> };
  const queue = async () => ((await ask(p, 'queue-show', { queue: 'mwq' })) as Queue[])[0]!;
  const steeredTo = (seen: number, user: string) =>
    p
      .events()
      .slice(seen)
      .find((e) => e.event === 'request-steered' && e.user === user);
  // the only member is paused: callers wait in the line, where queue-show (worker 0) sees them
  await ask(p, 'queue-pause', { queue: 'mwq', interface: 'SIP/3114', reason: 'test' });
  try {
    // 6101 through worker 1: _610X jumps to 6000, which runs Queue()
    let seen = p.events().length;
    const call = dial(p, caller, '6101', w1b!, 3000);
    await until('the caller of 6101 waits in worker 0', async () => (await queue()).callers.some((c) => c.callerid === caller.number));
    assert.equal(steeredTo(seen, '6101')?.to, 0, 'worker 1 handed 6101 to worker 0');
    assert.equal(await call, '200');
    // the carrier's DID through worker 1: its inbound route runs [support-in], which jumps to the queue line;
    // then the same DID named in To only, the Request-URI naming the trunk's account (a registered trunk's calls)
    const carrierCall = async (cid: string, ruri: string, steeredUser: string) => {
      const from = p.events().length;
      const [port] = await freeLocalPorts(1);
      const inbound = runSipp({
        scenario: 'provider-call-in-uac',
        target: p.target,
        port,
        service: '4930555000',
        set: ruri ? { cid, ruri } : { cid },
        calls: 1,
        traceLogs: true,
        timeoutS: 30,
        dir,
        extraArgs: ['-i', carrierAddr!],
      });
      await until(`the carrier's caller ${cid} waits in worker 0`, async () => (await queue()).callers.some((c) => c.callerid === cid));
      assert.equal(steeredTo(from, steeredUser)?.to, 0, 'worker 1 handed the DID to worker 0');
      await until('worker 0 logs the inbound route of 4930555000', async () =>
        p
          .events()
          .slice(from)
          .some((e) => e.event === 'inbound-route' && e.did === '4930555000' && e.worker === 0),
      );
      // the administrator ends it: the carrier gets the BYE
      const row = ((await ask(p, 'calls')) as Array<Record<string, unknown>>).find((c) => JSON.stringify(c).includes(cid));
      assert.ok(row, 'the call is listed');
      assert.equal(row.worker, 0);
      await ask(p, 'hangup', { call: String(row.id) });
      const r = await inbound;
      assert.match(r.logs, /call-in-result: 200/, r.errors);
      assert.equal(r.stats?.successful, 1);
    };
    await carrierCall('015112345', '', '4930555000');
    await carrierCall('015177777', '7300111', '7300111');
    // 6301 through worker 1: _63XX jumps to [mw-lines] by the number's last two digits, 01, which runs the queue
    seen = p.events().length;
    const byDigits = dial(p, caller, '6301', w1b!, 3000);
    await until('the caller of 6301 waits in worker 0', async () => (await queue()).callers.some((c) => c.callerid === caller.number));
    assert.equal(steeredTo(seen, '6301')?.to, 0, 'worker 1 handed 6301 to worker 0');
    assert.equal(await byDigits, '200');
    // 6400 through worker 1: Goto(mw-lines,${LINE},1) may land on any line of [mw-lines], one of which is the queue
    seen = p.events().length;
    const byVariable = dial(p, caller, '6400', w1b!, 3000);
    await until('the caller of 6400 waits in worker 0', async () => (await queue()).callers.some((c) => c.callerid === caller.number));
    assert.equal(steeredTo(seen, '6400')?.to, 0, 'worker 1 handed 6400 to worker 0');
    assert.equal(await byVariable, '200');
    // 6200 through worker 1: a menu whose key 1 is the queue; the caller presses 1 and waits in worker 0's line
    seen = p.events().length;
    const csv = join(dir, 'ivr-key.csv');
    writeFileSync(csv, sippCsv([caller], { peers: ['6200'] }));
    const keyed = runSipp({ scenario: 'call-dtmf-keys-uac', target: p.target, inf: [csv], calls: 1, set: { keys: '1' }, timeoutS: 60, dir, extraArgs: ['-i', w1b!] });
    await until('the caller who pressed 1 waits in worker 0', async () => (await queue()).callers.some((c) => c.callerid === caller.number), 20_000);
    assert.equal(steeredTo(seen, '6200')?.to, 0, 'worker 1 handed the menu to worker 0');
    const menuCall = ((await ask(p, 'calls')) as Array<Record<string, unknown>>).find((c) => JSON.stringify(c).includes(caller.number));
    assert.equal(menuCall?.worker, 0);
    await ask(p, 'hangup', { call: String(menuCall!.id) });
    const kr = await keyed;
    assert.equal(kr.stats?.successful, 1, kr.errors);
  } finally {
    await ask(p, 'queue-unpause', { queue: 'mwq', interface: 'SIP/3114' });
  }
});

test('two workers: an extension created through the API (worker 0) registers and is called through worker 1 at once', { timeout: 120_000 }, async () => {
  const p = await started();
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', p.configPath], { cwd: p.dir, encoding: 'utf8', timeout: 60_000 });
  assert.equal(cli(['admin', 'add', 'mw-root', '--role', 'admin']).status, 0);
  const tok = cli(['admin', 'token', 'mw-root']);
  assert.equal(tok.status, 0, tok.stderr);
  const token = tok.stdout.trim().split('\n').at(-1)!;
  const r = await apiCall(httpBase, { method: 'POST', path: '/api/v1/extensions', body: { number: '3190', name: 'Made by the API', context: 'default' }, token });
  assert.equal(r.status, 201, r.text);
  const made = { number: '3190', secret: r.json.secret as string, name: 'API' };
  // at once: the REGISTER from an address worker 1 owns (sippPhone asserts its 200), the moment the API has answered
  const [w1a, w1b] = workerAddresses(1, 2, 2, 240);
  const phone = await sippPhone(p, dir, made, 'uas-answer', 60, { address: w1a! });
  try {
    assert.equal(await dial(p, users[13]!, made.number, w1b!, 200), '200', 'worker 1 routes a call to it');
  } finally {
    await phone.stop();
  }
});

test('two workers: subscriptions held in one worker hear of changes made in the other (MWI, presence PUBLISH, the presence DND); a conference room is one room', {
  timeout: 150_000,
}, async () => {
  const p = await started();
  const [w1a, w1b] = workerAddresses(1, 2, 2, 230);
  const [w0a, w0b] = workerAddresses(0, 2, 2, 230);
  const [boxOwner, watcher, watched] = [users[5]!, users[3]!, users[4]!];

  // MWI: 3105 subscribes to its mailbox through worker 1; the message is deposited and deleted in worker 0 (the control socket)
  const csv = join(dir, 'mwi.csv');
  writeFileSync(csv, sippCsv([boxOwner]));
  const mwi = await startSipp({ scenario: 'mwi-subscribe', target: p.target, inf: [csv], calls: 1, traceLogs: true, timeoutS: 45, dir, extraArgs: ['-i', w1a!] });
  const subscribed = await Promise.race([
    p.waitForEvent((e) => e.event === 'mwi-subscribed' && e.user === boxOwner.number, 15_000),
    mwi.done.then((x) => {
      throw new Error(`the MWI subscriber ended first: ${x.errors.slice(0, 2000)}\n${x.logs}`);
    }),
  ]);
  assert.equal(subscribed.worker, 1, 'the subscription is held by worker 1');
  const dep = (await ask(p, 'voicemail-deposit', { mailbox: boxOwner.number, wav: join(dir, 'hello.wav'), callerid: '3113' })) as { id: string };
  await new Promise((r) => setTimeout(r, 500));
  await ask(p, 'voicemail-delete', { mailbox: boxOwner.number, id: dep.id });
  const r = await mwi.done;
  assert.equal(r.stats?.successful, 1, `${r.errors.slice(0, 2000)}\n${r.logs}`);
  assert.match(r.logs, /notify-2: Messages-Waiting: yes Voice-Message: 1\/0 \(0\/0\)/, 'worker 1 told its subscriber of the message worker 0 stored');

  // presence: the watcher subscribes through worker 1; 3104 publishes "away" through worker 0; the administrator's DND is set in worker 0
  writeFileSync(join(dir, 'watcher.csv'), sippCsv([watcher]));
  writeFileSync(join(dir, 'watched.csv'), sippCsv([watched]));
  const w = await startSipp({
    scenario: 'presence-watch',
    target: p.target,
    inf: [join(dir, 'watcher.csv')],
    set: { watch: watched.number },
    calls: 1,
    traceMsg: true,
    timeoutS: 100,
    dir,
    extraArgs: ['-i', w1b!],
  });
  try {
    const file = join(dir, `sipp-${w.port}.msg.log`);
    await until('the first NOTIFY', async () => pidfs(file).length > 0);
    const pub = await runSipp({
      scenario: 'presence-publish',
      target: p.target,
      inf: [join(dir, 'watched.csv')],
      calls: 1,
      traceLogs: true,
      timeoutS: 20,
      dir,
      extraArgs: ['-i', w0a!],
    });
    assert.equal(pub.stats?.successful, 1, pub.errors.slice(0, 1500));
    await until('the watcher in worker 1 sees the away that worker 0 took', async () => pidfs(file).some((d) => /<rpid:away\/>/.test(d) && /Gone for lunch/.test(d)));
    const seen = pidfs(file).length;
    await ask(p, 'presence-dnd', { extension: watched.number, on: true });
    await until('the watcher in worker 1 sees the DND set in worker 0', async () =>
      pidfs(file)
        .slice(seen)
        .some((d) => /<rpid:busy\/>/.test(d)),
    );
    await ask(p, 'presence-dnd', { extension: watched.number, on: false });
  } finally {
    await w.stop();
  }

  // a conference: one caller through each worker; both meet in worker 0's room
  const seen = p.events().length;
  const confCsv = (u: (typeof users)[number]) => {
    const f = join(dir, `conf-${u.number}.csv`);
    writeFileSync(f, sippCsv([u], { peers: ['8000'] }));
    return f;
  };
  const [c1, c2] = await Promise.all(
    [
      [users[9]!, w1a!],
      [users[10]!, w0b!],
    ].map(([u, from]) =>
      runSipp({
        scenario: 'call-expect-uac',
        target: p.target,
        inf: [confCsv(u as (typeof users)[number])],
        calls: 1,
        pauseMs: 4000,
        traceLogs: true,
        timeoutS: 30,
        dir,
        extraArgs: ['-i', from as string],
      }),
    ),
  );
  for (const c of [c1!, c2!]) assert.match(c.logs, /call-result: 200/);
  const joined = p
    .events()
    .slice(seen)
    .filter((e) => e.event === 'conference-joined' && e.room === 'mw');
  assert.deepEqual(
    joined.map((e) => [e.worker, e.members]),
    [
      [0, 1],
      [0, 2],
    ],
    'both callers are in the one room worker 0 holds',
  );
});

test("two workers: a dynamic trunk's REGISTER taken by worker 1 routes worker 0's calls to it", { timeout: 90_000 }, async () => {
  const p = await started();
  const [w1a] = workerAddresses(1, 1, 2, 250 - 12);
  const [w0a] = workerAddresses(0, 1, 2, 250 - 12);
  // the branch registers as 9100 from an address worker 1 owns, from the port that then answers the calls sent to it
  // (a dynamic trunk's calls go where its REGISTER came from)
  const [port] = await freeLocalPorts(1);
  const csv = join(dir, 'branch.csv');
  writeFileSync(csv, sippCsv([{ number: '9100', secret: branchSecret, name: 'branch' }]));
  const r = await runSipp({
    scenario: 'register-auth',
    target: p.target,
    inf: [csv],
    set: { contact: `${w1a}:${port}`, expires: '600' },
    port,
    calls: 1,
    timeoutS: 20,
    dir,
    extraArgs: ['-i', w1a!],
  });
  assert.equal(r.stats?.successful, 1, r.errors);
  const branch = await startSipp({ scenario: 'uas-answer', target: w1a!, port, rtpEcho: true, traceMsg: true, timeoutS: 60, dir, extraArgs: ['-i', w1a!] });
  try {
    const reg = await p.waitForEvent((e) => e.event === 'trunk-peer-registered' && e.trunk === 'branch', 10_000);
    assert.equal(reg.worker, 1);
    // a call through worker 0 to 5001 goes out on the trunk to where the branch registered from
    const seen = p.events().length;
    const result = await dial(p, users[13]!, '5001', w0a!, 200);
    const trail = p
      .events()
      .slice(seen)
      .filter((e) => /route|trunk|call-|dial/.test(String(e.event)));
    assert.equal(result, '200', `worker 0 knows the branch's registration: ${JSON.stringify(trail)}`);
    const out = await branch.stop();
    assert.match(out.messages, /INVITE sip:/, 'the branch got the INVITE');
  } finally {
    await branch.stop().catch(() => undefined);
  }
});

test("two workers: the one control socket traces an extension's calls in every worker; #N names one trace; by extension, the newest of any worker", {
  timeout: 60_000,
}, async () => {
  const p = await started();
  const [w1a] = workerAddresses(1, 1, 2, 70);
  const [w0a] = workerAddresses(0, 1, 2, 70);
  const eve = users[13]!;
  await ask(p, 'trace-extension', { extension: eve.number, on: true });
  try {
    type Listed = { traces: Array<{ worker: number; id: number; users: string; call_ids: string; start: string }> };
    const list = async () => ((await ask(p, 'trace-list')) as Listed).traces;
    const before = new Set((await list()).map((t) => t.call_ids));
    const kept = async (worker: number) => {
      let hit: Listed['traces'][number] | undefined;
      await until(`worker ${worker} keeps the trace`, async () => {
        hit = (await list()).find((t) => !before.has(t.call_ids) && t.worker === worker && t.users.split(',').includes(eve.number));
        return hit !== undefined;
      });
      before.add(hit!.call_ids);
      return hit!;
    };
    // Eve dials *78 through worker 0, then *79 through worker 1 (DND() on, off; then the dialplan ends: 480)
    assert.equal(await callResult(p, eve, '*78', 'trace-78', dir, { from: w0a! }), '480');
    const in0 = await kept(0);
    assert.equal(await callResult(p, eve, '*79', 'trace-79', dir, { from: w1a! }), '480');
    const in1 = await kept(1);
    // trace numbers: worker 0 counts 1, 3, 5..., worker 1 counts 2, 4, 6...: one #N is one trace in the server
    const all = await list();
    assert.equal(new Set(all.map((t) => t.id)).size, all.length, `no two traces share a number: ${JSON.stringify(all.map((t) => [t.worker, t.id]))}`);
    for (const t of all) assert.equal(t.id % 2, t.worker === 0 ? 1 : 0, `worker ${t.worker}'s #${t.id}`);
    assert.ok(all.findIndex((t) => t.call_ids === in0.call_ids) < all.findIndex((t) => t.call_ids === in1.call_ids), 'the merged list is oldest first');
    // by Call-ID and by #N: worker 1's ladder through worker 0's control socket
    const byId = (await ask(p, 'trace', { call: in1.call_ids.split(' ')[0] })) as { text: string; worker: number };
    assert.match(byId.text, /INVITE sip:\*79@/, "worker 0's control socket shows the ladder worker 1 recorded");
    const byNumber = (await ask(p, 'trace', { call: `#${in1.id}` })) as { text: string; worker: number };
    assert.equal(byNumber.worker, 1);
    assert.match(byNumber.text, /INVITE sip:\*79@/);
    const w0ByNumber = (await ask(p, 'trace', { call: `#${in0.id}` })) as { text: string; worker: number };
    assert.match(w0ByNumber.text, /INVITE sip:\*78@/, "#N of worker 0's trace is worker 0's");
    // by extension: Eve's newest call, the one worker 1 kept, though worker 0 answers first
    const newest = (await ask(p, 'trace', { call: eve.number })) as { text: string; worker: number };
    assert.equal(newest.worker, 1, 'the newest call of any worker');
    assert.match(newest.text, /INVITE sip:\*79@/);
    const pcap = (await ask(p, 'pcap', { call: eve.number })) as { call_ids: string[]; pcapng: string };
    assert.deepEqual(pcap.call_ids.join(' '), in1.call_ids, "the capture of that same call, from worker 1's records");
    assert.ok(Buffer.from(pcap.pcapng, 'base64').length > 100);
  } finally {
    await ask(p, 'trace-extension', { extension: eve.number, on: false });
  }
});

test('a worker that dies is restarted by the primary and serves again', { timeout: 120_000 }, async () => {
  const p = await started();
  const dead = (await workers())[1]!;
  const seen = p.events().length;
  process.kill(dead.pid, 'SIGKILL');
  await p.waitForEvent((e) => e.event === 'worker-died' && e.worker === 1 && e.pid === dead.pid, 30_000);
  await p.waitForEvent((e) => e.event === 'worker-ready' && e.worker === 1 && e.pid !== dead.pid, 60_000);
  assert.ok(p.events().length > seen);
  const rows = await workers();
  assert.equal(rows.length, 2);
  assert.notEqual(rows[1]!.pid, dead.pid);
  // the new worker 1 answers what it owns: OPTIONS from addresses of either worker
  const fresh = addressesOf(1, 6)[5]!;
  assert.equal(await udpOptions(p, fresh), true, 'an address worker 1 owns is answered');
  assert.equal(await udpOptions(p, addressesOf(0, 6)[5]!), true, 'an address worker 0 owns is answered');
  // the new worker 1 was given its socket of the steered group again: it reads its own addresses' requests itself
  const after = await workers();
  assert.ok(after[1]!.received >= 1, `the new worker 1 read a packet: ${JSON.stringify(after)}`);
  assert.equal(after[0]!.forwarded - rows[0]!.forwarded, 0, `worker 0 read nothing of worker 1's: ${JSON.stringify({ rows, after })}`);
});
