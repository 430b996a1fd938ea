// What an operator sees: listeners bound exactly where configured (IPv4 and
// IPv6, nothing else), the CLI over the control socket (status, show
// registrations, show calls), registrations surviving a restart, a clean
// exit on SIGTERM, and `palisade check` naming file:line for a bad line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { freeEvenPorts, freeLocalPorts, repoRoot, runSipp, type SippResult } from '../helpers/sipp.js';
import { makeUsers, palisadeCsv, sippCsv } from '../helpers/users.js';
import { reapOnExit } from '../helpers/reap.js';

const bin = join(repoRoot(), 'bin', 'palisade.js');
/** every line any Palisade process of this file printed */
const allOutput: string[] = [];

interface Running {
  child: ChildProcess;
  out: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(configPath: string): Promise<Running> {
  const child = reapOnExit(spawn(process.execPath, [bin, 'start', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out: string[] = [];
  let buf = '';
  child.on('exit', () => allOutput.push(...out));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('Palisade did not become ready:\n' + out.join('\n')));
    }, 20_000);
    child.stderr!.on('data', (d: Buffer) => out.push('stderr: ' + d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        out.push(line);
        if (line.includes('"event":"ready"')) {
          clearTimeout(timer);
          resolve({ child, out, exit });
        }
      }
    });
    void exit.then((e) => {
      clearTimeout(timer);
      reject(new Error(`Palisade exited ${JSON.stringify(e)}:\n${out.join('\n')}`));
    });
  });
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** listening sockets of one process: lines like "udp 127.0.0.1:5060" from ss */
function socketsOf(pid: number): string[] {
  const r = spawnSync('ss', ['-H', '-l', '-n', '-p', '-u', '-t'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return `${f[0]} ${f[4]}`;
    })
    .sort();
}

function optionsOverIpv6(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: 'udp6', ipv6Only: true });
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no answer over IPv6'));
    }, 3000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m.toString());
    });
    sock.bind(0, '::1', () => {
      const me = sock.address().port;
      const req =
        `OPTIONS sip:[::1]:${port} SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:${me};branch=z9hG4bKv6test;rport\r\nMax-Forwards: 70\r\n` +
        `From: <sip:probe@[::1]>;tag=v6\r\nTo: <sip:[::1]:${port}>\r\nCall-ID: v6test@[::1]\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      sock.send(req, port, '::1');
    });
  });
}

function assertAllPassed(r: SippResult, what: string, calls: number): void {
  const why = `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}`;
  assert.equal(r.stats?.failed, 0, why);
  assert.equal(r.stats?.successful, calls, why);
}

describe('operating Palisade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ops-'));
  const users = makeUsers(3, { first: 2100 });
  let sipPort = 0;
  let v6Port = 0;
  let rtpBase = 0;
  let configPath = '';

  before(async () => {
    [sipPort, v6Port] = await freeLocalPorts(2);
    rtpBase = await freeEvenPorts(98);
    configPath = join(dir, 'palisade.yaml');
    writeFileSync(
      configPath,
      [
        'sip:',
        `  listen: [udp:127.0.0.1:${sipPort}, tcp:127.0.0.1:${sipPort}, "udp:[::1]:${v6Port}", "tcp:[::1]:${v6Port}"]`,
        '  domain: 127.0.0.1',
        'rtp:',
        `  ports: ${rtpBase}-${rtpBase + 97}`,
        '  address: 127.0.0.1',
        'storage:',
        '  driver: sqlite',
        '  path: palisade.db',
        'control:',
        '  socket: control.sock',
        'registrar:',
        '  qualify_interval: 0',
        '',
      ].join('\n'),
    );
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, palisadeCsv(users));
    const imp = cli('users', 'import', csv, '--config', configPath);
    assert.equal(imp.status, 0, imp.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('binds exactly the configured listen points, IPv4 and IPv6, and nothing else', async () => {
    const p = await start(configPath);
    try {
      const got = socketsOf(p.child.pid!);
      assert.deepEqual(got, [`tcp 127.0.0.1:${sipPort}`, `tcp [::1]:${v6Port}`, `udp 127.0.0.1:${sipPort}`, `udp [::1]:${v6Port}`].sort(), got.join('\n'));
      // and SIP is served over IPv6: an OPTIONS to [::1] gets its 200, with the IPv6 source stamped in Via
      const answer = await optionsOverIpv6(v6Port);
      assert.match(answer, /^SIP\/2\.0 200 OK\r\n/);
      assert.match(answer, /^Via: SIP\/2\.0\/UDP \[::1\]:\d+;branch=z9hG4bKv6test;rport=\d+;received=::1\r$/m);
    } finally {
      p.child.kill('SIGTERM');
      await p.exit;
    }
  });

  test('status and show registrations over the control socket; registrations survive a restart; SIGTERM exits 0', { timeout: 60_000 }, async () => {
    let p = await start(configPath);
    const [contactPort] = await freeLocalPorts(1);
    try {
      const csv = join(dir, 'reg.csv');
      writeFileSync(csv, sippCsv(users.slice(0, 2)));
      assertAllPassed(
        await runSipp({
          scenario: 'register-auth',
          target: `127.0.0.1:${sipPort}`,
          transport: 'u1',
          inf: [csv],
          set: { contact: `127.0.0.1:${contactPort}`, expires: '900' },
          calls: 2,
          rate: 10,
          timeoutS: 20,
          dir,
        }),
        'register-auth',
        2,
      );
      const st = cli('status', '--config', configPath);
      assert.equal(st.status, 0, st.stderr);
      assert.match(st.stdout, /^registrations: 2$/m);
      assert.match(st.stdout, /^extensions: 3$/m);
      assert.match(st.stdout, /^active_calls: 0$/m);
      const calls = cli('show', 'calls', '--config', configPath);
      assert.equal(calls.status, 0);
      assert.match(calls.stdout, /no active calls/);
      // device states: the two registered extensions are idle, the third has no contact
      const hints = cli('show', 'hints', '--config', configPath);
      assert.equal(hints.status, 0, hints.stderr);
      assert.match(hints.stdout, new RegExp(`^${users[0]!.number}\\s+idle\\s+1\\s*$`, 'm'), hints.stdout);
      assert.match(hints.stdout, new RegExp(`^${users[1]!.number}\\s+idle\\s+1\\s*$`, 'm'));
      assert.match(hints.stdout, new RegExp(`^${users[2]!.number}\\s+unavailable\\s+0\\s*$`, 'm'));

      // users imported while the server runs can register at once
      const late = makeUsers(1, { first: 2150 });
      const lateCsv = join(dir, 'late.csv');
      writeFileSync(lateCsv, palisadeCsv(late));
      const imp = cli('users', 'import', lateCsv, '--config', configPath);
      assert.equal(imp.status, 0, imp.stderr);
      assert.match(imp.stdout, /the running server now has 4 extensions/);
      const lateReg = join(dir, 'late-reg.csv');
      writeFileSync(lateReg, sippCsv(late));
      assertAllPassed(
        await runSipp({
          scenario: 'register-auth',
          target: `127.0.0.1:${sipPort}`,
          transport: 'u1',
          inf: [lateReg],
          set: { contact: `127.0.0.1:${contactPort}`, expires: '900' },
          calls: 1,
          rate: 10,
          timeoutS: 20,
          dir,
        }),
        'register-auth (imported while running)',
        1,
      );
    } finally {
      p.child.kill('SIGTERM');
    }
    const e = await p.exit;
    assert.deepEqual(e, { code: 0, signal: null }, p.out.join('\n'));
    assert.ok(
      p.out.some((l) => l.includes('"event":"stopped"')),
      'a clean shutdown is logged',
    );

    p = await start(configPath);
    try {
      assert.ok(
        p.out.some((l) => /"event":"ready".*"restored_registrations":3/.test(l)),
        p.out.join('\n'),
      );
      const regs = cli('show', 'registrations', '--config', configPath);
      assert.equal(regs.status, 0, regs.stderr);
      for (const u of users.slice(0, 2)) assert.match(regs.stdout, new RegExp(`^${u.number}\\s+sip:${u.number}@127\\.0\\.0\\.1:${contactPort}`, 'm'));
      assert.doesNotMatch(regs.stdout, new RegExp(`^${users[2]!.number}\\s`, 'm'));
    } finally {
      p.child.kill('SIGTERM');
      await p.exit;
    }
  });

  test('no secret appears in the logs or the database, and the database is private to its owner', async () => {
    assert.equal(statSync(join(dir, 'palisade.db')).mode & 0o077, 0, 'palisade.db must not be readable by group or others');
    const db = readFileSync(join(dir, 'palisade.db')).toString('latin1');
    assert.ok(allOutput.length > 10, 'the earlier tests produced logs');
    const logs = allOutput.join('\n');
    for (const u of users) {
      assert.ok(!db.includes(u.secret), 'clear secret stored');
      assert.ok(!logs.includes(u.secret), 'secret logged');
    }
    assert.doesNotMatch(logs, /response="[0-9a-f]{32}/, 'no digest credentials in the logs');
  });

  test('palisade check names file:line and the fix for a bad line', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'sip:\n  listen: [udp:127.0.0.1]\n  domain: pbx.example.org\nextensions:\n  - number: "1001"\n    secret: "1234"\n');
    const r = cli('check', '--config', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr + r.stdout, /bad\.yaml:2:\d+: .*port/);
    assert.match(r.stderr + r.stdout, /bad\.yaml:6:\d+: .*too weak/);
    const ok = cli('check', '--config', configPath);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^OK/);
  });

  test('the CLI says clearly when the server is not running', () => {
    const r = cli('status', '--config', configPath);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /control socket .* \(is it running\?\)/);
  });
});
