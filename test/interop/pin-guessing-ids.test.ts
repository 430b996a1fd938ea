// PIN guessing over a call is a failed login like a wrong SIP password
// (issue 7): SIPp calls a real `palisade start`, authenticates its INVITE,
// and keys wrong PINs by RFC 4733 (play_dtmf) into VoiceMailMain, the
// dialplan's Authenticate() and the shipped attendance line (DBLookup, its
// failures reported with ReportAuthFailure()). Each wrong PIN is a security
// log line in Asterisk's format naming the caller's address; past the IDS
// threshold the address is banned — its next packet gets no answer — and
// both the address and the calling extension lose reputation. No PIN,
// right or wrong, reaches a log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runSipp } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { optionsRequest } from '../helpers/sip-probe.js';
import { repoRoot } from '../helpers/paths.js';
import { sippCsv, type TestUser } from '../helpers/users.js';
import { generateSecret } from '../../src/security/passwords/index.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { defaultPromptDir } from '../../src/main.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';

const THRESHOLD = 3;
const MAILBOX_PIN = '691735';
const AUTH_PIN = '582914';
// six digits: never mistaken for a port number in the logs searched below
const WRONG = ['409173', '528064', '631952'];
const example = join(repoRoot(), 'examples', 'attendance');
const dir = mkdtempSync(join(tmpdir(), 'palisade-pin-guess-'));
const users: TestUser[] = ['1001', '1002', '1003', '1004'].map((number) => ({
  number,
  secret: generateSecret({ extension: number, name: `Phone ${number}` }),
  name: `Phone ${number}`,
}));
let pal: PalisadeProcess;

before(async () => {
  await generatePrompts(defaultPromptDir());
  for (const f of ['extensions.conf', 'attendance.sql']) copyFileSync(join(example, f), join(dir, `attendance-${f}`));
  writeFileSync(join(dir, 'voicemail.conf'), `[default]\n1002 => ${MAILBOX_PIN},Owner,owner@example.org\n`);
  writeFileSync(
    join(dir, 'extensions.conf'),
    [
      '#include "attendance-extensions.conf"',
      '[guessing]',
      'include => internal',
      'exten => 8500,1,VoiceMailMain(1002@default)',
      `exten => 8600,1,Authenticate(${AUTH_PIN})`,
      ' same => n,Playback(thank-you)',
      '',
    ].join('\n'),
  );
  const q = (parseYaml(readFileSync(join(example, 'palisade.yaml'), 'utf8')) as { dialplan: { queries: Record<string, { datasource: string; sql: string }> } }).dialplan.queries
    .attendance_figure!;
  pal = await startPalisade({
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'security:',
      '  ids:',
      `    auth_failures: { threshold: ${THRESHOLD}, window: 120 }`,
      'dialplan:',
      `  file: ${join(dir, 'extensions.conf')}`,
      '  datasources:',
      `    attendance: { driver: sqlite, path: ${join(dir, 'attendance.db')}, create_from: ${join(dir, 'attendance-attendance.sql')} }`,
      '  queries:',
      '    attendance_figure:',
      `      datasource: ${q.datasource}`,
      `      sql: ${JSON.stringify(q.sql)}`,
      'voicemail:',
      `  file: ${join(dir, 'voicemail.conf')}`,
      `  spool_dir: ${join(dir, 'vm')}`,
      'extensions:',
      ...users.map((u) => `  - { number: "${u.number}", name: "${u.name}", secret: "${u.secret}", context: guessing${u.number === '1002' ? ', voicemail: true' : ''} }`),
    ].join('\n'),
  });
});

after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function securityLog(): string {
  const file = join(pal.dir, 'var', 'security.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** OPTIONS over UDP from `from`; resolves with whether any answer came */
function answered(from: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, from, () => {
      s.send(optionsRequest({ domain: pal.domain, localPort: s.address().port, callId: `pin-${from}-${Date.now()}` }), pal.sipPort, '127.0.0.1');
      const t = setTimeout(() => {
        s.close();
        resolve(false);
      }, 1000);
      s.on('message', () => {
        clearTimeout(t);
        s.close();
        resolve(true);
      });
    });
  });
}

async function bans(): Promise<string[]> {
  return ((await controlRequest(join(pal.dir, 'control.sock'), 'bans', {})) as Array<{ address: string }>).map((b) => b.address);
}

async function reputation(subject: string): Promise<{ bad: number; score: number }> {
  return (await controlRequest(join(pal.dir, 'control.sock'), 'reputation', { subject })) as { bad: number; score: number };
}

/**
 * `caller` calls `number` from `address` and keys `keys` by RFC 4733, then
 * waits for the IVR to hang up; returns once the address is banned.
 */
async function guess(o: { caller: string; address: string; number: string; keys: string; service: string }): Promise<void> {
  assert.equal(await answered(o.address), true, `${o.address} is served before it guesses`);
  const csv = join(dir, `caller-${o.caller}.csv`);
  writeFileSync(csv, sippCsv(users.filter((u) => u.number === o.caller)));
  const r = await runSipp({
    scenario: 'call-dtmf-keys-uac',
    target: pal.target,
    inf: [csv],
    service: o.number,
    set: { keys: o.keys },
    calls: 1,
    rate: 1,
    timeoutS: 70,
    dir,
    extraArgs: ['-i', o.address],
  });
  assert.equal(r.stats?.successful, 1, `the call was answered and the IVR hung up:\n${r.errors.slice(0, 2000)}\n${r.stdout.slice(-1500)}`);

  const deadline = Date.now() + 5000;
  while (!(await bans()).includes(o.address) && Date.now() < deadline) await sleep(200);
  const seclog = securityLog();
  const lines = seclog.split('\n').filter((l) => l.includes('res_security_log.c'));
  const failures = lines.filter((l) => l.includes('SecurityEvent="InvalidPassword"') && l.includes(`Service="${o.service}"`));
  assert.equal(
    failures.filter((l) => new RegExp(`RemoteAddress="IPV4/UDP/${o.address.replace(/\./g, '\\.')}/\\d+"`).test(l)).length,
    THRESHOLD,
    `one Asterisk-format line per wrong PIN, naming the caller's address:\n${lines.join('\n')}`,
  );
  assert.ok(
    lines.some((l) => l.includes('SecurityEvent="Ban"') && l.includes(`/${o.address}/`)),
    `a Ban line for ${o.address}:\n${lines.join('\n')}`,
  );
  // fail2ban's stock asterisk filter reads the caller's address from those lines
  const f2b = spawnSync('fail2ban-regex', ['-o', 'ip', join(pal.dir, 'var', 'security.log'), '/etc/fail2ban/filter.d/asterisk.conf'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(f2b.stdout.split('\n').filter((h) => h.trim() === o.address).length, THRESHOLD, f2b.stdout + f2b.stderr);
  assert.ok((await bans()).includes(o.address), `${o.address} is banned: ${JSON.stringify(await bans())}`);

  // the next packet from that address gets no answer; a neighbour is still served
  assert.equal(await answered(o.address), false, 'the banned address is dropped');
  assert.equal(await answered('127.0.0.2'), true, 'another address is still served');

  // reputation: the address as for a wrong SIP password, and the calling extension
  assert.ok((await reputation(o.address)).bad >= THRESHOLD * 0.99, JSON.stringify(await reputation(o.address)));
  assert.ok((await reputation(o.caller)).bad > 0, `the calling extension lost reputation: ${JSON.stringify(await reputation(o.caller))}`);

  // no PIN, right or wrong, in any log
  const logs = seclog + pal.lines.join('\n');
  for (const pin of [...WRONG, MAILBOX_PIN, AUTH_PIN]) assert.doesNotMatch(logs, new RegExp(`(?<!\\d)${pin}(?!\\d)`), `PIN ${pin} in a log`);
}

test("VoiceMailMain: wrong PINs keyed by RFC 4733 get the caller's address banned and logged", { timeout: 90_000 }, async () => {
  await guess({ caller: '1001', address: '127.0.0.3', number: '8500', keys: WRONG.map((p) => `${p}#`).join(''), service: 'VoiceMail' });
});

test("Authenticate(): wrong PINs keyed by RFC 4733 get the caller's address banned and logged", { timeout: 90_000 }, async () => {
  await guess({ caller: '1003', address: '127.0.0.4', number: '8600', keys: WRONG.map((p) => `${p}#`).join(''), service: 'Authenticate' });
});

test("the attendance line: wrong student PINs get the caller's address banned and logged", { timeout: 90_000 }, async () => {
  await guess({ caller: '1004', address: '127.0.0.5', number: '800', keys: `240001#${WRONG.map((p) => `${p}#`).join('')}`, service: 'attendance' });
});
