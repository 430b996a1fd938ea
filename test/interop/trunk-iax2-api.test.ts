// An IAX2 trunk made through the REST API (issue 10), between two real
// `palisade start` offices: office B has a `host: dynamic` IAX2 trunk
// "office-a" in palisade.yaml; office A has none until its API makes one.
//   - an operator may not make it (403, answered by the server)
//   - created on A with register: true: A registers to B at once (REGREQ,
//     call token, MD5) — registered on A, peer-registered on B
//   - a route made through A's API sends 1001's call to IAX2/office-b/2001:
//     B's SIPp phone 2001 answers; both offices write a CDR naming IAX2
//   - while that call is up, its secret edited to a wrong one: A releases the
//     old registration (REGREL: B forgets the binding) and its REGREQ with the
//     new secret is refused by B (B's security log has the attempt), shown on
//     A as rejected; the call goes on until the caller hangs up
//   - deleted: the next call through the route is taken by A (route-attempt)
//     and ends CHANUNAVAIL, and B sees no call
//   - the secrets are in no answer and no log line
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, eventAfter, startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, type SippProcess } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { apiCall } from '../helpers/http-api.js';
import { cdrRowsOnce, show, dumpOffices } from '../helpers/office-link.js';
import { sippPhone } from '../helpers/office-phones.js';
import { generateSecret } from '../../src/security/passwords/index.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-api-iax2-'));
const caller = makeUsers(1, { first: 1001 })[0]!;
const callee = makeUsers(1, { first: 2001 })[0]!;
const trunkSecret = generateSecret();
const wrongSecret = generateSecret();
let a: PalisadeProcess;
let b: PalisadeProcess;
let phone: SippProcess;
let base: string;
let iaxB: number;
let root: string;
let operator: string;

const as = (token: string, method: string, path: string, body?: unknown) => apiCall(base, { method, path: `/api/v1${path}`, token, body });
const trunkRow = async (name: string) => ((await as(root, 'GET', '/trunks')).json as Array<Record<string, unknown>>).find((t) => t.name === name);

/** 1001 at A calls `number` (SIPp, hanging up after `pauseMs`); resolves with A's route-attempt event once the call ended */
async function callOut(number: string, answered: boolean, pauseMs = 2000, during?: () => Promise<void>): Promise<Record<string, unknown>> {
  const from = a.lines.length;
  const csv = join(dir, `call-${number}-${from}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [number] }));
  const call = runSipp({ scenario: 'call-auth-uac', target: a.target, inf: [csv], calls: 1, pauseMs, timeoutS: 30 + pauseMs / 1000, dir });
  if (during) {
    await eventAfter(a, from, (e) => e.event === 'iax2-dial-answered', 30_000);
    await during();
  }
  const r = await call;
  assert.equal(r.stats?.successful ?? 0, answered ? 1 : 0, `the call ${answered ? 'was' : 'was not'} answered: ${r.errors}`);
  return eventAfter(a, from, (e) => e.event === 'route-attempt' && e.route === 'to-b');
}

before(async () => {
  const [httpPort, iaxA, iaxPortB] = await freeLocalPorts(3);
  iaxB = iaxPortB!;
  base = `http://127.0.0.1:${httpPort}`;
  b = await startPalisade({
    transports: ['udp'],
    users: [callee],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'iax2:',
      `  listen: ["udp:127.0.0.1:${iaxB}"]`,
      'trunks:',
      '  - name: office-a',
      '    type: iax2',
      '    host: dynamic',
      '    username: "9000"',
      `    secret: "${trunkSecret}"`,
      'routes:',
      '  inbound:',
      '    - did: "_2XXX"',
      '      to: "${EXTEN}"',
    ].join('\n'),
  });
  a = await startPalisade({
    transports: ['udp'],
    users: [caller],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.1/32] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'iax2:',
      `  listen: ["udp:127.0.0.1:${iaxA}"]`,
    ].join('\n'),
  });
  root = adminToken(a, 'root', 'admin');
  operator = adminToken(a, 'olga', 'operator');
  phone = await sippPhone(b, dir, callee, 'uas-answer', 180);
});

after(async () => {
  await phone?.stop().catch(() => undefined);
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an IAX2 trunk through the API: it registers at once, a route reaches the far office over it, a wrong secret is refused there, a delete leaves the route nothing', {
  timeout: 150_000,
}, async (t) => {
  let done = false;
  // on a failure: what each office logged about the trunk, the route and the channels
  t.after(() => {
    if (done) return;
    dumpOffices({ A: a, B: b }, /iax2|route|trunk|dial|channel|ban/);
  });
  const body = { name: 'office-b', type: 'iax2', host: '127.0.0.1', port: iaxB, username: '9000', secret: trunkSecret, register: true };

  // the role check is the SIP trunks' (shared): an operator is refused, nothing is made
  const refused = await as(operator, 'POST', '/trunks', body);
  assert.equal(refused.status, 403, refused.text);
  // the reader of palisade.yaml: an IAX2 trunk has no transport
  const tcp = await as(root, 'POST', '/trunks', { ...body, transport: 'tcp' });
  assert.equal(tcp.status, 400, tcp.text);
  assert.deepEqual(tcp.json.errors, [{ field: 'transport', message: 'transport is for SIP trunks; an IAX2 trunk always uses UDP' }]);
  assert.deepEqual((await as(root, 'GET', '/trunks')).json, [], 'nothing was made');

  // created: A registers to B at once
  let fromA = a.lines.length;
  const fromB = b.lines.length;
  const created = await as(root, 'POST', '/trunks', body);
  assert.equal(created.status, 201, created.text);
  assert.deepEqual([created.json.type, created.json.secret_set, 'secret' in created.json], ['iax2', true, false]);
  await eventAfter(a, fromA, (e) => e.event === 'iax2-trunk-registration' && e.trunk === 'office-b' && e.state === 'registered');
  await eventAfter(b, fromB, (e) => e.event === 'iax2-registered' && e.username === '9000' && e.kind === 'trunk');
  const row = await trunkRow('office-b');
  assert.deepEqual([row?.type, row?.source, row?.registration, row?.port], ['iax2', 'database', 'registered', iaxB]);
  assert.match(show(a, 'trunks'), /office-b\s+iax2\s+127\.0\.0\.1:\d+\s+registered\s+/);
  assert.match(show(b, 'trunks'), /office-a\s+iax2\s+dynamic \(127\.0\.0\.1:\d+\)\s+peer-registered/);

  // a route through the API: 1001's call goes out as IAX2/office-b/2001 and B's phone answers
  const route = await as(root, 'POST', '/routes/outbound', { name: 'to-b', match: ['_2XXX'], trunks: ['office-b'] });
  assert.equal(route.status, 201, route.text);
  // while it is in progress, the trunk's secret is edited to a wrong one: the old registration is
  // released (REGREL), the new REGREQ refused by B — and the call keeps going until the caller hangs up
  let fromB2 = 0;
  const first = await callOut('2001', true, 15_000, async () => {
    const fromA2 = a.lines.length;
    fromB2 = b.lines.length;
    const wrong = await as(root, 'PATCH', '/trunks/office-b', { secret: wrongSecret });
    assert.equal(wrong.status, 200, wrong.text);
    await eventAfter(b, fromB2, (e) => e.event === 'iax2-unregistered' && e.username === '9000');
    await eventAfter(a, fromA2, (e) => e.event === 'iax2-trunk-released' && e.trunk === 'office-b' && e.released === true);
    await eventAfter(a, fromA2, (e) => e.event === 'iax2-trunk-registration' && e.trunk === 'office-b' && e.state === 'rejected');
  });
  assert.deepEqual([first.trunk, first.status], ['office-b', 'ANSWER']);
  await eventAfter(b, fromB2, (e) => e.event === 'iax2-channel-ended');
  const afterEdit = b.lines.slice(fromB2).map((l) => (l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : {}));
  const released = afterEdit.findIndex((e) => e.event === 'iax2-unregistered');
  const ended = afterEdit.findIndex((e) => e.event === 'iax2-channel-ended');
  assert.ok(released >= 0 && ended > released, 'the call at B ended after the edit released the registration');
  const outA = (await cdrRowsOnce(a, 1, 'A')).find((r) => r.src === '1001' && r.dst === '2001');
  assert.ok(outA, 'A wrote the call');
  assert.equal(outA.disposition, 'ANSWERED');
  assert.match(String(outA.dstchannel), /^IAX2\/office-b-/);
  const inB = (await cdrRowsOnce(b, 1, 'B')).find((r) => r.src === '1001' && r.dst === '2001');
  assert.ok(inB, 'B wrote the call');
  assert.equal(inB.disposition, 'ANSWERED');
  assert.match(String(inB.channel), /^IAX2\/office-a-/, 'the call entered B on its IAX2 trunk');

  // the wrong secret shows on A; B forgot the peer and had the attempt (its security log names the account)
  const rejected = await trunkRow('office-b');
  assert.equal(rejected?.registration, 'rejected');
  assert.match(show(b, 'trunks'), /office-a\s+iax2\s+dynamic \(not registered\)\s+peer-unregistered/);
  const security = readFileSync(join(b.dir, 'var', 'security.log'), 'utf8');
  assert.match(security, /SecurityEvent="InvalidPassword".*Service="IAX2".*AccountID="9000"/);
  const change = (await as(root, 'GET', '/changes?action=trunk.update&limit=1')).json.rows[0];
  assert.deepEqual([change.target, change.after.secret_changed, change.after.type], ['office-b', true, 'iax2']);

  // deleted: A takes the next call, the route has no trunk, B sees no call
  fromA = a.lines.length;
  const callsAtB = b.lines.filter((l) => l.includes('"iax2-channel-new"')).length;
  const del = await as(root, 'DELETE', '/trunks/office-b');
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json.used_by, ['to-b']);
  await eventAfter(a, fromA, (e) => e.event === 'iax2-trunk-removed' && e.trunk === 'office-b');
  const second = await callOut('2001', false);
  assert.deepEqual([second.trunk, second.status], ['office-b', 'CHANUNAVAIL'], 'A took the call and found no trunk office-b');
  assert.equal(b.lines.filter((l) => l.includes('"iax2-channel-new"')).length, callsAtB, 'no call reached B');
  assert.deepEqual((await as(root, 'GET', '/trunks')).json, []);

  // the secrets: in no answer, no change-log entry, no log line
  const changes = await as(root, 'GET', '/changes?limit=100');
  for (const s of [trunkSecret, wrongSecret]) {
    assert.ok(!changes.text.includes(s), 'not in the change log');
    assert.ok(!a.lines.join('\n').includes(s) && !a.stderr().includes(s), 'not in the log');
  }
  done = true;
});
