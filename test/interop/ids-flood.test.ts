// A SIPp REGISTER flood from 127.0.0.2 at thousands of requests per second
// while legitimate SIPp calls from 127.0.0.3 run (issue 4 proof): the
// legitimate calls complete (>= 99.9%), the flooder is banned by the flood
// rule and dropped at the packet gate, and memory stays bounded (RSS from
// `palisade status`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { palisadeStatus } from '../helpers/sip-probe.js';

const callers = makeUsers(10, { first: 1000 });
const callees = makeUsers(2, { first: 1500 });
let pal: PalisadeProcess;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ids-flood-'));
  pal = await startPalisade({
    users: [...callers, ...callees],
    transports: ['udp'],
    extraYaml:
      'registrar:\n  qualify_interval: 0\n# many concurrent calls per caller: the call limits are not under test here\nfraud:\n  defaults: { max_calls: 0, calls_per_minute: 0, max_outbound_calls: 10000 }\n# 300 one-second calls from ten users are a spam pattern to reputation; not under test here\nsecurity:\n  reputation: { short_call_burst: 10000 }',
  });
});
after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a flood from 127.0.0.2 is banned while calls from 127.0.0.3 complete, memory bounded', { timeout: 120_000 }, async (t) => {
  const [uasPort] = await freeLocalPorts(1);
  const reg = join(dir, 'callees.csv');
  writeFileSync(reg, sippCsv(callees));
  const r0 = await runSipp({
    scenario: 'register-auth',
    target: pal.target,
    inf: [reg],
    set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
    calls: callees.length,
    rate: 20,
    timeoutS: 20,
    dir,
  });
  assert.equal(r0.stats?.successful, callees.length, r0.stdout.slice(-2000));
  const rssBefore = (palisadeStatus(pal.configPath) as { rss_mb: number }).rss_mb;

  const callee = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, timeoutS: 90, dir });
  const csv = join(dir, 'calls.csv');
  writeFileSync(csv, sippCsv(callers, { peers: callees.map((u) => u.number) }));
  const CALLS = 300;
  try {
    const legit = runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [csv], calls: CALLS, rate: 30, pauseMs: 300, timeoutS: 60, dir, extraArgs: ['-i', '127.0.0.3'] });
    await new Promise((r) => setTimeout(r, 1500));
    const flood = await runSipp({ scenario: 'flood-register', target: pal.target, calls: 20_000, rate: 4000, timeoutS: 30, dir, extraArgs: ['-i', '127.0.0.2'] });
    const calls = await legit;
    const ok = calls.stats?.successful ?? 0;
    t.diagnostic(`legitimate calls ${ok}/${CALLS}; flood ${JSON.stringify(flood.stats)}`);
    assert.ok(ok >= Math.ceil(CALLS * 0.999), `legitimate calls completed: ${ok}/${CALLS}\n${calls.stdout.slice(-1500)}\n${calls.errors.slice(0, 1500)}`);
    assert.ok((flood.stats?.successful ?? 0) + (flood.stats?.failed ?? 0) >= 10_000, `the flood ran: ${JSON.stringify(flood.stats)}`);
  } finally {
    await callee.stop();
  }
  const st = palisadeStatus(pal.configPath) as { rss_mb: number; packets: { received: number; gated: number }; security: { bans_active: number; ids: { floodsDetected: number } } };
  assert.equal(st.security.ids.floodsDetected, 1, 'one flood detected');
  assert.equal(st.security.bans_active, 1, 'the flooder, only, is banned');
  assert.ok(st.packets.gated >= 9000, `flood packets dropped at the gate before parsing: ${st.packets.gated}`);
  t.diagnostic(`RSS ${rssBefore} -> ${st.rss_mb} MB; packets received ${st.packets.received}, gated ${st.packets.gated}`);
  const bans = pal.events().filter((e) => e.event === 'banned');
  assert.deepEqual(
    bans.map((e) => e.address),
    ['127.0.0.2'],
  );
  assert.ok(st.rss_mb < rssBefore + 80 && st.rss_mb < 400, `RSS ${rssBefore} MB before, ${st.rss_mb} MB after`);
});
