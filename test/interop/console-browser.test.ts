// The web console in a real browser (issue 10): Debian's chromium, headless,
// driven by playwright-core (never a downloaded browser), against a running
// `palisade start`. An administrator logs in, creates an extension (the form
// checks the number as it is typed), sees it register from SIPp, watches a
// call appear on the dashboard from the event stream and end, finds it in
// the CDR search and its CSV export, fixes a dialplan error shown beside its
// line, bans and unbans an address, and reads the change log. Screenshots
// are kept under test-artifacts/console/ (gitignored).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp, startSipp } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { sippCsv } from '../helpers/users.js';
import { apiCall } from '../helpers/http-api.js';

const CHROMIUM = '/usr/bin/chromium';
const shots = join(repoRoot(), 'test-artifacts', 'console');
const dir = mkdtempSync(join(tmpdir(), 'palisade-console-ui-'));
let pal: PalisadeProcess;
let base: string;
let password: string;
let token: string;
let ctx: BrowserContext;
let page: Page;
let secret: string;

const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

before(async () => {
  assert.ok(existsSync(CHROMIUM), 'chromium is installed (scripts/install-test-deps.sh)');
  mkdirSync(shots, { recursive: true });
  const [httpPort] = await freeLocalPorts(1);
  base = `http://127.0.0.1:${httpPort}`;
  // 600 answers and hangs up after 4 s: a call that starts and ends by itself
  writeFileSync(join(dir, 'extensions.conf'), ['[default]', 'exten => 600,1,Answer()', ' same => n,Wait(4)', ' same => n,Hangup()', ''].join('\n'));
  pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.1/32] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
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
    acceptDownloads: true,
  });
  page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await ctx?.close();
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('log in: a wrong password is refused on the page, the right one opens the dashboard', async () => {
  await page.goto(base);
  await page.fill('input[name=name]', 'root');
  await page.fill('input[name=password]', 'Not-the-Passw0rd-x');
  await page.click('button[type=submit]');
  await page.waitForSelector('[role=alert]');
  assert.match((await page.textContent('[role=alert]')) ?? '', /wrong name or password/);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=live-calls]');
  assert.match((await page.textContent('header .who')) ?? '', /root \(admin\)/);
  // the session cookie is HttpOnly: the page's scripts cannot read it
  assert.equal(await page.evaluate(() => document.cookie), '');
  await shot('01-dashboard');
});

test('create an extension: the number is checked as it is typed; the secret is shown once; it registers from SIPp', async () => {
  await page.click('button[data-page=extensions]');
  await page.fill('input[name=number]', '31a1');
  await page.waitForSelector('p.error[data-field=number]');
  assert.equal(await page.isDisabled('form button[type=submit]'), true, 'an invalid number cannot be sent');
  await shot('02-extension-invalid');
  await page.fill('input[name=number]', '3101');
  await page.fill('input[name=name]', 'Front desk');
  await page.waitForSelector('p.error[data-field=number]', { state: 'detached' });
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=secret]');
  secret = /SIP secret (\S+)/.exec((await page.textContent('[data-testid=secret]')) ?? '')?.[1] ?? '';
  assert.match(secret, /^\S{20}$/);
  await page.waitForSelector('tr[data-extension="3101"]');

  const csv = join(dir, 'sipp-3101.csv');
  writeFileSync(csv, sippCsv([{ number: '3101', secret, name: 'Front desk' }]));
  const reg = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, rate: 1, timeoutS: 30, dir });
  assert.equal(reg.stats?.successful, 1, reg.errors.slice(0, 1000));
  await page.click('text=Refresh');
  await page.waitForSelector('tr[data-extension="3101"] td[data-registered="1"]');
  await shot('03-extension-registered');
});

test('the dashboard shows a call from the event stream while it runs, and drops it when it ends', async () => {
  await page.click('button[data-page=dashboard]');
  await page.waitForSelector('[data-testid=live-calls]');
  await page.waitForFunction(() => document.querySelector('[data-testid=registrations]')?.textContent === '1');
  const csv = join(dir, 'sipp-call.csv');
  writeFileSync(csv, sippCsv([{ number: '3101', secret, name: 'Front desk' }]));
  const sipp = await startSipp({ scenario: 'call-callee-bye-uac', target: pal.target, inf: [csv], service: '600', calls: 1, rate: 1, timeoutS: 40, dir });
  await page.waitForSelector('tr[data-call] >> text=600');
  assert.equal(await page.textContent('[data-testid=live-calls]'), '1');
  await shot('04-dashboard-call');
  const done = await sipp.done;
  assert.equal(done.stats?.successful, 1, done.errors.slice(0, 1000));
  await page.waitForSelector('tr[data-call]', { state: 'detached' });
  assert.equal(await page.textContent('[data-testid=live-calls]'), '0');
  assert.match((await page.textContent('[data-testid=event-log]')) ?? '', /call .*"phase":"end"/);
  await shot('05-dashboard-ended');
});

test('CDR search finds the call; the CSV export holds it', async () => {
  await page.click('button[data-page=cdr]');
  await page.fill('input[name=number]', '3101');
  await page.click('form button[type=submit]');
  await page.waitForSelector('tr[data-cdr] >> text=ANSWERED');
  const row = (await page.textContent('tr[data-cdr]')) ?? '';
  assert.match(row, /3101/);
  assert.match(row, /600/);
  const href = await page.getAttribute('[data-testid=csv]', 'href');
  const csv = await page.request.get(new URL(href!, base).toString());
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /,3101,600,.*ANSWERED/);
  await shot('06-cdr');
});

test("the dialplan editor shows the loader's error beside its line; fixed, it saves and reloads", async () => {
  await page.click('button[data-page=dialplan]');
  await page.waitForSelector('textarea[name=dialplan]');
  // the editor appears before the file arrives from the API: read it once it holds the file (a full run read it empty)
  await page.waitForFunction(() => (document.querySelector('textarea[name=dialplan]') as HTMLTextAreaElement | null)?.value.includes('[') === true);
  const text = await page.inputValue('textarea[name=dialplan]');
  await page.fill('textarea[name=dialplan]', `${text}exten => 601,1,Playbak(hello)\n`);
  await page.waitForSelector('[data-testid=dialplan-errors] p.error');
  assert.match((await page.textContent('[data-testid=dialplan-errors]')) ?? '', /extensions\.conf:5:\d+: .*Playback/);
  await shot('07-dialplan-error');
  await page.fill('textarea[name=dialplan]', `${text}exten => 601,1,Playback(hello)\n`);
  await page.waitForFunction(() => /loads: 1 contexts/.test(document.querySelector('[data-testid=dialplan-status]')?.textContent ?? ''));
  await page.click('text=Save and reload');
  await page.waitForSelector('text=saved and reloaded');
  const r = await apiCall(base, { path: '/api/v1/dialplan/files/extensions.conf', token });
  assert.match(r.json.content, /exten => 601,1,Playback\(hello\)/);
});

test('security page: ban an address, then unban it with its button', async () => {
  await page.click('button[data-page=security]');
  await page.fill('input[name=ban-address]', '192.0.2.50');
  await page.click('[data-testid=ban]');
  await page.waitForSelector('tr[data-ban="192.0.2.50"]');
  await shot('08-security-banned');
  assert.ok((await apiCall(base, { path: '/api/v1/bans', token })).json.some((b: { address: string }) => b.address === '192.0.2.50'));
  await page.click('tr[data-ban="192.0.2.50"] >> text=Unban');
  await page.waitForSelector('tr[data-ban="192.0.2.50"]', { state: 'detached' });
  assert.equal(
    (await apiCall(base, { path: '/api/v1/bans', token })).json.some((b: { address: string }) => b.address === '192.0.2.50'),
    false,
    'the server lifted it',
  );
});

test('the change log page lists what was done, by whom', async () => {
  await page.click('button[data-page=changes]');
  for (const action of ['extension.create', 'dialplan.replace', 'ban.add', 'ban.remove']) await page.waitForSelector(`tr[data-change="${action}"]`);
  assert.match((await page.textContent('tr[data-change="ban.remove"]')) ?? '', /root \(admin, session\)/);
  await shot('09-change-log');
});
