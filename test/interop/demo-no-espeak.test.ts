// The README's first command on a machine without espeak-ng: the demo must
// still speak. Palisade ships its English prompt set (prompts/en), so
// `palisade start --demo` with espeak-ng (and sox) off the PATH answers the
// attendance line 800 with speech that a real phone (baresip) records.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, freeLocalPorts } from '../helpers/sipp.js';
import { Baresip, findFreePort } from '../helpers/baresip.js';
import { analyseWav, makeToneWav } from '../helpers/audio.js';
import { reapOnExit } from '../helpers/reap.js';

const dir = mkdtempSync(join(tmpdir(), 'pal-demo-mute-'));
let child: ChildProcess | undefined;
let phone: Baresip | undefined;

after(async () => {
  await phone?.stop().catch(() => undefined);
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

test('palisade start --demo with espeak-ng off the PATH: the attendance line 800 speaks', { timeout: 60_000 }, async () => {
  // a PATH holding only node: no espeak-ng, no sox
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const env = { ...process.env, PATH: bin };
  assert.equal(spawnSync('espeak-ng', ['--version'], { env }).error?.message.includes('ENOENT'), true, 'espeak-ng must be unreachable');

  const [port] = await freeLocalPorts(1, 2);
  const [httpPort] = await freeLocalPorts(1);
  child = reapOnExit(
    spawn(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'start', '--demo', '--dir', join(dir, 'demo'), '--port', String(port), '--http-port', String(httpPort)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!stdout.includes('"event":"ready"')) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `demo did not start:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.doesNotMatch(stdout, /prompts-generation-failed/);

  // the web console: its address and the generated admin password, printed once; they log in
  const web = /web console (http:\/\/127\.0\.0\.1:(\d+)\/)\s+account admin, password (\S+)/.exec(stderr);
  assert.ok(web, `no console address and password in the banner:\n${stderr}`);
  assert.equal(Number(web[2]), httpPort);
  assert.ok(!stdout.includes(web[3]!), 'the password is not in the log');
  const login = await fetch(`${web[1]}api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'admin', password: web[3] }),
  });
  assert.equal(login.status, 200);
  const page = await fetch(web[1]!);
  assert.match(await page.text(), /<div id="app">/, 'the console is served at /');

  // the banner (stderr, printed once) holds 1001's generated secret
  const secret = /extension 1001 \(.*?\)\s+secret: (\S+)/.exec(stderr)?.[1];
  assert.ok(secret, `no secret for 1001 in the banner:\n${stderr}`);
  const silence = join(dir, 'silence.wav');
  makeToneWav(silence, 440, 30, 0);
  const rtp = await findFreePort(20, 42000, 48000);
  phone = new Baresip({
    name: 'demo-1001',
    baseDir: dir,
    user: '1001',
    domain: `127.0.0.1:${port}`,
    password: secret,
    regint: 600,
    sipPort: await findFreePort(2),
    ctrlPort: await findFreePort(1, 39000, 39999),
    audioSource: silence,
    rtpPorts: [rtp, rtp + 19],
    answerMode: 'auto',
    maxLifetimeSec: 50,
  });
  await phone.start();
  await phone.waitRegistered(5000);
  await phone.dial(`sip:800@127.0.0.1:${port}`);
  await phone.waitEvent('CALL_ESTABLISHED', 10_000);
  // the welcome and "enter your ID" prompts last several seconds
  await new Promise((r) => setTimeout(r, 5000));
  await phone.hangup();
  await phone.waitEvent('CALL_CLOSED', 10_000);

  const heard = phone.recordings().dec;
  assert.equal(heard.length, 1, 'one call recorded');
  const a = analyseWav(heard[0]!, 100, 0.01);
  assert.ok(a.activeSec >= 2, `the caller heard ${a.activeSec.toFixed(1)} s of speech; expected the attendance greeting`);
});
