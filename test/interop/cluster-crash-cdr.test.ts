// Calls on a node killed with kill -9 get their CDRs when the node starts
// again under the same name (docs/operations.md, "Scaling out"), on the
// machine's PostgreSQL and NATS: node a on 127.0.0.45, a SIPp callee
// registered through it.
// - a call that ends normally leaves its one CDR and no note of a call up;
// - two answered calls are up when node a is killed with SIGKILL: their
//   notes are in `cluster_calls` and they have no CDR; node a started again
//   (same directory, same node name) writes one CDR for each — ANSWERED,
//   userfield "node-crashed", ended within a few seconds of the kill — and
//   removes the notes; the normal call's CDR is not written twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { startPalisade, type PalisadeOptions, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { PG_URL, clusterTag, dropTables, eventually, pgQuery, clusterNodeYaml } from '../helpers/cluster-env.js';

const tag = clusterTag('cx');
const prefix = `${tag}_`;

interface CdrRow {
  src: string;
  dst: string;
  start: string;
  answer: string | null;
  end: string;
  billsec: number;
  disposition: string;
  userfield: string;
  uniqueid: string;
}

describe('calls up on a node killed with kill -9 get their CDRs when it starts again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-crash-'));
  const nodeDir = join(dir, 'node-a');
  const callers = makeUsers(3, { first: 2200 });
  const callee = makeUsers(1, { first: 2300 });
  let opts: PalisadeOptions;
  let a: PalisadeProcess | undefined;
  let uas: SippProcess;
  let long: SippProcess | undefined;
  const cdrs = () => pgQuery<CdrRow>(`select * from "${prefix}cdr" where dst = '2300' order by id`);
  const notes = () => pgQuery<{ call_id: string; answer: string | null }>(`select call_id, answer from "${prefix}cluster_calls" where node = 'a'`);

  before(async () => {
    const [port, uasPort] = await freeLocalPorts(2);
    opts = {
      address: '127.0.0.45',
      sipPort: port!,
      domain: 'pbx.crash.test',
      transports: ['udp'],
      storage: ['driver: postgres', `url: ${PG_URL}`, `table_prefix: ${prefix}`],
      extraYaml: clusterNodeYaml('a', tag).join('\n'),
      dir: nodeDir,
    };
    mkdirSync(nodeDir);
    a = await startPalisade({ ...opts, users: [...callers, ...callee] });
    await a.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
    uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort!, timeoutS: 170, dir });
    const reg = join(dir, 'callee.csv');
    writeFileSync(reg, sippCsv(callee));
    const r = await runSipp({ scenario: 'register-auth', target: a.target, inf: [reg], set: { contact: `127.0.0.1:${uasPort}`, expires: '600' }, calls: 1, timeoutS: 15, dir });
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
  });
  after(async () => {
    await long?.stop();
    await uas?.stop();
    await a?.stop();
    await dropTables(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a call that ends normally: one CDR, no note left', { timeout: 30_000 }, async () => {
    const csv = join(dir, 'normal.csv');
    writeFileSync(csv, sippCsv([callers[0]!], { peers: ['2300'] }));
    const r = await runSipp({ scenario: 'call-expect-uac', target: a!.target, inf: [csv], calls: 1, pauseMs: 500, timeoutS: 20, dir, extraArgs: ['-i', '127.0.0.1'] });
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
    await eventually('the CDR is written', async () => (await cdrs()).length === 1);
    await new Promise((r) => setTimeout(r, 300)); // a batch of notes at least
    assert.deepEqual(await notes(), []);
    assert.equal((await cdrs())[0]!.userfield.includes('node-crashed'), false);
  });

  test('kill -9 with two calls up; the restart closes their CDRs', { timeout: 90_000 }, async () => {
    const csv = join(dir, 'long.csv');
    // two callers (one outbound call each at a time), two calls that would talk for a minute
    writeFileSync(csv, sippCsv([callers[1]!, callers[2]!], { peers: ['2300'] }));
    long = await startSipp({ scenario: 'call-expect-uac', target: a!.target, inf: [csv], calls: 2, rate: 10, pauseMs: 60_000, timeoutS: 80, dir });
    await eventually('node a answered both calls', () => a!.events().filter((e) => e.event === 'call-answered' && e.from !== callers[0]!.number).length === 2);
    await eventually('both calls are noted as answered in the shared database', async () => {
      const n = await notes();
      return n.length === 2 && n.every((x) => x.answer !== null);
    });
    assert.equal((await cdrs()).length, 1, 'no CDR yet for the calls up');
    await new Promise((r) => setTimeout(r, 2500)); // talk a little

    const pid = a!.pid;
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await eventually('node a is gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    await a!.stop().catch(() => {});
    a = undefined;
    assert.equal((await notes()).length, 2, 'the notes outlive the node');
    assert.equal((await cdrs()).length, 1);

    a = await startPalisade(opts);
    const closed = await a.waitForEvent((e) => e.event === 'cluster-calls-closed', 15_000);
    assert.equal(closed.calls, 2, JSON.stringify(closed));
    const rows = await cdrs();
    assert.equal(rows.length, 3, JSON.stringify(rows));
    const crashed = rows.filter((r) => r.userfield === 'node-crashed');
    assert.equal(crashed.length, 2, JSON.stringify(rows));
    for (const r of crashed) {
      assert.ok([callers[1]!.number, callers[2]!.number].includes(r.src), r.src);
      assert.equal(r.disposition, 'ANSWERED');
      assert.ok(r.answer !== null);
      assert.ok(r.billsec >= 1, `billsec ${r.billsec}`);
      assert.match(r.uniqueid, /^a-/);
      const end = Number(r.end);
      // ended at the last moment the dead run was known alive (noted every second)
      assert.ok(end >= Number(r.answer) && end <= killedAt + 200 && end >= killedAt - 1500, `end ${end - killedAt} ms from the kill`);
      process.stdout.write(`# closed after the crash: ${r.uniqueid} billsec ${r.billsec}, ended ${end - killedAt} ms from the kill\n`);
    }
    assert.deepEqual(await notes(), [], 'no note left');

    // a second restart finds nothing more to close
    await a.stop();
    a = await startPalisade(opts);
    await a.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(a.events().filter((e) => e.event === 'cluster-calls-closed').length, 0);
    assert.equal((await cdrs()).length, 3);
  });
});
