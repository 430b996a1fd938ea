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
import { udpOptions } from '../helpers/sip-probe.js';
import { workerAddresses } from '../helpers/worker-addresses.js';

const dir = mkdtempSync(join(tmpdir(), 'multi-worker-'));
const users = makeUsers(9, { first: 3100 });
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
  calls: number;
  bans: number;
  received: number;
  gated: number;
  forwarded: number;
  injected: number;
  shared_out: number;
  shared_in: number;
}

// a busy lamp for 3107 (its hint in a context of its own: calls stay direct B2BUA calls), and 3108 may pick its calls up
const lampsConf = join(dir, 'extensions.conf');
writeFileSync(lampsConf, '[lamps]\nexten => 3107,hint,SIP/3107\n');

// many calls per caller at once: the call limits and the short-call reputation rule are not under test here
const EXTRA = [
  `dialplan:\n  file: ${lampsConf}`,
  'office:\n  pickup:\n    groups:\n      sales: [3107, 3108]',
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

  // one scrape of worker 0's /metrics counts both workers' calls (40 each) and the two phones once
  const metrics = await (await fetch(`${httpBase}/metrics`)).text();
  assert.match(metrics, /^palisade_calls_total\{outcome="started"\} 80$/m, 'the calls of both workers');
  assert.match(metrics, /^palisade_calls_total\{outcome="ended"\} 80$/m);
  assert.match(metrics, /^palisade_registrations 2$/m, 'the bindings every worker holds, once');
  const invites = Number(/^palisade_sip_transactions_total\{method="INVITE",status="200"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  assert.ok(invites >= 80, `INVITEs answered 200, in both workers: ${invites}`);
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
  for (let i = 0; i < probes; i++) assert.equal(await udpOptions(p, strangerAddr), false, `OPTIONS ${i} from the banned address was answered`);
  const after = await workers();
  const gatedAfter = after.reduce((n, r) => n + r.gated, 0);
  process.stdout.write(`# gate counters before ${JSON.stringify(before.map((r) => r.gated))} after ${JSON.stringify(after.map((r) => r.gated))}\n`);
  assert.ok(gatedAfter - gatedBefore >= probes, `the probes reached the server and were gated: ${gatedBefore} → ${gatedAfter}`);
  for (const r of after) assert.ok(r.bans >= 1, `worker ${r.worker} holds the ban: ${JSON.stringify(r)}`);
  const bans = JSON.stringify(await ask(p, 'bans'));
  assert.ok(bans.includes(strangerAddr), `worker 0 (the control socket) lists the ban worker 1 made: ${bans}`);
  assert.equal(await udpOptions(p, neighbour), true, 'a neighbour is still answered');
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
});
