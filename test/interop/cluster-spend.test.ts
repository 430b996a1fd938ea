// A daily spend limit holds across the nodes of a cluster (docs/operations.md,
// "Scaling out"), on the machine's PostgreSQL and NATS: two nodes on
// 127.0.0.41 and .42, the extension 2100 (a SIPp callee registered through
// node A) priced at 6 per minute (0.1 a second), every extension limited to
// 0.3 a day (3 seconds of talk).
// - one after the other: a call through A runs until A cuts it at the limit;
//   the next priced call through B is refused (403, the verdict in B's CDR),
//   and B counts the whole day's spend;
// - at once: a caller's two calls, one through each node, share the limit —
//   each is cut after about half of it, and the two together spend the limit
//   once, not twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import type { PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { repoRoot } from '../helpers/paths.js';
import { callResult, clusterTag, dropTables, eventually, lastVerdict, startTwoNodes, clusterNodeYaml } from '../helpers/cluster-env.js';

const tag = clusterTag('cs');
const prefix = `${tag}_`;

function spentToday(pal: PalisadeProcess, ext: string): number {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'reputation', 'show', ext, '--config', pal.configPath], { encoding: 'utf8', timeout: 15_000 });
  const m = /^spent_today: ([0-9.]+)$/m.exec(r.stdout);
  assert.ok(m, `no spent_today for ${ext}:\n${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

describe('a spend limit across two nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-spend-'));
  const callers = makeUsers(2, { first: 2000 });
  const callee = makeUsers(1, { first: 2100 });
  const nodes: PalisadeProcess[] = [];
  let a: PalisadeProcess;
  let b: PalisadeProcess;
  let uas: Awaited<ReturnType<typeof startSipp>>;

  before(async () => {
    const [port, uasPort] = await freeLocalPorts(2);
    const yaml = (node: string) =>
      [
        ...clusterNodeYaml(node, tag),
        'rates:',
        // only internal calls can be answered without a trunk: the callee's number is priced
        '  "2100": 6',
        'fraud:',
        // two calls of one caller at once (one per node): max_outbound_calls holds across the nodes too
        '  defaults: { daily_spend_limit: 0.3, max_outbound_calls: 2 }',
      ].join('\n');
    [a, b] = await startTwoNodes({ users: [...callers, ...callee], first: 41, sipPort: port!, domain: 'pbx.spend.test', prefix, yaml, into: nodes });
    uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort!, timeoutS: 170, dir });
    const reg = join(dir, 'callee.csv');
    writeFileSync(reg, sippCsv(callee));
    const r = await runSipp({ scenario: 'register-auth', target: a.target, inf: [reg], set: { contact: `127.0.0.1:${uasPort}`, expires: '600' }, calls: 1, timeoutS: 15, dir });
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
    await eventually('B knows the callee registered through A', () => {
      const out = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'show', 'registrations', '--config', b.configPath], { encoding: 'utf8' }).stdout;
      return out.includes(`127.0.0.1:${uasPort}`);
    });
  });
  after(async () => {
    await uas?.stop();
    for (const p of nodes) await p.stop();
    await dropTables(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  /** a call from `caller` through `pal` that only the spend cut ends (call-callee-bye-uac waits for the BYE); resolves with its length in ms */
  async function callUntilCut(pal: PalisadeProcess, caller: TestUser, name: string): Promise<number> {
    const csv = join(dir, `${name}.csv`);
    writeFileSync(csv, sippCsv([caller], { peers: ['2100'] }));
    const t0 = Date.now();
    const r = await runSipp({ scenario: 'call-callee-bye-uac', target: pal.target, inf: [csv], calls: 1, timeoutS: 20, dir, extraArgs: ['-i', '127.0.0.1'] });
    assert.equal(r.code, 0, `${name}: ${r.errors}${r.stdout.slice(-800)}`);
    return Date.now() - t0;
  }

  test('a call through A spends the limit; B then refuses the next priced call', { timeout: 60_000 }, async () => {
    const caller = callers[0]!;
    const ms = await callUntilCut(a, caller, 'seq-a');
    await a.waitForEvent((e) => e.event === 'call-cut' && e.cause === 'spend-limit', 5000);
    assert.ok(ms >= 2500, `A cut the call after ${ms} ms: 0.3 at 0.1 a second is 3 s`);
    // B learns what A's call cost as soon as it ends
    await eventually("B counts A's spend", () => spentToday(b, caller.number) >= 0.29, 5000);
    assert.equal(await callResult(b, caller, '2100', 'seq-b', dir), '403');
    await eventually("B's CDR holds its refusal", async () => (await lastVerdict(prefix, caller.number, 'b')) === 'refused:daily_spend_limit:0.3', 5000);
    // the limit is the caller's, not the node's: another extension still calls through B
    assert.equal(await callResult(b, callers[1]!, '2100', 'seq-other', dir), '200');
  });

  test("a caller's two calls at once, one through each node, share the limit", { timeout: 60_000 }, async () => {
    const caller = callers[1]!;
    // 2001 spent 0.1 a second for about 0.3 s above (its 200 with a pause): what is left is shared
    const before = spentToday(a, caller.number);
    assert.ok(before < 0.15, `2001 has spent ${before}`);
    await Promise.all([callUntilCut(a, caller, 'both-a'), callUntilCut(b, caller, 'both-b')]);
    /** how long the node let its call talk: from its answer to its cut, as the node logged them */
    const talked = (p: PalisadeProcess): number => {
      const ev = p.events().filter((e) => e.from === caller.number);
      const answered = ev.filter((e) => e.event === 'call-answered').at(-1);
      const cut = ev.filter((e) => e.event === 'call-cut').at(-1);
      assert.ok(answered && cut && cut.call === answered.call && cut.cause === 'spend-limit', `${p.address} cut its call at the limit: ${JSON.stringify(ev.slice(-4))}`);
      return Date.parse(String(cut.time)) - Date.parse(String(answered.time));
    };
    const [msA, msB] = [talked(a), talked(b)];
    const left = 0.3 - before;
    // alone, each call would talk left / 0.1 seconds; sharing the rest of the day, half of that
    const alone = (left / 0.1) * 1000;
    for (const [n, ms] of [
      ['A', msA],
      ['B', msB],
    ] as const)
      assert.ok(
        ms > alone * 0.4 && ms < alone * 0.7,
        `the call through ${n} talked ${ms} ms; alone it would talk ${Math.round(alone)} ms, sharing about ${Math.round(alone / 2)} ms`,
      );
    await eventually('both nodes count the day once', () => [a, b].every((p) => Math.abs(spentToday(p, caller.number) - 0.3) < 0.04), 5000);
    const spent = [spentToday(a, caller.number), spentToday(b, caller.number)];
    process.stdout.write(`# two calls at once: ${msA} ms through A, ${msB} ms through B (alone ${Math.round(alone)} ms); spent ${spent.join(' / ')} of 0.3\n`);
  });
});
