// `palisade export` / `palisade import` round-trip the site as files (issue
// 10): extensions made through the API on one running server (one of them
// disabled) are exported with the dialplan, imported into a second running
// server — which takes them at once: the extension registers from SIPp with
// its original secret — and exported again byte for byte the same. An
// export with a broken dialplan is refused with the loader's file:line and
// changes nothing. The other objects the API keeps in the database travel
// the same way: a SIP and an IAX2 trunk (secrets in trunks.yaml, in the clear),
// outbound and inbound routes, a time condition and a fraud prefix — the
// second server runs the imported trunk at once, and its export is the
// first's, file for file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { sippCsv } from '../helpers/users.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { apiCall } from '../helpers/http-api.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-site-'));
const bin = join(repoRoot(), 'bin', 'palisade.js');
const DIALPLAN = ['[default]', 'exten => 600,1,Answer()', ' same => n,Hangup()', '[lobby]', 'exten => 700,1,Answer()', ''].join('\n');

function cli(args: string[], config: string) {
  return spawnSync(process.execPath, [bin, ...args, '--config', config], { encoding: 'utf8', timeout: 60_000 });
}

async function site(name: string, dialplan: string): Promise<{ pal: PalisadeProcess; base: string; token: string }> {
  const [httpPort] = await freeLocalPorts(1);
  const own = join(dir, name);
  spawnSync('mkdir', ['-p', own]);
  writeFileSync(join(own, 'extensions.conf'), dialplan);
  const pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.1/32] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'dialplan:',
      `  file: ${join(own, 'extensions.conf')}`,
    ].join('\n'),
  });
  assert.equal(cli(['admin', 'add', 'root', '--role', 'admin'], pal.configPath).status, 0);
  const token = cli(['admin', 'token', 'root'], pal.configPath).stdout.trim().split('\n').at(-1)!;
  return { pal, base: `http://127.0.0.1:${httpPort}`, token };
}

let a: Awaited<ReturnType<typeof site>>;
let b: Awaited<ReturnType<typeof site>>;

before(async () => {
  a = await site('a', DIALPLAN);
  b = await site('b', '[default]\nexten => 600,1,Hangup()\n');
});

after(async () => {
  await a?.pal.stop();
  await b?.pal.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('export, import into another running server, export again: the same files; the imported extension registers with its secret', async () => {
  const mk = (number: string, context: string) =>
    apiCall(a.base, { method: 'POST', path: '/api/v1/extensions', token: a.token, body: { number, name: `Phone ${number}`, context } });
  const one = await mk('3201', 'lobby');
  assert.equal(one.status, 201);
  assert.equal((await mk('3202', 'default')).status, 201);
  assert.equal((await apiCall(a.base, { method: 'PATCH', path: '/api/v1/extensions/3202', token: a.token, body: { disabled: true } })).status, 200);
  // the other objects of the database: a trunk, routes, a time condition, a fraud prefix
  const trunkSecret = generateSecret();
  const [trunkPort] = await freeLocalPorts(1);
  const post = async (path: string, body: unknown) => {
    const r = await apiCall(a.base, { method: 'POST', path: `/api/v1${path}`, token: a.token, body });
    assert.equal(r.status, 201, `${path}: ${r.text}`);
  };
  await post('/trunks', { name: 'prov', host: '127.0.0.1', port: trunkPort, username: 'acct9', secret: trunkSecret, caller_id_number: '4930123' });
  await post('/trunks', { name: 'spare', host: 'sip.example.net' });
  const iaxSecret = generateSecret();
  await post('/trunks', { name: 'office-x', type: 'iax2', host: 'dynamic', username: 'x9000', secret: iaxSecret, max_channels: 4 });
  assert.equal((await apiCall(a.base, { method: 'PATCH', path: '/api/v1/trunks/spare', token: a.token, body: { disabled: true } })).status, 200);
  await post('/time-conditions', { name: 'office', times: ['09:00-17:00,mon-fri,*,*'], holidays: ['2026-12-25'] });
  await post('/routes/outbound', { name: 'national', match: ['_0X.'], trunks: ['prov'], strip: 1, prepend: '49' });
  await post('/routes/inbound', { name: 'main', did: '4930123', trunk: 'prov', to: '600', time_condition: 'office', else: '700' });
  await post('/fraud-numbers', { prefix: '88213' });

  const out1 = join(dir, 'export-1');
  const ex = cli(['export', out1], a.pal.configPath);
  assert.equal(ex.status, 0, ex.stderr);
  const yaml1 = readFileSync(join(out1, 'extensions.yaml'), 'utf8');
  assert.match(yaml1, /number: "?3201"?/);
  assert.match(yaml1, /disabled: true/);
  assert.match(yaml1, /ha1_sha256: [0-9a-f]{64}/);
  assert.ok(!yaml1.includes(one.json.secret), 'no secret in the export, only HA1');
  assert.equal(readFileSync(join(out1, 'dialplan', 'extensions.conf'), 'utf8'), DIALPLAN);
  const OBJECT_FILES = ['routes.yaml', 'trunks.yaml', 'fraud-numbers.yaml', 'queue-members.yaml'];
  const objects1 = OBJECT_FILES.map((f) => readFileSync(join(out1, f), 'utf8'));
  assert.match(objects1[0]!, /name: national[\s\S]*name: main[\s\S]*name: office/);
  assert.match(objects1[1]!, /name: office-x\n[\s\S]*type: iax2[\s\S]*name: prov\n[\s\S]*name: spare[\s\S]*disabled: true/);
  assert.ok(objects1[1]!.includes(iaxSecret), "the IAX2 trunk's secret too");
  assert.ok(objects1[1]!.includes(trunkSecret), "the trunk's secret is exported in the clear (it logs in to its provider with it)");
  assert.match(objects1[2]!, /prefix: "?88213"?/);

  // a broken dialplan in the export: refused, nothing changed on b
  const broken = join(dir, 'export-broken');
  cli(['export', broken], a.pal.configPath);
  writeFileSync(join(broken, 'dialplan', 'extensions.conf'), `${DIALPLAN}exten => 701,1,Playbak(x)\n`);
  const bad = cli(['import', broken], b.pal.configPath);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /nothing changed/);
  assert.match(bad.stderr, /extensions\.conf:6:\d+: .*Playback/);
  assert.equal(readFileSync(join(dir, 'b', 'extensions.conf'), 'utf8'), '[default]\nexten => 600,1,Hangup()\n');
  assert.equal((await apiCall(b.base, { path: '/api/v1/extensions', token: b.token })).json.length, 0);
  assert.equal((await apiCall(b.base, { path: '/api/v1/trunks', token: b.token })).json.length, 0, 'nor the trunks');

  const im = cli(['import', out1], b.pal.configPath);
  assert.equal(im.status, 0, im.stderr);
  assert.match(im.stdout, /2 created, 0 updated, 0 deleted extension\(s\); 3 trunks, 2 routes, 1 time conditions, 1 fraud numbers, 0 queue members/);
  // the running server took the trunks and routes at once (trunks-reload)
  const trunksB = (await apiCall(b.base, { path: '/api/v1/trunks', token: b.token })).json as Array<Record<string, unknown>>;
  assert.deepEqual(
    trunksB.map((t) => [t.name, t.source, t.registration, t.secret_set]),
    [
      ['office-x', 'database', 'peer-unregistered', true],
      ['prov', 'database', 'none', true],
      ['spare', 'database', 'disabled', false],
    ],
  );
  assert.ok(!JSON.stringify(trunksB).includes(trunkSecret));
  assert.deepEqual((await apiCall(b.base, { path: '/api/v1/routes/rules', token: b.token })).json.trunks, ['office-x', 'prov'], 'routes may name the imported trunks');
  const listed = (await apiCall(b.base, { path: '/api/v1/extensions', token: b.token })).json as Array<{ number: string; disabled: boolean; context: string }>;
  assert.deepEqual(
    listed.map((e) => [e.number, e.context, e.disabled]),
    [
      ['3201', 'lobby', false],
      ['3202', 'default', true],
    ],
  );
  // the running server took the extension and the dialplan at once
  const csv = join(dir, 'sipp-3201.csv');
  writeFileSync(csv, sippCsv([{ number: '3201', secret: one.json.secret, name: 'Phone' }]));
  const reg = await runSipp({ scenario: 'register-auth', target: b.pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, dir });
  assert.equal(reg.stats?.successful, 1, `3201 registers on b with the secret made on a:\n${reg.errors.slice(0, 1000)}`);
  assert.deepEqual((await apiCall(b.base, { path: '/api/v1/extensions/rules', token: b.token })).json.contexts.sort(), ['default', 'lobby']);

  const out2 = join(dir, 'export-2');
  assert.equal(cli(['export', out2], b.pal.configPath).status, 0);
  assert.equal(readFileSync(join(out2, 'extensions.yaml'), 'utf8'), yaml1, 'the round trip is exact');
  assert.equal(readFileSync(join(out2, 'dialplan', 'extensions.conf'), 'utf8'), DIALPLAN);
  for (const [i, f] of OBJECT_FILES.entries()) assert.equal(readFileSync(join(out2, f), 'utf8'), objects1[i], `${f}: the round trip is exact`);
  // importing the same site again changes nothing
  assert.match(cli(['import', out2], b.pal.configPath).stdout, /0 created, 0 updated, 0 deleted/);
});
