// Registrations and calls across the nodes of a Palisade cluster, on the
// machine's PostgreSQL (one table prefix per run) and NATS (one namespace per
// run), with real phones (docs/operations.md, "Scaling out"):
// - two nodes on 127.0.0.21 and .22: a phone (SIPp) registered through node A
//   is called through node B, and the CDR lands in the shared database; two
//   baresip phones, one registered through each node, call each other and
//   hear each other's tone;
// - three nodes behind Kamailio's dispatcher (examples/cluster/kamailio.cfg)
//   on 127.0.0.20: twenty phones register through Kamailio and land on
//   several nodes, every node then knows every phone, and calls between them
//   through Kamailio all connect, handled by more than one node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, startSipp, type SippResult } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startKamailio, type KamailioProcess } from '../helpers/kamailio.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { Baresip, findFreePort } from '../helpers/baresip.js';
import { analyseWav, makeToneWav } from '../helpers/audio.js';
import { palisadeStatus } from '../helpers/sip-probe.js';
import { repoRoot } from '../helpers/paths.js';
import { PG_URL, clusterTag, dropTables, eventually, pgQuery, clusterNodeYaml } from '../helpers/cluster-env.js';

function assertAllPassed(r: SippResult, what: string, calls: number): void {
  const why = `${what}: exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.stdout.slice(-1500)}`;
  assert.ok(r.stats, `${what}: no statistics\n${r.stderr}`);
  assert.equal(r.stats.failed, 0, why);
  assert.equal(r.stats.successful, calls, why);
  assert.equal(r.code, 0, why);
}

function cli(pal: PalisadeProcess, args: string[]): string {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 15_000 });
  return r.stdout + r.stderr;
}

function cluster(pal: PalisadeProcess): { nodes: string[]; received: { bindingsOut: number; bindingsIn: number } } {
  return palisadeStatus(pal.configPath).cluster as { nodes: string[]; received: { bindingsOut: number; bindingsIn: number } };
}

/** one cluster: a table prefix and a NATS namespace of its own */
function clusterRun(name: string) {
  const tag = clusterTag(name);
  const prefix = `${tag}_`;
  const storage = ['driver: postgres', `url: ${PG_URL}`, `table_prefix: ${prefix}`];
  const yaml = (node: string, extra: string[] = []) => [...clusterNodeYaml(node, tag), ...extra].join('\n');
  return { tag, prefix, storage, yaml };
}

async function startNodes(
  run: ReturnType<typeof clusterRun>,
  names: string[],
  o: { users: TestUser[]; sipPort: number; domain?: string; extra?: string[] },
): Promise<PalisadeProcess[]> {
  const out: PalisadeProcess[] = [];
  for (const [i, name] of names.entries()) {
    // the extensions go into the shared database once, through the first node
    const p = await startPalisade({
      users: i === 0 ? o.users : undefined,
      address: `127.0.0.${21 + i}`,
      sipPort: o.sipPort,
      domain: o.domain,
      transports: ['udp'],
      storage: run.storage,
      extraYaml: run.yaml(name, o.extra),
    });
    out.push(p);
  }
  for (const p of out) await p.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
  await eventually('every node sees every other', () => out.every((p) => cluster(p).nodes.length === names.length));
  return out;
}

describe('two nodes share registrations and CDRs', () => {
  const run = clusterRun('cc');
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-calls-'));
  const callers = makeUsers(2, { first: 1000 });
  const callee = makeUsers(1, { first: 1500 });
  const phones = makeUsers(2, { first: 1600 });
  let a: PalisadeProcess;
  let b: PalisadeProcess;

  before(async () => {
    const [port] = await freeLocalPorts(1);
    [a, b] = (await startNodes(run, ['a', 'b'], { users: [...callers, ...callee, ...phones], sipPort: port!, domain: 'pbx.cluster.test' })) as [PalisadeProcess, PalisadeProcess];
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await dropTables(run.prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a phone registered through node A is called through node B; the CDR is in the shared database', { timeout: 60_000 }, async () => {
    const [uasPort] = await freeLocalPorts(1);
    const reg = join(dir, 'callee.csv');
    writeFileSync(reg, sippCsv(callee));
    const r = await runSipp({
      scenario: 'register-auth',
      target: a.target,
      inf: [reg],
      set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
      calls: 1,
      rate: 10,
      timeoutS: 20,
      dir,
    });
    assertAllPassed(r, 'register-auth through A', 1);
    await eventually('B knows the registration made through A', () => cli(b, ['show', 'registrations']).includes(`127.0.0.1:${uasPort}`));

    const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, rtpEcho: true, timeoutS: 40, dir });
    const calls = join(dir, 'calls.csv');
    writeFileSync(calls, sippCsv(callers.slice(0, 1), { peers: [callee[0]!.number] }));
    try {
      const c = await runSipp({ scenario: 'call-auth-uac', target: b.target, inf: [calls], calls: 1, rate: 10, pauseMs: 1000, timeoutS: 30, dir });
      assertAllPassed(c, 'call through B to the phone registered through A', 1);
    } finally {
      await uas.stop();
    }
    await eventually('the CDR is in PostgreSQL', async () => {
      const rows = await pgQuery<{ disposition: string; billsec: string }>(`select disposition, billsec from "${run.prefix}cdr" where dst = $1`, [callee[0]!.number]);
      return rows.length === 1 && rows[0]!.disposition === 'ANSWERED' && Number(rows[0]!.billsec) >= 1;
    });
  });

  test('two baresip phones, one registered through each node, call each other and hear each other', { timeout: 90_000 }, async () => {
    makeToneWav(join(dir, 'p1.wav'), 600, 60);
    makeToneWav(join(dir, 'p2.wav'), 1000, 60);
    const mk = async (u: TestUser, node: PalisadeProcess, wav: string, answer: boolean) => {
      const [rtp] = await freeLocalPorts(1, 20);
      return new Baresip({
        name: `phone-${u.number}`,
        baseDir: dir,
        user: u.number,
        domain: node.target,
        password: u.secret,
        regint: 600,
        sipPort: await findFreePort(2),
        ctrlPort: await findFreePort(1, 39000, 39999),
        audioSource: join(dir, wav),
        rtpPorts: [rtp!, rtp! + 19],
        answerMode: answer ? 'auto' : 'manual',
      });
    };
    const onA = await mk(phones[0]!, a, 'p1.wav', true);
    const onB = await mk(phones[1]!, b, 'p2.wav', false);
    try {
      await onA.start();
      await onB.start();
      await onA.waitRegistered(5000);
      await onB.waitRegistered(5000);
      await eventually('B knows the phone registered through A', () => cli(b, ['show', 'registrations']).includes(phones[0]!.number));
      // the phone on B calls the phone on A: B looks it up and rings it
      await onB.dial(`sip:${phones[0]!.number}@${b.target}`);
      await onA.waitEvent('CALL_ESTABLISHED', 10_000);
      await onB.waitEvent('CALL_ESTABLISHED', 10_000);
      await new Promise((r) => setTimeout(r, 3000));
      await onB.hangup();
      await onA.waitEvent('CALL_CLOSED', 5000);
      const heardOnA = analyseWav(onA.recordings().dec[0]!);
      const heardOnB = analyseWav(onB.recordings().dec[0]!);
      assert.ok(Math.abs(heardOnA.dominantHz - 1000) <= 10 && heardOnA.activeSec >= 2, `A heard ${JSON.stringify(heardOnA)}`);
      assert.ok(Math.abs(heardOnB.dominantHz - 600) <= 10 && heardOnB.activeSec >= 2, `B heard ${JSON.stringify(heardOnB)}`);
    } finally {
      await onA.stop();
      await onB.stop();
    }
  });
});

describe('three nodes behind Kamailio dispatcher', () => {
  const run = clusterRun('ck');
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-kam-'));
  const callers = makeUsers(10, { first: 1000 });
  const callees = makeUsers(10, { first: 1500 });
  let nodes: PalisadeProcess[] = [];
  let kam: KamailioProcess;

  before(async () => {
    const [port] = await freeLocalPorts(1);
    // the front end's address is the domain phones use; every phone reaches the nodes from it
    nodes = await startNodes(run, ['a', 'b', 'c'], {
      users: [...callers, ...callees],
      sipPort: port!,
      domain: '127.0.0.20',
      extra: ['security:', '  ids:', '    trusted: [127.0.0.20]', '  reputation:', '    exempt: [127.0.0.20/32]'],
    });
    const list = join(dir, 'nodes.list');
    writeFileSync(list, nodes.map((n) => `1 sip:${n.target}\n`).join(''));
    kam = await startKamailio({ cfg: join(repoRoot(), 'examples', 'cluster', 'kamailio.cfg'), address: '127.0.0.20', port, defines: [`DS_LIST="${list}"`] });
  });
  after(async () => {
    await kam?.stop();
    for (const n of nodes) await n.stop();
    await dropTables(run.prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test('phones register and call through Kamailio; several nodes serve them and every node knows every phone', { timeout: 120_000 }, async () => {
    const [uasPort] = await freeLocalPorts(1);
    const reg = join(dir, 'callees.csv');
    writeFileSync(reg, sippCsv(callees));
    const r = await runSipp({
      scenario: 'register-auth',
      target: kam.target,
      inf: [reg],
      set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
      calls: callees.length,
      rate: 20,
      timeoutS: 30,
      dir,
    });
    assertAllPassed(r, 'register-auth through Kamailio', callees.length);
    const made = nodes.map((n) => cluster(n).received.bindingsOut);
    assert.equal(
      made.reduce((x, y) => x + y, 0),
      callees.length,
      `each registration was made by one node: ${made}`,
    );
    assert.ok(made.filter((m) => m > 0).length >= 2, `the dispatcher spread the registrations over the nodes: ${made}`);
    for (const n of nodes) {
      await eventually(`${n.target} knows every phone`, () => {
        const list = cli(n, ['show', 'registrations']);
        return callees.every((u) => list.includes(u.number));
      });
    }

    const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, rtpEcho: true, timeoutS: 60, dir });
    const calls = join(dir, 'calls.csv');
    writeFileSync(calls, sippCsv(callers, { peers: callees.map((u) => u.number) }));
    try {
      const c = await runSipp({ scenario: 'call-auth-uac', target: kam.target, inf: [calls], calls: callers.length, rate: 5, pauseMs: 1000, timeoutS: 45, dir });
      assertAllPassed(c, 'calls through Kamailio', callers.length);
    } finally {
      await uas.stop();
    }
    const answered = nodes.map((n) => (palisadeStatus(n.configPath).calls as { answered?: number }).answered ?? 0);
    let cdrs: Array<{ src: string; dst: string; disposition: string }> = [];
    await eventually('every call has its CDR', async () => {
      cdrs = await pgQuery(`select src, dst, disposition from "${run.prefix}cdr" order by id`);
      return cdrs.filter((r) => r.disposition === 'ANSWERED').length === callers.length;
    }).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(cdrs)}`));
    const ended = nodes.map((n) => n.events().filter((e) => e.event === 'call-ended').length);
    assert.equal(
      ended.reduce((x, y) => x + y, 0),
      callers.length,
      `each call was handled by one node: ${ended} (${answered})`,
    );
    assert.ok(ended.filter((m) => m > 0).length >= 2, `calls were spread over the nodes: ${ended}`);
  });
});
