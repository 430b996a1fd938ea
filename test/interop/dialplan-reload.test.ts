// The running server loads its dialplan at start, reloads it on the control
// command, and keeps the running one when the new file has an error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../../src/admin/control-socket.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { makeUsers } from '../helpers/users.js';
import { repoRoot } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'pal-dpreload-'));
const conf = join(dir, 'extensions.conf');
let p: PalisadeProcess;

before(async () => {
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  p = await startPalisade({ users: makeUsers(2, { first: 1500 }), extraYaml: `dialplan:\n  file: ${conf}\n` });
});
after(async () => {
  await p?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('reload-dialplan swaps in the new file; an error keeps the running dialplan and names file:line', { timeout: 30_000 }, async () => {
  const sock = join(p.dir, 'control.sock');
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n[ivr]\nexten => s,1,Answer()\n');
  assert.deepEqual(await controlRequest(sock, 'reload-dialplan'), { contexts: 2 });
  await p.waitForEvent((e) => e.event === 'dialplan-reloaded', 5000);
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dail(SIP/${EXTEN},20)\n');
  await assert.rejects(controlRequest(sock, 'reload-dialplan'), (e: Error) => {
    assert.match(e.message, new RegExp(`${conf.replace(/[.]/g, '\\.')}:2:18: unknown application "Dail"; did you mean Dial\\?`));
    return true;
  });
  // still serving, and the CLI does the same over the socket
  const status = (await controlRequest(sock, 'status')) as Record<string, unknown>;
  assert.ok(status);
  writeFileSync(conf, '[default]\nexten => _1XXX,1,Dial(SIP/${EXTEN},20)\n');
  const cli = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'dialplan', 'reload', '--config', p.configPath], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, 'dialplan reloaded: 1 contexts\n');
});

test('a dialplan error stops the start with file:line on stderr', { timeout: 30_000 }, async () => {
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, '[default]\ninclude => nowhere\n');
  await assert.rejects(startPalisade({ extraYaml: `dialplan:\n  file: ${bad}\n`, readyTimeoutMs: 8000 }), (e: Error) => {
    assert.match(e.message, new RegExp(`${bad.replace(/[.]/g, '\\.')}:2:12: include => nowhere: no context \\[nowhere\\] in the dialplan`));
    return true;
  });
});
