// "Edit a route" in the web console (issue 10), in Debian's chromium driven
// by playwright-core (headless, never a downloaded browser), against a
// running `palisade start` with a SIPp trunk: an administrator creates an
// outbound route on the Trunks & routes page, a SIPp caller's call leaves by
// it with the number rewritten; the administrator edits it (an invalid
// prepend is flagged as typed and cannot be saved), and the next call reaches
// the trunk with the new rewrite — no restart. The API reads the edit back
// and the change log has it with the session's account. Screenshots are kept
// under test-artifacts/console/ (gitignored).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp, type SippProcess } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { makeUsers, sippCsv } from '../helpers/users.js';
import { apiCall } from '../helpers/http-api.js';

const CHROMIUM = '/usr/bin/chromium';
const shots = join(repoRoot(), 'test-artifacts', 'console');
const dir = mkdtempSync(join(tmpdir(), 'palisade-console-routes-'));
const caller = makeUsers(1, { first: 1001 })[0]!;
let pal: PalisadeProcess;
let provider: SippProcess;
let base: string;
let password: string;
let token: string;
let ctx: BrowserContext;
let page: Page;

const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** a call from 1001 (SIPp) to `number`; the SIPp trunk answers 503 after logging the INVITE */
async function callOut(number: string): Promise<void> {
  const csv = join(dir, `call-${number}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [number] }));
  await runSipp({ scenario: 'call-auth-uac', target: pal.target, inf: [csv], calls: 1, timeoutS: 20, dir });
}

async function routeAttempts(route: string, min: number): Promise<void> {
  const end = Date.now() + 10_000;
  const count = () => pal.lines.filter((l) => l.includes('"event":"route-attempt"') && l.includes(`"route":"${route}"`)).length;
  while (count() < min) {
    if (Date.now() > end) throw new Error(`expected ${min} route attempts by ${route}; tail:\n${pal.lines.slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), 'chromium is installed (scripts/install-test-deps.sh)');
  mkdirSync(shots, { recursive: true });
  const [httpPort, provPort] = await freeLocalPorts(2);
  base = `http://127.0.0.1:${httpPort}`;
  provider = await startSipp({ scenario: 'provider-503-uas', target: '127.0.0.1', port: provPort!, traceMsg: true, timeoutS: 300, dir });
  pal = await startPalisade({
    transports: ['udp'],
    users: [caller],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.1/32] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'trunks:',
      '  - name: prov',
      '    host: 127.0.0.1',
      `    port: ${provPort}`,
    ].join('\n'),
  });
  const bin = join(repoRoot(), 'bin', 'palisade.js');
  const add = spawnSync(process.execPath, [bin, 'admin', 'add', 'root', '--role', 'admin', '--config', pal.configPath], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(add.status, 0, add.stderr);
  password = add.stdout.trim().split('\n').at(-1)!;
  const tok = spawnSync(process.execPath, [bin, 'admin', 'token', 'root', '--config', pal.configPath], { encoding: 'utf8', timeout: 60_000 });
  token = tok.stdout.trim().split('\n').at(-1)!;
  ctx = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await ctx?.close();
  await provider?.stop().catch(() => undefined);
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('edit a route in the console: the next call reaches the trunk with the new rewrite; the API reads it back; the change log has it', async () => {
  await page.goto(base);
  await page.fill('input[name=name]', 'root');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=live-calls]');

  // create: checked as typed (an unknown trunk), then sent
  await page.click('button[data-page=routes]');
  await page.waitForSelector('tr[data-trunk=prov]');
  await page.fill('input[name=route-name]', 'national');
  await page.fill('input[name=route-match]', '_0X.');
  await page.fill('input[name=route-trunks]', 'porv');
  await page.waitForSelector('p.error[data-field=trunks]');
  assert.match((await page.textContent('p.error[data-field=trunks]')) ?? '', /"porv" is not a trunk; trunks: prov/);
  assert.equal(await page.isDisabled('[data-testid=new-route] button[type=submit]'), true);
  await page.fill('input[name=route-trunks]', 'prov');
  await page.fill('input[name=route-strip]', '1');
  await page.fill('input[name=route-prepend]', '49');
  await page.waitForSelector('p.error[data-field=trunks]', { state: 'detached' });
  await page.click('[data-testid=new-route] button[type=submit]');
  await page.waitForSelector('tr[data-route=national] td[data-col=prepend]:text("49")');
  await shot('20-route-created');
  await callOut('030555');
  await routeAttempts('national', 1);

  // edit: an invalid prepend is flagged and cannot be saved; then strip 0, no prepend
  await page.click('tr[data-route=national] button[data-action=edit]');
  await page.fill('tr[data-route=national] input[name=edit-prepend]', '49x');
  await page.waitForSelector('p.error[data-field=edit-prepend]');
  assert.equal(await page.isDisabled('tr[data-route=national] button[data-action=save]'), true, 'an invalid route cannot be saved');
  await shot('21-route-edit-invalid');
  await page.fill('tr[data-route=national] input[name=edit-prepend]', '');
  await page.fill('tr[data-route=national] input[name=edit-strip]', '0');
  await page.waitForSelector('p.error[data-field=edit-prepend]', { state: 'detached' });
  await page.click('tr[data-route=national] button[data-action=save]');
  await page.waitForSelector('[data-testid=saved]');
  await page.waitForSelector('tr[data-route=national] td[data-col=strip]:text("0")');
  await shot('22-route-edited');

  // the server has it: the API reads it back, the change log names the session's account
  const read = await apiCall(base, { path: '/api/v1/routes/outbound', token });
  const r = read.json.find((x: { name: string }) => x.name === 'national');
  assert.deepEqual([r.strip, r.prepend, r.trunks, r.match], [0, '', ['prov'], ['_0X.']]);
  const changes = await apiCall(base, { path: '/api/v1/changes?action=route.outbound.update', token });
  assert.equal(changes.json.total, 1);
  assert.deepEqual([changes.json.rows[0].actor, changes.json.rows[0].via, changes.json.rows[0].before.prepend, changes.json.rows[0].after.prepend], ['root', 'session', '49', '']);

  // and the calls: before the edit 030555 left as 4930555, after it 030556 leaves as dialled
  await callOut('030556');
  await routeAttempts('national', 2);
  const p = await provider.stop();
  const invites = [...p.messages.matchAll(/^INVITE sip:(\d+)@/gm)].map((m) => m[1]);
  assert.deepEqual(invites, ['4930555', '030556']);
});
