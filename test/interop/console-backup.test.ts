// `palisade backup` / `palisade restore` (issue 10): a backup taken while a
// call runs (the call goes on and ends normally), the audit's backup check
// turning from "no backup" to passed, restore refused while the server
// runs, then — with the database, the voicemail spool and the dialplan
// lost — restored, and the server started again serves the extension made
// through the API (it registers with its secret), the admin's token, the
// voicemail files and the dialplan.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { sippCsv } from '../helpers/users.js';
import { apiCall } from '../helpers/http-api.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-backup-'));
const site = join(dir, 'site');
const bin = join(repoRoot(), 'bin', 'palisade.js');
const DIALPLAN = ['[default]', 'exten => 600,1,Answer()', ' same => n,Wait(30)', ' same => n,Hangup()', ''].join('\n');
let pal: PalisadeProcess;
let yaml: string;
let base: string;
let token: string;

const cli = (args: string[]) => spawnSync(process.execPath, [bin, ...args, '--config', pal.configPath], { encoding: 'utf8', timeout: 120_000 });
const start = () => startPalisade({ dir: site, transports: ['udp'], sipPort: pal?.sipPort, extraYaml: yaml });

before(async () => {
  mkdirSync(site);
  const [httpPort] = await freeLocalPorts(1);
  base = `http://127.0.0.1:${httpPort}`;
  writeFileSync(join(dir, 'extensions.conf'), DIALPLAN);
  yaml = [
    'registrar:',
    '  qualify_interval: 0',
    'admin:',
    '  acl: { permit: [127.0.0.1/32] }',
    'http:',
    `  listen: ["127.0.0.1:${httpPort}"]`,
    'dialplan:',
    `  file: ${join(dir, 'extensions.conf')}`,
    'voicemail:',
    `  spool_dir: ${join(dir, 'vm')}`,
  ].join('\n');
  pal = await start();
  assert.equal(cli(['admin', 'add', 'root', '--role', 'admin']).status, 0);
  token = cli(['admin', 'token', 'root']).stdout.trim().split('\n').at(-1)!;
});

after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('backup while a call runs; the audit sees it; restore after loss brings the site back', async () => {
  const ext = await apiCall(base, { method: 'POST', path: '/api/v1/extensions', token, body: { number: '3301', context: 'default' } });
  assert.equal(ext.status, 201);
  const secret = ext.json.secret as string;
  const msg = join(dir, 'vm', 'default', '3301', 'INBOX');
  mkdirSync(msg, { recursive: true });
  writeFileSync(join(msg, 'msg0000.txt'), '[message]\ncallerid=1001\n');

  const before = (await apiCall(base, { path: '/api/v1/audit', token })).json.findings as Array<{ id: string; severity: string }>;
  assert.deepEqual(
    before.filter((f) => f.id.startsWith('backups')).map((f) => [f.id, f.severity]),
    [['backups-missing', 'medium']],
    'running, and no backup made yet',
  );

  // a call in progress while the backup is taken
  const csv = join(dir, 'sipp.csv');
  writeFileSync(csv, sippCsv([{ number: '3301', secret, name: 'Desk' }]));
  const call = await startSipp({ scenario: 'call-callee-bye-uac', target: pal.target, inf: [csv], service: '600', calls: 1, rate: 1, timeoutS: 40, dir });
  const deadline = Date.now() + 10_000;
  while (((await apiCall(base, { path: '/api/v1/calls', token })).json as unknown[]).length === 0) {
    assert.ok(Date.now() < deadline, 'the call started');
    await new Promise((r) => setTimeout(r, 100));
  }
  const archive = join(dir, 'backup.tar.gz');
  const b = cli(['backup', '--out', archive]);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /backup written to .*backup\.tar\.gz/);
  const calls = (await apiCall(base, { path: '/api/v1/calls', token })).json as Array<{ id: string }>;
  assert.equal(calls.length, 1, 'the call went on during the backup');
  assert.equal((await apiCall(base, { method: 'DELETE', path: `/api/v1/calls/${encodeURIComponent(calls[0]!.id)}`, token })).status, 200);
  const done = await call.done;
  assert.equal(done.stats?.successful, 1, done.errors.slice(0, 1000));
  const listing = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout;
  for (const part of ['./manifest.json', './database.sqlite']) assert.ok(listing.includes(part), `${part} in the archive:\n${listing}`);

  const after = (await apiCall(base, { path: '/api/v1/audit', token })).json.findings as Array<{ id: string }>;
  assert.equal(after.filter((f) => f.id.startsWith('backups')).length, 0, 'a fresh backup passes the audit');

  const refused = cli(['restore', archive]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /the server is running; stop it first/);

  await pal.stop();
  // the disk loses the database, the voicemail and the dialplan
  for (const f of ['palisade.db', 'palisade.db-wal', 'palisade.db-shm']) rmSync(join(site, f), { force: true });
  rmSync(join(dir, 'vm'), { recursive: true, force: true });
  writeFileSync(join(dir, 'extensions.conf'), '[default]\n');

  const r = cli(['restore', archive]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'extensions.conf'), 'utf8'), DIALPLAN);
  assert.ok(existsSync(join(msg, 'msg0000.txt')), 'the voicemail is back');

  pal = await start();
  const list = (await apiCall(base, { path: '/api/v1/extensions', token })).json as Array<{ number: string }>;
  assert.ok(
    list.some((e) => e.number === '3301'),
    'the extension and the admin token are back',
  );
  const reg = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, dir });
  assert.equal(reg.stats?.successful, 1, 'it registers with its secret');
});
