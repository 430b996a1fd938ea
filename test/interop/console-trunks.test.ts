// Trunks made through the REST API (issue 10) against a running `palisade
// start`, with two SIPp providers that are registrar and call server on one
// port each (test/sipp/provider-registrar-uas.xml, which checks the digest):
//   - operator and auditor are refused (403, answered by the server) and
//     nothing is made; a weak secret is refused (400, field secret) without
//     being echoed; a trunk of palisade.yaml is listed (source: config) and
//     cannot be edited, deleted or shadowed through the API (409)
//   - a registering trunk created through the API registers to provider A at
//     once; a route made through the API sends the next call's INVITE there
//   - its port edited: it unregisters from A (Expires: 0), registers to B,
//     and the next call's INVITE reaches B, not A
//   - disabled: it unregisters and the route cannot use it; enabled: it
//     registers again
//   - deleted: it unregisters from B, and the next call through the route is
//     taken by Palisade (route-attempt, CHANUNAVAIL) but reaches no provider
//   - the secret is in no answer, no change-log entry, no log line (debug)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, eventAfter as eventAfterIn, startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { apiCall } from '../helpers/http-api.js';
import { generateSecret } from '../../src/security/passwords/index.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-api-trunks-'));
const caller = makeUsers(1, { first: 1001 })[0]!;
const secret = generateSecret();
let pal: PalisadeProcess;
let provA: SippProcess;
let provB: SippProcess;
let base: string;
let root: string;
let operator: string;
let auditor: string;

const as = (token: string, method: string, path: string, body?: unknown) => apiCall(base, { method, path: `/api/v1${path}`, token, body });

/** the first log event from line `from` on that matches */
const eventAfter = (from: number, pred: (e: Record<string, unknown>) => boolean, ms = 15_000) => eventAfterIn(pal, from, pred, ms);

/** a call from 1001 to `number` through the route; both providers answer 503, so it ends there */
async function callOut(number: string): Promise<Record<string, unknown>> {
  const from = pal.lines.length;
  const csv = join(dir, `call-${number}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [number] }));
  await runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [csv], calls: 1, timeoutS: 20, dir });
  return eventAfter(from, (e) => e.event === 'route-attempt' && e.route === 'out');
}

before(async () => {
  const [httpPort, pA, pB, pFile] = await freeLocalPorts(4);
  base = `http://127.0.0.1:${httpPort}`;
  writeFileSync(join(dir, 'acct.csv'), `SEQUENTIAL\nacct1;${secret}\n`);
  const provider = (port: number) =>
    startSipp({ scenario: 'provider-registrar-uas', target: '127.0.0.1', port, inf: [join(dir, 'acct.csv')], traceMsg: true, traceLogs: true, timeoutS: 300, dir });
  provA = await provider(pA!);
  provB = await provider(pB!);
  pal = await startPalisade({
    transports: ['udp'],
    users: [caller],
    logLevel: 'debug',
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.1/32] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'trunks:',
      '  - name: filetrunk',
      '    host: 127.0.0.1',
      `    port: ${pFile}`,
    ].join('\n'),
  });
  root = adminToken(pal, 'root', 'admin');
  operator = adminToken(pal, 'olga', 'operator');
  auditor = adminToken(pal, 'audrey', 'auditor');
});

after(async () => {
  await provA?.stop().catch(() => undefined);
  await provB?.stop().catch(() => undefined);
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('trunks through the API: roles, validation, the file rule; create registers and takes calls, an edit moves it, a delete unregisters and refuses; the secret never leaves', async () => {
  const pA = provA.port;
  const pB = provB.port;
  const body = { name: 'prov2', host: '127.0.0.1', port: pA, username: 'acct1', secret, register: true, retry_interval: 1 };

  // documented in the OpenAPI document, the secret as write-only
  const doc = (await apiCall(base, { path: '/api/v1/openapi.json' })).json;
  for (const p of ['/api/v1/trunks', '/api/v1/trunks/{name}', '/api/v1/trunks/validate', '/api/v1/trunks/rules']) assert.ok(doc.paths[p], `${p} is documented`);
  const schema = doc.paths['/api/v1/trunks'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(schema.required.sort(), ['host', 'name']);
  assert.match(JSON.stringify(schema.properties.secret), /write-only/);

  // operator and auditor: refused by the server, nothing made
  for (const t of [operator, auditor]) {
    for (const [m, p, b] of [
      ['GET', '/trunks', undefined],
      ['POST', '/trunks', body],
      ['PATCH', '/trunks/prov2', { port: pB }],
      ['DELETE', '/trunks/prov2', undefined],
    ] as const) {
      const r = await as(t, m, p, b);
      assert.equal(r.status, 403, `${m} ${p} refused (${r.text})`);
      assert.equal(r.json.error, 'forbidden');
    }
  }
  // a weak secret: 400 on the secret field, the secret not echoed
  const weak = await as(root, 'POST', '/trunks', { ...body, secret: 'password1' });
  assert.equal(weak.status, 400, weak.text);
  assert.equal(weak.json.errors[0].field, 'secret');
  assert.match(weak.json.message, /secret is too weak/);
  assert.ok(!weak.text.includes('password1'));
  // the combination rules of the file: register needs a username
  const noUser = await as(root, 'POST', '/trunks', { name: 'prov2', host: '127.0.0.1', register: true });
  assert.equal(noUser.status, 400);
  assert.equal(noUser.json.errors[0].field, 'username');
  // a trunk of palisade.yaml: listed with its origin, edited only in the file
  const listed = await as(root, 'GET', '/trunks');
  assert.deepEqual(
    listed.json.map((t: { name: string; source: string }) => [t.name, t.source]),
    [['filetrunk', 'config']],
    'nothing was made by the refused requests',
  );
  const fileEdit = await as(root, 'PATCH', '/trunks/filetrunk', { port: pB });
  assert.equal(fileEdit.status, 409);
  assert.match(fileEdit.json.message, /trunk filetrunk is defined in palisade\.yaml \(trunks:\); edit it there/);
  assert.equal((await as(root, 'DELETE', '/trunks/filetrunk')).status, 409);
  assert.equal((await as(root, 'POST', '/trunks', { ...body, name: 'filetrunk' })).status, 409);

  // create: it registers to A at once (A checked the digest)
  let from = pal.lines.length;
  const created = await as(root, 'POST', '/trunks', body);
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.secret_set, true);
  assert.equal('secret' in created.json, false);
  await eventAfter(from, (e) => e.event === 'trunk-registered' && e.trunk === 'prov2' && e.server === `udp:127.0.0.1:${pA}`);
  const row = (await as(root, 'GET', '/trunks')).json.find((t: { name: string }) => t.name === 'prov2');
  assert.deepEqual([row.source, row.registration, row.secret_set, 'secret' in row], ['database', 'registered', true, false]);

  // a route through the API to it: the call's INVITE reaches A
  const route = await as(root, 'POST', '/routes/outbound', { name: 'out', match: ['_0X.'], trunks: ['prov2'] });
  assert.equal(route.status, 201, route.text);
  const first = await callOut('030555');
  assert.deepEqual([first.trunk, first.status], ['prov2', 'CONGESTION'], 'A answered the INVITE with 503');

  // edit the port: unregister from A, register to B; the next call reaches B
  from = pal.lines.length;
  const edited = await as(root, 'PATCH', '/trunks/prov2', { port: pB });
  assert.equal(edited.status, 200, edited.text);
  assert.equal('secret' in edited.json, false);
  await eventAfter(from, (e) => e.event === 'trunk-registered' && e.trunk === 'prov2' && e.server === `udp:127.0.0.1:${pB}`);
  const second = await callOut('030556');
  assert.deepEqual([second.trunk, second.status], ['prov2', 'CONGESTION']);
  const change = await as(root, 'GET', '/changes?action=trunk.update&limit=1');
  const c = change.json.rows[0];
  assert.deepEqual([c.target, c.before.port, c.after.port, c.after.secret_set], ['prov2', pA, pB, true]);

  // disable: unregister from B, the route cannot use it; enable: it registers again
  from = pal.lines.length;
  assert.equal((await as(root, 'PATCH', '/trunks/prov2', { disabled: true })).status, 200);
  await eventAfter(from, (e) => e.event === 'trunk-registration-stopped' && e.trunk === 'prov2' && e.why === 'disabled');
  const off = (await as(root, 'GET', '/trunks')).json.find((t: { name: string }) => t.name === 'prov2');
  assert.deepEqual([off.disabled, off.registration], [true, 'disabled']);
  const whileOff = await callOut('030558');
  assert.deepEqual([whileOff.trunk, whileOff.status], ['prov2', 'CHANUNAVAIL'], 'a disabled trunk takes no call');
  from = pal.lines.length;
  assert.equal((await as(root, 'PATCH', '/trunks/prov2', { disabled: false })).status, 200);
  await eventAfter(from, (e) => e.event === 'trunk-registered' && e.trunk === 'prov2' && e.server === `udp:127.0.0.1:${pB}`);

  // delete: unregister from B; the next call is taken by Palisade but reaches no provider
  from = pal.lines.length;
  const del = await as(root, 'DELETE', '/trunks/prov2');
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json.used_by, ['out']);
  await eventAfter(from, (e) => e.event === 'trunk-registration-stopped' && e.trunk === 'prov2' && e.why === 'removed');
  const third = await callOut('030557');
  assert.deepEqual([third.trunk, third.status], ['prov2', 'CHANUNAVAIL'], 'Palisade took the call and found no trunk prov2');
  assert.equal((await as(root, 'GET', '/trunks')).json.length, 1);

  // what each provider saw
  const a = await provA.stop();
  const b = await provB.stop();
  const invites = (t: string) => [...t.matchAll(/^INVITE sip:(\d+)@/gm)].map((m) => m[1]);
  assert.deepEqual(invites(a.messages), ['030555']);
  assert.deepEqual(invites(b.messages), ['030556']);
  assert.doesNotMatch(a.logs + b.logs, /register-result: bad/);
  assert.match(a.messages, /^REGISTER [\s\S]*?^Expires: 0/m, 'the edit unregistered from A');
  assert.match(b.messages, /^REGISTER [\s\S]*?^Expires: 0/m, 'the delete unregistered from B');

  // the secret: in no answer, no change-log entry, no log line
  const changes = await as(root, 'GET', '/changes?limit=100');
  assert.ok(changes.json.rows.some((r: { action: string }) => r.action === 'trunk.create'));
  assert.ok(!changes.text.includes(secret), 'not in the change log');
  assert.ok(!pal.lines.join('\n').includes(secret), 'not in the log');
  assert.ok(!pal.stderr().includes(secret));
});
