// Two real softphones (baresip) register to a running Palisade and call
// each other through it: digest registration, INVITE through the B2BUA,
// tones both ways through Palisade's RTP relay, RFC 4733 DTMF, hangup from
// either side, and the CDR row that the call leaves behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { startCapture, stopCapture } from '../helpers/tshark.js';
import { Baresip, findFreePort, rtpPortRange, type TracedSipMessage } from '../helpers/baresip.js';
import { analyseWav, makeToneWav } from '../helpers/audio.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/paths.js';
import { freeEvenPorts } from '../helpers/sipp.js';
import { waitFor } from '../helpers/wait.js';
import { reapOnExit } from '../helpers/reap.js';

/** qualify: both phones answered Palisade's OPTIONS (`palisade show registrations` says reachable) */
async function bothReachable(configPath: string): Promise<void> {
  const bin = join(repoRoot(), 'bin', 'palisade.js');
  let last = '';
  for (let i = 0; i < 40; i++) {
    const r = spawnSync(process.execPath, [bin, 'show', 'registrations', '--config', configPath], { encoding: 'utf8', timeout: 10_000 });
    last = r.stdout + r.stderr;
    const rows = last.split('\n').filter((l) => /^100[12]\s/.test(l));
    if (rows.length === 2 && rows.every((l) => /\syes\s*$/.test(l))) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.fail(`the phones did not become reachable by qualify:\n${last}`);
}

const TONE_CALLER = 440;
const TONE_CALLEE = 1000;
/**
 * The ports a call uses: Palisade's relay range and each phone's RTP range,
 * in port blocks this test process holds (test/helpers/sipp.ts), so a test
 * file running beside this one is never handed a port in them.
 */
interface CallPorts {
  relay: [number, number];
  caller: [number, number];
  callee: [number, number];
}

async function callPorts(): Promise<CallPorts> {
  const relay = await freeEvenPorts(100);
  return { relay: [relay, relay + 99], caller: rtpPortRange(), callee: rtpPortRange() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Site {
  dir: string;
  sipPort: number;
  dbPath: string;
  secrets: { '1001': string; '1002': string };
}

function writeSite(dir: string, sipPort: number, relay: [number, number]): Site & { configPath: string } {
  const secrets = { '1001': generateSecret({ extension: '1001', name: 'Alice' }), '1002': generateSecret({ extension: '1002', name: 'Bob' }) };
  const dbPath = join(dir, 'palisade.db');
  const configPath = join(dir, 'palisade.yaml');
  writeFileSync(
    configPath,
    [
      'sip:',
      `  listen: ["udp:127.0.0.1:${sipPort}", "tcp:127.0.0.1:${sipPort}"]`,
      '  domain: 127.0.0.1',
      'rtp:',
      `  ports: ${relay[0]}-${relay[1]}`,
      '  address: 127.0.0.1',
      // No auth section: the default challenge must work for baresip 1.0.0,
      // which (libre's sip/auth.c) refuses a 401 naming any non-MD5 algorithm.
      // Qualify every 2 s so the test sees the phones answer OPTIONS.
      'registrar:',
      '  qualify_interval: 2',
      'storage:',
      '  driver: sqlite',
      `  path: ${dbPath}`,
      'control:',
      `  socket: ${join(dir, 'palisade.sock')}`,
      'extensions:',
      `  - { number: "1001", name: Alice, secret: "${secrets['1001']}", context: internal }`,
      `  - { number: "1002", name: Bob, secret: "${secrets['1002']}", context: internal }`,
      '',
    ].join('\n'),
  );
  return { dir, sipPort, dbPath, secrets, configPath };
}

/** `node bin/palisade.js start --config FILE` until its `"event":"ready"` log line */
async function startPalisade(configPath: string, logPath: string): Promise<ChildProcess> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('Palisade is not built: run `npm run build` first');
  const proc = reapOnExit(
    spawn(process.execPath, [join(root, 'bin', 'palisade.js'), 'start', '--config', configPath], {
      cwd: dirname(configPath),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const log = createWriteStream(logPath);
  proc.stderr?.pipe(log);
  let seen = '';
  const ready = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`palisade did not log "event":"ready" within 15 s; log ${logPath}`)), 15_000);
    proc.stdout?.on('data', (d: Buffer) => {
      log.write(d);
      seen += d.toString('utf8');
      for (const line of seen.split('\n')) {
        if (line.includes('"event":"ready"')) {
          clearTimeout(timer);
          res();
        }
      }
      seen = seen.slice(seen.lastIndexOf('\n') + 1);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`palisade exited with ${code} before it was ready; log ${logPath}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return proc;
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** the RTP port ranges a call uses */
const captureFilter = ({ relay, caller, callee }: CallPorts): string => `udp and (${[relay, caller, callee].map(([lo, hi]) => `portrange ${lo}-${hi}`).join(' or ')})`;

interface Flow {
  src: number;
  dst: number;
  packets: number;
  events: number;
}

/** RTP flows (by UDP port pair) in the capture; RFC 4733 events are payload type 101 as baresip offers them */
function rtpFlows(pcap: string): Promise<Flow[]> {
  return new Promise((res, rej) => {
    const proc = spawn(
      'tshark',
      ['-r', pcap, '-o', 'udp.try_heuristic_first:TRUE', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp', '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtp.p_type'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return rej(new Error(`tshark -r exited with ${code}`));
      const flows = new Map<string, Flow>();
      for (const line of out.split('\n')) {
        const [src, dst, pt] = line.split('\t');
        if (!dst) continue;
        const key = `${src}>${dst}`;
        let f = flows.get(key);
        if (!f) flows.set(key, (f = { src: Number(src), dst: Number(dst), packets: 0, events: 0 }));
        f.packets++;
        if (pt === '101') f.events++;
      }
      res([...flows.values()]);
    });
  });
}

/** a response to an INVITE (RFC 3261 §8.1.3.1: matched by the CSeq method) */
function isInviteResponse(m: TracedSipMessage): boolean {
  return m.startLine.startsWith('SIP/2.0 ') && m.headers.some((h) => /^cseq:\s*\d+\s+INVITE\s*$/i.test(h));
}

/** the single audio port in a set of SDP bodies (a retransmission repeats it) */
function onePort(sdp: Array<{ port: number }>, what: string): number {
  const ports = [...new Set(sdp.map((s) => s.port))];
  assert.equal(ports.length, 1, `${what}: audio ports ${ports.join(', ') || 'none'}`);
  return ports[0];
}

interface CallCase {
  hangupBy: 'caller' | 'callee';
  transport: 'udp' | 'tcp';
  /** capture RTP with tshark and check the flows */
  capture: boolean;
}

async function callThroughPalisade({ hangupBy, transport, capture }: CallCase, note: (msg: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `palisade-call-${transport}-${hangupBy}-`));
  const sipPort = await findFreePort(1, 35000, 35999);
  const ports = await callPorts();
  const isRelay = (p: number): boolean => p >= ports.relay[0] && p <= ports.relay[1];
  const site = writeSite(dir, sipPort, ports.relay);
  makeToneWav(join(dir, 'caller.wav'), TONE_CALLER, 60);
  makeToneWav(join(dir, 'callee.wav'), TONE_CALLEE, 60);
  const server = `127.0.0.1:${sipPort}`;
  const caller = new Baresip({
    name: 'caller',
    baseDir: dir,
    user: '1001',
    domain: server,
    password: site.secrets['1001'],
    regint: 600,
    transport,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: join(dir, 'caller.wav'),
    rtpPorts: ports.caller,
    sipTrace: true,
  });
  const callee = new Baresip({
    name: 'callee',
    baseDir: dir,
    user: '1002',
    domain: server,
    password: site.secrets['1002'],
    regint: 600,
    transport,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: join(dir, 'callee.wav'),
    rtpPorts: ports.callee,
    answerMode: 'auto',
    sipTrace: true,
  });
  let palisade: ChildProcess | undefined;
  let tshark: ChildProcess | undefined;
  let passed = false;
  try {
    palisade = await startPalisade(site.configPath, join(dir, 'palisade.log'));
    await caller.start();
    await callee.start();
    await caller.waitRegistered(5000);
    await callee.waitRegistered(5000);
    await bothReachable(site.configPath);

    const pcap = join(dir, 'call.pcap');
    if (capture) tshark = await startCapture(pcap, captureFilter(ports));

    await caller.dial(`sip:1002@${server}`);
    await callee.waitEvent('CALL_ESTABLISHED', 10_000);
    await caller.waitEvent('CALL_ESTABLISHED', 10_000);
    const answeredAt = Date.now();

    await sleep(3000);
    await caller.sendDtmf('1234#');
    await callee.waitEvent((e) => e.type === 'CALL_DTMF_START' && e.param === '#', 5000);
    assert.equal(callee.dtmfReceived(), '1234#', 'digits as the callee saw them');
    await sleep(500);

    const hanger = hangupBy === 'caller' ? caller : callee;
    await hanger.hangup();
    const talkedMs = Date.now() - answeredAt;
    await caller.waitEvent('CALL_CLOSED', 5000);
    await callee.waitEvent('CALL_CLOSED', 5000);
    if (tshark) await stopCapture(tshark);

    // Audio crossed both ways: each side heard the other's tone.
    const heardByCallee = analyseWav(await waitFor('callee recording', () => callee.recordings().dec[0], 5000));
    const heardByCaller = analyseWav(await waitFor('caller recording', () => caller.recordings().dec[0], 5000));
    assert.ok(heardByCallee.activeSec >= 2.5, `callee heard ${heardByCallee.activeSec}s of audio`);
    assert.ok(heardByCaller.activeSec >= 2.5, `caller heard ${heardByCaller.activeSec}s of audio`);
    assert.ok(Math.abs(heardByCallee.dominantHz - TONE_CALLER) <= 10, `callee heard ${heardByCallee.dominantHz} Hz`);
    assert.ok(Math.abs(heardByCaller.dominantHz - TONE_CALLEE) <= 10, `caller heard ${heardByCaller.dominantHz} Hz`);
    note(`callee heard ${heardByCallee.dominantHz} Hz for ${heardByCallee.activeSec} s; caller heard ${heardByCaller.dominantHz} Hz for ${heardByCaller.activeSec} s`);

    // Each phone was told (in SDP from Palisade) to send to a relay port, not
    // to the other phone: the callee's offer came in an INVITE, the caller's
    // answer in a response to its INVITE.
    const callerOffer = onePort(
      caller.sdpAudio((m) => m.startLine.startsWith('INVITE ')),
      'caller offer',
    );
    const calleeAnswer = onePort(callee.sdpAudio(isInviteResponse), 'callee answer');
    for (const [phone, label, pick] of [
      [caller, 'caller', isInviteResponse],
      [callee, 'callee', (m: TracedSipMessage) => m.startLine.startsWith('INVITE ')],
    ] as const) {
      const offered = phone.sdpAudio(pick);
      assert.ok(offered.length > 0, `${label} got SDP from Palisade`);
      for (const o of offered) {
        // Palisade answers on its listening port (UDP, or the phone's own TCP connection).
        assert.equal(o.src, server, `${label}: ${o.startLine} came from Palisade`);
        assert.equal(o.address, '127.0.0.1', `${label}: ${o.startLine}`);
        assert.ok(isRelay(o.port), `${label} was told to send RTP to ${o.port} (${o.startLine})`);
        assert.notEqual(o.port, label === 'caller' ? calleeAnswer : callerOffer, `${label} got the other phone's port`);
      }
    }

    if (capture) {
      // Only this call's ports count: other tests on the machine may be
      // sending RTP in the same ranges.
      const flows = (await rtpFlows(pcap)).filter((f) => [callerOffer, calleeAnswer].some((p) => p === f.src || p === f.dst));
      const describe = flows.map((f) => `${f.src}>${f.dst}:${f.packets}`).join(' ');
      note(`RTP flows (port>port:packets, caller ${callerOffer}, callee ${calleeAnswer}): ${describe}`);
      const direct = flows.filter((f) => !isRelay(f.src) && !isRelay(f.dst));
      assert.deepEqual(direct, [], `direct phone-to-phone RTP: ${describe}`);
      const sum = (pred: (f: Flow) => boolean, field: 'packets' | 'events' = 'packets'): number => flows.filter(pred).reduce((n, f) => n + f[field], 0);
      // 20 ms packets for at least ~3 s of the call on each of the four legs.
      for (const [n, what] of [
        [sum((f) => f.src === callerOffer && isRelay(f.dst)), 'caller -> relay'],
        [sum((f) => isRelay(f.src) && f.dst === calleeAnswer), 'relay -> callee'],
        [sum((f) => f.src === calleeAnswer && isRelay(f.dst)), 'callee -> relay'],
        [sum((f) => isRelay(f.src) && f.dst === callerOffer), 'relay -> caller'],
      ] as const) {
        assert.ok(n >= 150, `${what}: ${n} RTP packets (${describe})`);
      }
      const eventsToCallee = sum((f) => isRelay(f.src) && f.dst === calleeAnswer, 'events');
      assert.ok(eventsToCallee >= 5, `relay forwarded ${eventsToCallee} RFC 4733 event packets to the callee`);
    }

    // The CDR row; Palisade may write it just after the BYE, so poll briefly.
    const row = await waitFor(
      'CDR row',
      () => {
        const db = new Database(site.dbPath, { readonly: true, fileMustExist: true });
        try {
          return db.prepare('SELECT src, dst, disposition, billsec, duration FROM cdr WHERE src = ? AND dst = ?').get('1001', '1002') as
            | { src: string; dst: string; disposition: string; billsec: number; duration: number }
            | undefined;
        } finally {
          db.close();
        }
      },
      5000,
    );
    note(`CDR: ${JSON.stringify(row)} after ${talkedMs} ms of talk`);
    assert.equal(row.disposition, 'ANSWERED');
    assert.ok(row.billsec >= 2, `billsec ${row.billsec}`);
    assert.ok(row.billsec <= Math.ceil(talkedMs / 1000) + 1, `billsec ${row.billsec} for ${talkedMs} ms of talk`);
    assert.ok(row.duration >= row.billsec, `duration ${row.duration} >= billsec ${row.billsec}`);
    passed = true;
  } finally {
    if (tshark) await stopCapture(tshark);
    await caller.stop();
    await callee.stop();
    if (palisade) await stopProcess(palisade);
    // Logs, recordings and the capture stay behind for a failed run.
    if (passed) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`palisade call test artefacts kept in ${dir}\n`);
  }
}

test('two baresip phones register to Palisade and call through it; the caller hangs up', { timeout: 90_000 }, async (t) => {
  await callThroughPalisade({ hangupBy: 'caller', transport: 'udp', capture: true }, (m) => t.diagnostic(m));
});

test('two baresip phones call through Palisade; the callee hangs up', { timeout: 90_000 }, async (t) => {
  await callThroughPalisade({ hangupBy: 'callee', transport: 'udp', capture: false }, (m) => t.diagnostic(m));
});

test('two baresip phones registered over TCP call through Palisade', { timeout: 90_000 }, async (t) => {
  await callThroughPalisade({ hangupBy: 'caller', transport: 'tcp', capture: true }, (m) => t.diagnostic(m));
});
