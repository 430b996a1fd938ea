// `palisade export` / `palisade import` round-trip the site as files (issue
// 10): extensions made through the API on one running server (one of them
// disabled) are exported with the dialplan, imported into a second running
// server — which takes them at once: the extension registers from SIPp with
// its original secret — and exported again byte for byte the same. An
// export with a broken dialplan is refused with the loader's file:line and
// changes nothing.
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

  const out1 = join(dir, 'export-1');
  const ex = cli(['export', out1], a.pal.configPath);
  assert.equal(ex.status, 0, ex.stderr);
  const yaml1 = readFileSync(join(out1, 'extensions.yaml'), 'utf8');
  assert.match(yaml1, /number: "?3201"?/);
  assert.match(yaml1, /disabled: true/);
  assert.match(yaml1, /ha1_sha256: [0-9a-f]{64}/);
  assert.ok(!yaml1.includes(one.json.secret), 'no secret in the export, only HA1');
  assert.equal(readFileSync(join(out1, 'dialplan', 'extensions.conf'), 'utf8'), DIALPLAN);

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

  const im = cli(['import', out1], b.pal.configPath);
  assert.equal(im.status, 0, im.stderr);
  assert.match(im.stdout, /2 created, 0 updated, 0 deleted/);
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
  // importing the same site again changes nothing
  assert.match(cli(['import', out2], b.pal.configPath).stdout, /0 created, 0 updated, 0 deleted/);
});
