// A cluster node with several workers (sip.workers: 2 on node A, one on
// node B; docs/operations.md "Scaling out" and "One machine, every core"),
// on the machine's PostgreSQL and NATS. The cluster module runs in A's
// worker 0, which hands the cluster what A's worker 1 does and worker 1
// what the cluster brings. SIPp sources are chosen by the A worker that owns
// their out-of-dialog traffic (src/transport/worker-route.ts).
// - a phone registered through A's worker 1 is called through B;
// - a phone registered through B is called through A's worker 1;
// - a ban made on B (a manual ban) is held by both of A's workers and A
//   refuses the address (A's gates count the packets: they reached A);
// - a ban A's worker 1 makes (wrong-password REGISTERs) refuses the address
//   on B (B's gate counts them), while a neighbour is still answered;
// - an extension created through B's API registers through A's worker 1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, type SippProcess } from '../helpers/sipp.js';
import type { PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { repoRoot } from '../helpers/paths.js';
import { apiCall } from '../helpers/http-api.js';
import { callResult } from '../helpers/call-result.js';
import { udpOptions } from '../helpers/sip-probe.js';
import { ask, sippPhone } from '../helpers/office-phones.js';
import { workerAddresses } from '../helpers/worker-addresses.js';
import { clusterTag, dropTables, eventually, startTwoNodes, clusterNodeYaml } from '../helpers/cluster-env.js';

const tag = clusterTag('cw');
const prefix = `${tag}_`;

describe('a cluster node with two workers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-workers-'));
  const users = makeUsers(6, { first: 2300 });
  const nodes: PalisadeProcess[] = [];
  const phones: SippProcess[] = [];
  let a: PalisadeProcess;
  let b: PalisadeProcess;
  let base = '';
  /** addresses whose traffic A's worker 1 owns (apart from the nodes' own .81 and .82) */
  const w1 = workerAddresses(1, 8, 2, 130);

  const cli = (p: PalisadeProcess, args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', p.configPath], { cwd: p.dir, encoding: 'utf8', timeout: 60_000 });

  /** a node's `workers` rows: per worker, the bans it holds and the packets its gate dropped */
  const workerRows = async (p: PalisadeProcess) => (await ask(p, 'workers')) as Array<{ worker: number; gated: number; bans: number }>;
  const gated = async (p: PalisadeProcess) => (await workerRows(p)).reduce((n, r) => n + r.gated, 0);

  const call = (p: PalisadeProcess, caller: TestUser, to: string, from: string): Promise<string> => callResult(p, caller, to, `call-${caller.number}-${to}`, dir, { from });

  before(async () => {
    const [port, httpPort] = await freeLocalPorts(2);
    base = `http://127.0.0.1:${httpPort}`;
    const yaml = (node: string) =>
      [
        ...clusterNodeYaml(node, tag),
        'security:',
        '  ids:',
        '    auth_failures: { threshold: 3, window: 60 }',
        ...(node === 'b' ? ['http:', `  listen: ["127.0.0.1:${httpPort}"]`, 'admin:', '  acl: { permit: [127.0.0.1/32] }'] : []),
      ].join('\n');
    [a, b] = await startTwoNodes({ users, first: 81, sipPort: port!, domain: 'cw.example.org', prefix, yaml, into: nodes, workers: (n) => (n === 'a' ? 2 : 1) });
  });

  after(async () => {
    for (const p of phones) await p.stop().catch(() => undefined);
    for (const n of nodes) await n.stop();
    await dropTables(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test("registrations: a phone registered through A's worker 1 is called through B, and B's phone through A's worker 1", { timeout: 120_000 }, async () => {
    const [onA, onB, caller1, caller2] = users;
    phones.push(await sippPhone(a, dir, onA!, 'uas-answer', 90, { address: w1[0]! }));
    phones.push(await sippPhone(b, dir, onB!, 'uas-answer', 90, { address: '127.0.0.90' }));
    const seen = async (p: PalisadeProcess, aor: string) => ((await ask(p, 'registrations')) as Array<{ aor: string }>).some((r) => r.aor === aor);
    await eventually("B holds the binding A's worker 1 made", () => seen(b, onA!.number));
    assert.equal(await call(b, caller1!, onA!.number, '127.0.0.91'), '200', "B calls the phone A's worker 1 registered");
    assert.equal(await call(a, caller2!, onB!.number, w1[1]!), '200', "A's worker 1 calls the phone B registered");
  });

  test("bans: B's manual ban is held by both of A's workers and A refuses the address; a ban A's worker 1 makes refuses it on B", { timeout: 120_000 }, async () => {
    // B bans an address A's worker 1 owns: A's worker 1 drops it at the gate
    const banned = w1[2]!;
    assert.equal(await udpOptions(a, banned), true, 'A answers the address before the ban');
    assert.equal(cli(b, ['bans', 'add', banned, '--for', '1h']).status, 0);
    await eventually("both of A's workers hold B's ban", async () => (await workerRows(a)).every((r) => r.bans >= 1));
    const before1 = await gated(a);
    assert.equal(await udpOptions(a, banned), false, 'A does not answer the address B banned');
    assert.ok((await gated(a)) > before1, 'the OPTIONS reached A, whose gate dropped it');

    // wrong passwords from an address A's worker 1 owns: A bans it, and B refuses it too
    const guesser = w1[3]!;
    assert.equal(await udpOptions(b, guesser), true, 'B answers the address before the ban');
    const csv = join(dir, 'wrong.csv');
    writeFileSync(csv, sippCsv([users[4]!], { wrongPassword: true }));
    await runSipp({ scenario: 'register-wrong-password', target: a.target, inf: [csv], calls: 5, rate: 5, timeoutS: 20, dir, extraArgs: ['-i', guesser] });
    await eventually("the ban A's worker 1 made reached B", async () => ((await ask(b, 'bans')) as Array<{ address: string }>).some((x) => x.address === guesser));
    const gatedB = await gated(b);
    assert.equal(await udpOptions(b, guesser), false, 'B does not answer the address A banned');
    assert.ok((await gated(b)) > gatedB, 'the OPTIONS reached B, which dropped it at the gate');
    assert.equal(await udpOptions(b, w1[4]!), true, 'a neighbour is still answered by B');
  });

  test("stored changes: an extension created through B's API registers through A's worker 1", { timeout: 120_000 }, async () => {
    assert.equal(cli(b, ['admin', 'add', 'cw-root', '--role', 'admin']).status, 0);
    const tok = cli(b, ['admin', 'token', 'cw-root']);
    assert.equal(tok.status, 0, tok.stderr);
    const token = tok.stdout.trim().split('\n').at(-1)!;
    const r = await apiCall(base, { method: 'POST', path: '/api/v1/extensions', body: { number: '2390', name: 'Made on B', context: 'default' }, token });
    assert.equal(r.status, 201, r.text);
    const made = { number: '2390', secret: r.json.secret as string, name: 'B' };
    // A's worker 0 reads it on the cluster's notice and passes the notice to worker 1
    await eventually("A's worker 0 reloaded the extensions on the cluster's notice", () => a.events().some((e) => e.event === 'cluster-reloaded' && e.kind === 'extensions'));
    const csv = join(dir, 'made.csv');
    writeFileSync(csv, sippCsv([made]));
    let ok = false;
    // worker 1 hears of it from worker 0 within milliseconds of worker 0's reload: a few tries at most
    for (let i = 0; i < 4 && !ok; i++) {
      const reg = await runSipp({ scenario: 'register-auth', target: a.target, inf: [csv], calls: 1, rate: 1, timeoutS: 10, dir, extraArgs: ['-i', w1[5]!] });
      ok = reg.stats?.successful === 1;
      if (!ok) await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(ok, "the new extension registers through A's worker 1");
  });
});
