// Path (RFC 3327) through Kamailio's dispatcher (examples/cluster/kamailio.cfg)
// in front of two Palisade nodes, on the machine's PostgreSQL and NATS:
// Kamailio on 127.0.0.50 (UDP and TCP), nodes on 127.0.0.51 and .52.
// A phone (SIPp) registers over TCP through Kamailio with Supported: path and
// a Contact port nothing listens on, so the only way back to it is its own
// TCP connection to Kamailio. The node that took the REGISTER answers with
// the Path and stores it (both nodes hold it); a call placed directly on
// each node reaches the phone through Kamailio and is answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, scenarioPath, startSipp, type SippProcess } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { startKamailio, type KamailioProcess } from '../helpers/kamailio.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { repoRoot } from '../helpers/paths.js';
import { PG_URL, clusterTag, dropTables, eventually, pgQuery, clusterNodeYaml } from '../helpers/cluster-env.js';

const tag = clusterTag('cp');
const prefix = `${tag}_`;

describe('Path: a phone on TCP behind Kamailio is called through the connection it registered on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-path-'));
  const callers = makeUsers(2, { first: 2500 });
  const phone = makeUsers(1, { first: 2600 })[0]!;
  const nodes: PalisadeProcess[] = [];
  let kam: KamailioProcess;
  let handset: SippProcess | undefined;

  before(async () => {
    const [port] = await freeLocalPorts(1);
    for (const [i, name] of ['a', 'b'].entries()) {
      nodes.push(
        await startPalisade({
          users: i === 0 ? [...callers, phone] : undefined,
          address: `127.0.0.${51 + i}`,
          sipPort: port!,
          domain: '127.0.0.50',
          transports: ['udp'],
          storage: ['driver: postgres', `url: ${PG_URL}`, `table_prefix: ${prefix}`],
          extraYaml: [...clusterNodeYaml(name, tag), 'security:', '  ids:', '    trusted: [127.0.0.50]', '  reputation:', '    exempt: [127.0.0.50/32]'].join('\n'),
        }),
      );
    }
    for (const p of nodes) await p.waitForEvent((e) => e.event === 'cluster-connected', 15_000);
    const list = join(dir, 'nodes.list');
    writeFileSync(list, nodes.map((n) => `1 sip:${n.target}\n`).join(''));
    kam = await startKamailio({ cfg: join(repoRoot(), 'examples', 'cluster', 'kamailio.cfg'), address: '127.0.0.50', port, tcp: true, defines: [`DS_LIST="${list}"`] });
  });
  after(async () => {
    await handset?.stop();
    await kam?.stop();
    for (const n of nodes) await n.stop();
    await dropTables(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the phone registers over TCP with Path; calls through either node reach it', { timeout: 90_000 }, async () => {
    const [closedPort] = await freeLocalPorts(1);
    const csv = join(dir, 'phone.csv');
    writeFileSync(csv, sippCsv([phone]));
    // the phone: registers, then keeps its TCP connection and answers the calls that come over it
    handset = await startSipp({
      scenario: 'register-path-hold',
      target: kam.target,
      transport: 't1',
      inf: [csv],
      calls: 1,
      pauseMs: 60_000,
      set: { contact: `127.0.0.1:${closedPort}` },
      traceLogs: true,
      traceMsg: true,
      timeoutS: 80,
      dir,
      extraArgs: ['-oocsf', scenarioPath('uas-answer')],
    });
    // the 200 carried the Path (the scenario checks it), and the binding holds it in the shared database
    let rows: Array<{ path: string | null; received: string }> = [];
    await eventually('the registration and its Path are stored', async () => {
      rows = await pgQuery(`select path, received from "${prefix}location" where aor = $1`, [phone.number]);
      return rows.length === 1 && rows[0]!.path !== null;
    }).catch(async (err: Error) => {
      const r = await handset!.stop();
      assert.fail(`${err.message}: ${JSON.stringify(rows)}\n${r.errors.slice(0, 2000)}\n${r.messages.slice(-3000)}\n${kam.log().slice(-2000)}`);
    });
    const path = JSON.parse(rows[0]!.path!) as string[];
    assert.equal(path.length, 1, rows[0]!.path!);
    assert.match(path[0]!, /^<sip:127\.0\.0\.50:\d+;lr;received=sip:127\.0\.0\.1:\d+/, 'Kamailio named itself and the connection the phone registered on');

    for (const [i, node] of nodes.entries()) {
      const calls = join(dir, `call-${i}.csv`);
      writeFileSync(calls, sippCsv([callers[i]!], { peers: [phone.number] }));
      await eventually(
        `${node.target} knows the phone`,
        async () => {
          const r = await runSipp({
            scenario: 'call-expect-uac',
            target: node.target,
            inf: [calls],
            calls: 1,
            pauseMs: 300,
            timeoutS: 15,
            traceLogs: true,
            dir,
            extraArgs: ['-i', '127.0.0.1'],
          });
          const m = /call-result: (\S+)/.exec(r.logs);
          if (m?.[1] === '200') return true;
          assert.ok(m?.[1] === '404' || m?.[1] === '480', `call through ${node.target}: ${m?.[1]}\n${r.errors.slice(0, 1500)}`);
          return false;
        },
        10_000,
      );
    }
    // both INVITEs came to the phone over its TCP connection (SIPp's message log)
    const msgs = readFileSync(join(dir, `sipp-${handset.port}.msg.log`), 'utf8');
    const invites = msgs.match(/TCP message received[^\n]*\n+INVITE sip:/g) ?? [];
    assert.equal(invites.length, 2, `the phone received both INVITEs over TCP:\n${msgs.slice(-3000)}`);
    const answered = nodes.map((n) => n.events().filter((e) => e.event === 'call-answered' && e.to === phone.number).length);
    assert.deepEqual(answered, [1, 1], 'each node connected one call to the phone');
    const log = (await handset.stop()).logs;
    assert.match(log, /registered-with-path: sip:127\.0\.0\.50:\d+;lr/, 'the 200 to the REGISTER carried the Path');
    handset = undefined;
  });
});
