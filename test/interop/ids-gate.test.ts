// The packet gate on every transport, and bans surviving a restart:
// - a banned address gets no answer over UDP, its TCP connection attempts are
//   closed at accept, and its open TCP connections are closed when the ban
//   falls; a neighbour address keeps being served;
// - bans are persisted and restored by the next Palisade on the same state
//   file; `palisade bans remove` lifts one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { optionsRequest, udpOptions } from '../helpers/sip-probe.js';
import { repoRoot } from '../helpers/paths.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { runSipp } from '../helpers/sipp.js';
import { writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { ensureSelfSignedCert } from '../../src/transport/self-signed-cert.js';
import { freeLocalPorts } from '../helpers/sipp.js';

const stateDir = mkdtempSync(join(tmpdir(), 'ids-gate-'));
const stateFile = join(stateDir, 'bans.json');
const extraYaml = ['security:', '  ids:', `    state_file: ${stateFile}`].join('\n');
const started: PalisadeProcess[] = [];
after(async () => {
  for (const p of started) await p.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function cli(pal: PalisadeProcess, args: string[]): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 15_000 });
  return { out: r.stdout + r.stderr, status: r.status };
}

/** a TCP connection from `from`: 'answered' (OPTIONS got a reply), 'closed' (hung up on us) */
function tcpOptions(pal: PalisadeProcess, from: string, holdOpen?: (close: () => void, sock: ReturnType<typeof connect>) => void): Promise<'answered' | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port: pal.sipPort, localAddress: from });
    let done = false;
    const finish = (v: 'answered' | 'closed' | 'silent') => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      resolve(v);
    };
    const t = setTimeout(() => finish('silent'), 2000);
    sock.on('error', () => finish('closed'));
    sock.on('close', () => finish('closed'));
    sock.on('data', () => (holdOpen ? undefined : finish('answered')));
    sock.on('connect', () => {
      if (holdOpen) holdOpen(() => finish('silent'), sock);
      else sock.write(optionsRequest({ domain: pal.domain, localPort: sock.localPort!, callId: `gate-tcp-${Date.now()}`, transport: 'TCP' }));
    });
  });
}

test('a banned address is dropped on UDP, refused on TCP, its open connections closed; bans survive a restart', { timeout: 60_000 }, async () => {
  const a = await startPalisade({ extraYaml });
  started.push(a);
  assert.equal(await udpOptions(a, '127.0.0.5'), true);
  assert.equal(await tcpOptions(a, '127.0.0.5'), 'answered');
  // an open connection from 127.0.0.6, then its address is banned: the server hangs up
  const held = tcpOptions(a, '127.0.0.6', () => {});
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(cli(a, ['bans', 'add', '127.0.0.6', '--for', '2h']).status, 0);
  assert.equal(await held, 'closed', 'the open TCP connection was closed by the ban');
  assert.equal(cli(a, ['bans', 'add', '127.0.0.5']).status, 0);
  assert.equal(await udpOptions(a, '127.0.0.5'), false, 'UDP: no answer');
  assert.equal(await tcpOptions(a, '127.0.0.5'), 'closed', 'TCP: refused at accept');
  assert.equal(await udpOptions(a, '127.0.0.7'), true, 'a neighbour is still served');
  await a.stop();

  const b = await startPalisade({ extraYaml });
  started.push(b);
  const list = cli(b, ['bans', 'list']).out;
  assert.match(list, /127\.0\.0\.5 /);
  assert.match(list, /127\.0\.0\.6\s+7\d{3}\s/, '2 h ban restored with its remaining time');
  assert.equal(await udpOptions(b, '127.0.0.5'), false, 'still banned after the restart');
  assert.equal(cli(b, ['bans', 'remove', '127.0.0.5']).status, 0);
  assert.equal(await udpOptions(b, '127.0.0.5'), true, 'unbanned');
});

test("a registered phone's address needs far more failures than a stranger's (registered_threshold)", { timeout: 60_000 }, async () => {
  const users = makeUsers(2, { first: 1000 });
  const pal = await startPalisade({ users, transports: ['udp'], extraYaml: 'registrar:\n  qualify_interval: 0' });
  started.push(pal);
  const good = join(stateDir, 'good.csv');
  const wrong = join(stateDir, 'wrong.csv');
  writeFileSync(good, sippCsv(users.slice(0, 1)));
  writeFileSync(wrong, sippCsv(users.slice(1), { wrongPassword: true }));
  // 1000 registers from 127.0.0.6; then a colleague behind the same address keeps an old password
  const reg = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [good], calls: 1, rate: 10, timeoutS: 15, dir: stateDir, extraArgs: ['-i', '127.0.0.6'] });
  assert.equal(reg.stats?.successful, 1, reg.stdout.slice(-1500));
  const fromPhone = await runSipp({
    scenario: 'register-wrong-password',
    target: pal.target,
    inf: [wrong],
    calls: 12,
    rate: 20,
    timeoutS: 15,
    dir: stateDir,
    extraArgs: ['-i', '127.0.0.6'],
  });
  assert.equal(fromPhone.stats?.successful, 12, 'every wrong-password REGISTER from the registered address was still answered');
  const stranger = await runSipp({
    scenario: 'register-wrong-password',
    target: pal.target,
    inf: [wrong],
    calls: 12,
    rate: 20,
    timeoutS: 10,
    dir: stateDir,
    extraArgs: ['-i', '127.0.0.8', '-timeout', '4'],
  });
  assert.ok((stranger.stats?.successful ?? 0) <= 5, `the stranger was banned after 5: ${JSON.stringify(stranger.stats)}`);
  const list = cli(pal, ['bans', 'list']).out;
  assert.match(list, /127\.0\.0\.8 /);
  assert.ok(!list.includes('127.0.0.6'), list);
});

/** a TLS connection from `from`: 'open' once the handshake is done (then held until closed by the server), or 'refused' */
function tlsFrom(port: number, from: string): Promise<{ state: 'open' | 'refused'; closed: Promise<void>; end: () => void }> {
  return new Promise((resolve) => {
    const raw = connect({ host: '127.0.0.1', port, localAddress: from });
    raw.on('error', () => {});
    const sock = tlsConnect({ socket: raw, rejectUnauthorized: false });
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once('secureConnect', () => resolve({ state: 'open', closed, end: () => sock.destroy() }));
    sock.once('error', () => resolve({ state: 'refused', closed, end: () => sock.destroy() }));
  });
}

test("TLS: a ban closes the address's open TLS connection and refuses new ones before the handshake", { timeout: 60_000 }, async () => {
  const cert = await ensureSelfSignedCert(stateDir, ['127.0.0.1']);
  const [tlsPort] = await freeLocalPorts(1);
  const pal = await startPalisade({ transports: ['udp'], extraListen: [`tls:127.0.0.1:${tlsPort}`], extraYaml: ['tls:', `  cert: ${cert.cert}`, `  key: ${cert.key}`].join('\n') });
  started.push(pal);
  const open = await tlsFrom(tlsPort!, '127.0.0.10');
  assert.equal(open.state, 'open');
  let closedEarly = false;
  void open.closed.then(() => (closedEarly = true));
  // the server adopts the connection once the handshake has completed on its side too
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(closedEarly, false);
  assert.equal(cli(pal, ['bans', 'add', '127.0.0.10']).status, 0);
  await Promise.race([open.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('the TLS connection stayed open after the ban')), 3000))]);
  const again = await tlsFrom(tlsPort!, '127.0.0.10');
  again.end();
  assert.equal(again.state, 'refused');
  const other = await tlsFrom(tlsPort!, '127.0.0.11');
  other.end();
  assert.equal(other.state, 'open', 'a neighbour still gets in');
});
