// The call limits and the API's changes hold across the nodes of a cluster
// (docs/operations.md, "Scaling out"), on the machine's PostgreSQL and NATS:
// two nodes on 127.0.0.61 and .62, the extension 2100 (a SIPp callee
// registered through node A), every extension limited to one call at once
// (max_calls: 1) and three calls a minute; node A serves the HTTP API.
// - max_calls: 2000's call through A is up; its second call through B is
//   refused (403, B's CDR and security event), and once the first call is
//   hung up B lets one through;
// - calls_per_minute: 2001's three calls, through A, B and A, use the
//   minute up; the fourth, through B, is refused;
// - a route edited through A's API changes the trunk B sends the next call
//   to (route-attempt on B; the SIPp provider gets the INVITE);
// - an extension created through A's API calls through B at once;
// - a fraud prefix added through A's API is refused by B, and once removed
//   through A's API, B lets the next call to it through.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import type { PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { repoRoot } from '../helpers/paths.js';
import { apiCall } from '../helpers/http-api.js';
import { callResult, clusterTag, dropTables, eventually, lastVerdict, startTwoNodes, clusterNodeYaml } from '../helpers/cluster-env.js';
import { controlRequest } from '../../src/admin/control-socket.js';

const tag = clusterTag('cl');
const prefix = `${tag}_`;

describe('call limits and API changes across two nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-limits-'));
  const callers = makeUsers(4, { first: 2000 });
  const callee = makeUsers(1, { first: 2100 });
  const nodes: PalisadeProcess[] = [];
  let a: PalisadeProcess;
  let b: PalisadeProcess;
  let uas: SippProcess;
  /** the providers behind trunks p1 and p2 (503 with Retry-After: a trunk gets one call here) */
  const providers: SippProcess[] = [];
  let provPorts: number[] = [];
  let base: string;
  let token: string;

  const ask = (p: PalisadeProcess, cmd: string, args: Record<string, unknown> = {}) => controlRequest(join(p.dir, 'control.sock'), cmd, args);
  const counts = async (p: PalisadeProcess, ext: string) => (await ask(p, 'reputation', { subject: ext })) as Record<string, number>;
  const api = (method: string, path: string, body?: unknown) => apiCall(base, { method, path: `/api/v1${path}`, token, body });
  /** the first event of `p` from its `from`-th on that matches */
  const eventAfter = async (p: PalisadeProcess, from: number, what: string, pred: (e: Record<string, unknown>) => boolean) => {
    let hit: Record<string, unknown> | undefined;
    await eventually(
      `${what} (${p.address})`,
      () => {
        hit = p.events().slice(from).find(pred);
        return hit !== undefined;
      },
      15_000,
    );
    return hit!;
  };

  before(async () => {
    const [port, uasPort, httpPort, ...prov] = await freeLocalPorts(5);
    provPorts = prov;
    base = `http://127.0.0.1:${httpPort}`;
    const yaml = (node: string) =>
      [
        ...clusterNodeYaml(node, tag),
        // national numbers have an E.164 form (the fraud list holds E.164 prefixes)
        'numbering:',
        '  country_code: "49"',
        'fraud:',
        '  defaults: { max_calls: 1, max_outbound_calls: 5, calls_per_minute: 3, call_permissions: [internal, local, national] }',
        'trunks:',
        ...['p1', 'p2'].flatMap((t, i) => [`  - name: ${t}`, '    host: 127.0.0.1', `    port: ${provPorts[i]}`]),
        ...(node === 'a' ? ['admin:', '  acl: { permit: [127.0.0.1/32] }', 'http:', `  listen: ["127.0.0.1:${httpPort}"]`] : []),
      ].join('\n');
    [a, b] = await startTwoNodes({ users: [...callers, ...callee], first: 61, sipPort: port!, domain: 'pbx.limits.test', prefix, yaml, into: nodes });
    uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort!, timeoutS: 280, dir });
    for (const p of provPorts) providers.push(await startSipp({ scenario: 'provider-503-uas', target: '127.0.0.1', port: p, traceMsg: true, timeoutS: 280, dir }));
    const reg = join(dir, 'callee.csv');
    writeFileSync(reg, sippCsv(callee));
    const r = await runSipp({ scenario: 'register-auth', target: a.target, inf: [reg], set: { contact: `127.0.0.1:${uasPort}`, expires: '600' }, calls: 1, timeoutS: 15, dir });
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
    await eventually('B knows the callee registered through A', async () =>
      ((await ask(b, 'registrations')) as Array<{ contact: string }>).some((x) => x.contact.includes(`127.0.0.1:${uasPort}`)),
    );
    const cli = (args: string[]) => spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), ...args, '--config', a.configPath], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(cli(['admin', 'add', 'root', '--role', 'admin']).status, 0);
    const tok = cli(['admin', 'token', 'root']);
    assert.equal(tok.status, 0, tok.stderr);
    token = tok.stdout.trim().split('\n').at(-1)!;
  });
  after(async () => {
    await uas?.stop();
    for (const p of providers) await p.stop().catch(() => undefined);
    for (const p of nodes) await p.stop();
    await dropTables(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test('max_calls: 1 — a call up through A refuses the same caller through B until it ends', { timeout: 90_000 }, async () => {
    const caller = callers[0]!;
    const csv = join(dir, 'held.csv');
    writeFileSync(csv, sippCsv([caller], { peers: ['2100'] }));
    // the call stays up until Palisade sends the BYE (the hangup below)
    const held = runSipp({ scenario: 'call-callee-bye-uac', target: a.target, inf: [csv], calls: 1, timeoutS: 60, dir, extraArgs: ['-i', '127.0.0.1'] });
    await a.waitForEvent((e) => e.event === 'call-answered' && e.from === caller.number, 20_000);
    await eventually("B counts A's call", async () => (await counts(b, caller.number)).other_nodes_active_calls === 1);
    const n = b.events().length;
    assert.equal(await callResult(b, caller, '2100', 'second-b', dir), '403');
    // B itself refused it: its security event and its CDR
    await eventAfter(b, n, 'B logs the refusal', (e) => e.event === 'security-event' && e.account === caller.number && e.detail === 'max_calls:1');
    await eventually("B's CDR holds its refusal", async () => (await lastVerdict(prefix, caller.number, 'b')) === 'refused:max_calls:1');
    // the first call ends: A hangs it up (Palisade's BYE ends the SIPp caller's call)
    const calls = (await ask(a, 'calls')) as Array<{ id: string; from: string }>;
    const first = calls.find((c) => c.from === caller.number);
    assert.ok(first, JSON.stringify(calls));
    await ask(a, 'hangup', { call: first.id });
    const r = await held;
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
    await eventually('B no longer counts it', async () => (await counts(b, caller.number)).other_nodes_active_calls === 0);
    assert.equal(await callResult(b, caller, '2100', 'third-b', dir), '200');
    await eventually("B's CDR holds the call it let through", async () => (await lastVerdict(prefix, caller.number, 'b')) === 'pass:internal');
  });

  test('calls_per_minute: 3 — three calls through A, B and A use the minute up; B refuses the fourth', { timeout: 90_000 }, async () => {
    const caller = callers[1]!;
    // each node hears of the other's call before the next one: [through, the other node, what it counts of the minute]
    const steps = [
      [a, b, 1],
      [b, a, 1],
      [a, b, 2],
    ] as const;
    for (const [i, [through, other, seen]] of steps.entries()) {
      assert.equal(await callResult(through, caller, '2100', `rate-${i}`, dir), '200');
      await eventually(`${other.address} counts the call`, async () => (await counts(other, caller.number)).other_nodes_calls_last_minute === seen);
    }
    assert.equal(await callResult(b, caller, '2100', 'rate-b-fourth', dir), '403');
    await eventually("B's CDR holds its refusal", async () => (await lastVerdict(prefix, caller.number, 'b')) === 'refused:calls_per_minute:3');
    // alone, B saw one attempt of 2001: it refused for the two through A
    assert.equal((await counts(b, caller.number)).other_nodes_calls_last_minute, 2);
  });

  test("a route edited through A's API changes the trunk B sends the next call to", { timeout: 90_000 }, async () => {
    const caller = callers[2]!;
    let n = b.events().length;
    const created = await api('POST', '/routes/outbound', { name: 'national', match: ['_0X.'], trunks: ['p1'] });
    assert.equal(created.status, 201, created.text);
    await eventAfter(b, n, 'B reads the routes again', (e) => e.event === 'cluster-reloaded' && e.kind === 'routes');
    n = b.events().length;
    assert.equal(await callResult(b, caller, '0305550', 'route-p1', dir), '503');
    await eventAfter(b, n, 'B routes to p1', (e) => e.event === 'route-attempt' && e.route === 'national' && e.trunk === 'p1');
    n = b.events().length;
    const edited = await api('PATCH', '/routes/outbound/national', { trunks: ['p2'] });
    assert.equal(edited.status, 200, edited.text);
    await eventAfter(b, n, 'B reads the routes again', (e) => e.event === 'cluster-reloaded' && e.kind === 'routes');
    assert.equal(await callResult(b, caller, '0305560', 'route-p2', dir), '503');
    await eventAfter(b, n, 'B routes to p2', (e) => e.event === 'route-attempt' && e.route === 'national' && e.trunk === 'p2');
    // a trunk made through A's API (to p1's provider) is known to B at once: the route can send B's next call through it
    n = b.events().length;
    const trunk = await api('POST', '/trunks', { name: 'p3', host: '127.0.0.1', port: provPorts[0] });
    assert.equal(trunk.status, 201, trunk.text);
    await eventAfter(b, n, 'B reads the trunks again', (e) => e.event === 'cluster-reloaded' && e.kind === 'trunks');
    n = b.events().length;
    assert.equal((await api('PATCH', '/routes/outbound/national', { trunks: ['p3'] })).status, 200);
    await eventAfter(b, n, 'B reads the routes again', (e) => e.event === 'cluster-reloaded' && e.kind === 'routes');
    assert.equal(await callResult(b, caller, '0305570', 'route-p3', dir), '503');
    await eventAfter(b, n, 'B routes to p3', (e) => e.event === 'route-attempt' && e.route === 'national' && e.trunk === 'p3');
    // back to p2 for the tests after this one
    n = b.events().length;
    assert.equal((await api('PATCH', '/routes/outbound/national', { trunks: ['p2'] })).status, 200);
    await eventAfter(b, n, 'B reads the routes again', (e) => e.event === 'cluster-reloaded' && e.kind === 'routes');
  });

  test("an extension created through A's API calls through B at once", { timeout: 60_000 }, async () => {
    const n = b.events().length;
    const made = await api('POST', '/extensions', { number: '2200', name: 'New Hire' });
    assert.equal(made.status, 201, made.text);
    await eventAfter(b, n, 'B reads the extensions again', (e) => e.event === 'cluster-reloaded' && e.kind === 'extensions');
    // B has its credentials: the digest succeeds and the call is answered
    assert.equal(await callResult(b, { number: '2200', secret: made.json.secret, name: 'New Hire' }, '2100', 'new-hire', dir), '200');
    await eventually("B's CDR holds the call", async () => (await lastVerdict(prefix, '2200', 'b')) === 'pass:internal');
  });

  test("a fraud prefix added through A's API is refused by B; removed through A's API, B lets the next call through", { timeout: 90_000 }, async () => {
    const caller = callers[3]!;
    const listed = async () => ((await ask(b, 'guard')) as { fraud_numbers: number }).fraud_numbers;
    const before = await listed();
    const add = await api('POST', '/fraud-numbers', { prefix: '+4930' });
    assert.equal(add.status, 201, add.text);
    await eventually('B lists the prefix', async () => (await listed()) === before + 1);
    assert.equal(await callResult(b, caller, '0307770', 'fraud-listed', dir), '403');
    await eventually("B's CDR holds its refusal", async () => (await lastVerdict(prefix, caller.number, 'b')) === 'refused:fraud-list:4930');
    const rm = await api('DELETE', '/fraud-numbers/4930');
    assert.equal(rm.status, 200, rm.text);
    await eventually('B drops the prefix', async () => (await listed()) === before);
    // through the gate to the route (the provider answers 503): no refusal this time
    const n = b.events().length;
    assert.equal(await callResult(b, caller, '0307780', 'fraud-removed', dir), '503');
    await eventAfter(b, n, 'B routes the call', (e) => e.event === 'route-attempt' && e.route === 'national');
    await eventually("B's CDR holds the call it let through", async () => !((await lastVerdict(prefix, caller.number, 'b')) ?? 'refused').startsWith('refused'));
    // what the providers got from B: the route as created through p1, as edited through p2, through the API's
    // trunk p3 (p1's provider); nothing of the refused call
    for (const [i, want] of [
      ['0305550', '0305570'],
      ['0305560', '0307780'],
    ].entries()) {
      const trace = (await providers[i]!.stop()).messages;
      assert.deepEqual([...new Set([...trace.matchAll(/^INVITE sip:([0-9]+)@/gm)].map((m) => m[1]))], want, trace.slice(-2000));
    }
  });
});
