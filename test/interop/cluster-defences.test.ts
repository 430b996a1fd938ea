// Two Palisade nodes sharing their defences through NATS JetStream and one
// PostgreSQL database (docs/operations.md, "Scaling out"), inside a
// loopback-only namespace (sipvicious names outside addresses). The
// namespace cannot reach the machine's broker, so the nodes use a NATS
// server of the test's own (Debian's nats-server, which the second test also
// kills and brings back); PostgreSQL is the machine's, over its Unix socket.
// - svcrack against node A is banned by A after 5 failures, and node B then
//   drops that address at its packet gate: B's gated counter proves the
//   attempts reached B, B's security log that none was parsed; a neighbour
//   address is still answered by B; A's reputation verdict on the address
//   holds on B;
// - with the broker gone, each node keeps banning on its own (a manual ban
//   on B, an svcrack ban on A); when the broker is back each node adopts the
//   other's ban.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsSuite } from '../helpers/netns.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers } from '../helpers/users.js';
import { palisadeStatus, udpOptions } from '../helpers/sip-probe.js';
import { repoRoot } from '../helpers/paths.js';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { clusterTag, dropTables, eventually, clusterNodeYaml } from '../helpers/cluster-env.js';

// PostgreSQL through its socket: the namespace has no route to the outer loopback
const PG_URL = process.env.PALISADE_TEST_PG_SOCKET_URL ?? 'postgres://postgres@localhost/test?host=/var/run/postgresql';
const tag = clusterTag('c');
const users = makeUsers(2, { first: 1000 });

function run(cmd: string, args: string[], timeoutMs = 60_000): { out: string; status: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { out: `${r.stdout}\n${r.stderr}`, status: r.status };
}

function cli(pal: PalisadeProcess, args: string[]): { out: string; status: number | null } {
  return run(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', pal.configPath], 15_000);
}

function seclog(pal: PalisadeProcess): string[] {
  try {
    return readFileSync(join(pal.dir, 'var', 'security.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('res_security_log.c'));
  } catch {
    return [];
  }
}

/** svcrack ignores -b: its source is the preferred source of the local route (see sipvicious.test.ts) */
function sourceAddress(addr: string): void {
  const r = spawnSync('ip', ['route', 'replace', 'local', '127.0.0.1', 'dev', 'lo', 'src', addr, 'table', 'local'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

function svcrack(pal: PalisadeProcess, from: string): string {
  const words = Array.from({ length: 20 }, (_, i) => `guess-${i}-Xy9`);
  words[11] = users[0]!.secret;
  const dict = join(pal.dir, `words-${from}.txt`);
  writeFileSync(dict, words.join('\n') + '\n');
  sourceAddress(from);
  try {
    return run('svcrack', ['-u', users[0]!.number, '-d', dict, '-p', String(pal.sipPort), '-b', from, '127.0.0.1'], 120_000).out;
  } finally {
    sourceAddress('127.0.0.1');
  }
}

function gated(pal: PalisadeProcess): number {
  return (palisadeStatus(pal.configPath) as { packets: { gated: number } }).packets.gated;
}

function clusterStatus(pal: PalisadeProcess): Record<string, unknown> {
  return palisadeStatus(pal.configPath).cluster as Record<string, unknown>;
}

netnsSuite(import.meta.url, 'a cluster of two nodes shares bans and reputation', () => {
  let nats: NatsServer;
  let a: PalisadeProcess;
  let b: PalisadeProcess;
  const prefix = `${tag}_`;
  const node = (name: string, extra: string[] = []) =>
    [
      ...clusterNodeYaml(name, tag, nats.url),
      'security:',
      '  log: { min_level: 0 }',
      '  ids:',
      // the failure-count rule alone must stop the guessing
      '    scanners: { action: log }',
      ...extra,
    ].join('\n');
  const storage = ['driver: postgres', `url: ${PG_URL}`, `table_prefix: ${prefix}`];

  before(async () => {
    nats = await startNats();
    a = await startPalisade({ users, transports: ['udp'], storage, extraYaml: node('a') });
    b = await startPalisade({ transports: ['udp'], storage, extraYaml: node('b') });
    await a.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
    await b.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
    await eventually('each node sees the other', () => {
      const sa = clusterStatus(a).nodes as string[];
      const sb = clusterStatus(b).nodes as string[];
      return sa.includes('b') && sb.includes('a');
    });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await nats?.stop();
    await dropTables(prefix, PG_URL);
  });

  test('svcrack banned on node A is refused by node B at once', async () => {
    const out = svcrack(a, '127.0.0.3');
    assert.ok(!out.includes(users[0]!.secret), `svcrack found the password:\n${out}`);
    const onA = seclog(a).filter((l) => l.includes('/127.0.0.3/'));
    assert.ok(
      onA.some((l) => l.includes('SecurityEvent="Ban"')),
      `A banned 127.0.0.3:\n${onA.join('\n')}`,
    );
    await b.waitForEvent((e) => e.event === 'cluster-ban-adopted' && e.address === '127.0.0.3', 5000);
    assert.match(cli(b, ['bans', 'list']).out, /127\.0\.0\.3 /, 'B lists the ban');

    // B drops the address before parsing: its gate counts the packets, nothing reaches its security log
    const gatedBefore = gated(b);
    const crackB = svcrack(b, '127.0.0.3');
    assert.ok(!crackB.includes(users[0]!.secret), crackB);
    assert.equal(await udpOptions(b, '127.0.0.3'), false, 'B does not answer the banned address');
    assert.ok(gated(b) > gatedBefore, `the attempts reached B and were dropped at its gate (${gatedBefore} → ${gated(b)})`);
    const parsedOnB = seclog(b).filter((l) => l.includes('/127.0.0.3/') && !l.includes('SecurityEvent="Ban"'));
    assert.deepEqual(parsedOnB, [], 'B parsed nothing from the banned address');
    assert.equal(await udpOptions(b, '127.0.0.4'), true, 'a neighbour is still answered by B');

    // the failed guesses A saw weigh on the address's reputation on B too
    const score = (pal: PalisadeProcess) => Number(/^score: ([0-9.]+)$/m.exec(cli(pal, ['reputation', 'show', '127.0.0.3']).out)?.[1]);
    const scoreA = score(a);
    assert.ok(scoreA < 5, `A's verdict: ${scoreA}`);
    await eventually("B holds A's verdict on 127.0.0.3", () => score(b) === scoreA);
    const st = clusterStatus(b) as { ban_propagation: { count: number; p50_ms: number; p99_ms: number } };
    assert.ok(st.ban_propagation.count >= 1, JSON.stringify(st));
    process.stdout.write(`# ban propagation A→B: ${JSON.stringify(st.ban_propagation)}\n`);
  });

  test('without the broker each node defends itself; when it returns they exchange what they missed', async () => {
    await nats.kill();
    await a.waitForEvent((e) => e.event === 'cluster-broker-lost', 10_000);
    await b.waitForEvent((e) => e.event === 'cluster-broker-lost', 10_000);
    // B: an administrator's ban, enforced at once
    assert.equal(cli(b, ['bans', 'add', '127.0.0.7', '--for', '1h']).status, 0);
    assert.equal(await udpOptions(b, '127.0.0.7'), false);
    // A: a guesser banned by A's own rules
    svcrack(a, '127.0.0.8');
    assert.match(cli(a, ['bans', 'list']).out, /127\.0\.0\.8 /, 'A banned the guesser alone');
    // neither knows the other's ban yet
    assert.equal(await udpOptions(a, '127.0.0.7'), true, 'A has not heard of the ban B made');

    await nats.start();
    await a.waitForEvent((e) => e.event === 'cluster-ban-adopted' && e.address === '127.0.0.7', 20_000);
    await b.waitForEvent((e) => e.event === 'cluster-ban-adopted' && e.address === '127.0.0.8', 20_000);
    const gatedBefore = gated(a);
    assert.equal(await udpOptions(a, '127.0.0.7'), false, "A enforces B's ban made during the outage");
    assert.ok(gated(a) > gatedBefore);
    assert.equal(await udpOptions(b, '127.0.0.8'), false, "B enforces A's ban made during the outage");
  });
});
