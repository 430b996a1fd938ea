// The shipped attendance line (examples/attendance) end to end with a real
// phone: `palisade start` on the example's configuration (ports moved to free
// ones), baresip registered as 1001 dials 800 and types the student ID and
// PIN as RFC 4733 events. What baresip heard must hold the prompts of the
// branch taken (speech duration against the prompt files), and the channel's
// dialplan path and the CDR show which branch ran; the wrong-PIN path too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Baresip, findFreePort } from '../helpers/baresip.js';
import { analyseWav, makeToneWav } from '../helpers/audio.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { repoRoot } from '../helpers/paths.js';
import { defaultPromptDir } from '../../src/main.js';
import { generatePrompts } from '../../src/media/prompts/generate-prompts.js';
import { sayNumberPrompts } from '../../src/media/prompts/say.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const example = join(repoRoot(), 'examples', 'attendance');

/** seconds of speech in a prompt, as the analyser counts it in a recording */
const speech = (name: string): number => analyseWav(join(defaultPromptDir(), `${name}.wav`), 20, 0.01).activeSec;

interface Site {
  dir: string;
  sipPort: number;
  secret: string;
  lines: string[];
  proc: ChildProcess;
}

async function startExample(): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'attendance-'));
  for (const f of ['extensions.conf', 'attendance.sql', 'voicemail.conf']) copyFileSync(join(example, f), join(dir, f));
  const [sipPort] = await freeLocalPorts(1);
  const [rtp] = await freeLocalPorts(1, 40);
  const rtpMin = rtp! % 2 === 0 ? rtp! : rtp! + 1;
  let yaml = readFileSync(join(example, 'palisade.yaml'), 'utf8').replace('udp:127.0.0.1:5060', `udp:127.0.0.1:${sipPort}`);
  yaml += `rtp:\n  ports: ${rtpMin}-${rtpMin + 37}\n  address: 127.0.0.1\ncontrol:\n  socket: ${join(dir, 'c.sock')}\n`;
  writeFileSync(join(dir, 'palisade.yaml'), yaml);
  const secret = /number: "1001"[\s\S]*?secret: "([^"]+)"/.exec(yaml)![1]!;
  const proc = spawn(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'start', '--config', join(dir, 'palisade.yaml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "ready" within 20 s: ${err}\n${lines.join('\n')}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      partial += d.toString();
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        lines.push(line);
        if (line.includes('"event":"ready"')) {
          clearTimeout(t);
          resolve();
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`palisade exited (${code}): ${err}`)));
  });
  return { dir, sipPort: sipPort!, secret, lines, proc };
}

async function stopExample(s: Site): Promise<void> {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    await exited;
  }
  rmSync(s.dir, { recursive: true, force: true });
}

async function caller(s: Site, slot: number): Promise<Baresip> {
  const audio = join(s.dir, `quiet-${slot}.wav`);
  makeToneWav(audio, 300, 40, 0.001); // a near-silent microphone
  const b = new Baresip({
    name: `student${slot}`, baseDir: s.dir, user: '1001', domain: `127.0.0.1:${s.sipPort}`, password: s.secret, regint: 600,
    sipPort: await findFreePort(2), ctrlPort: await findFreePort(1, 39000, 39999), audioSource: audio,
    rtpPorts: [46000 + slot * 100 + (process.pid % 5) * 20, 46019 + slot * 100 + (process.pid % 5) * 20], maxLifetimeSec: 90,
  });
  await b.start();
  await b.waitRegistered(5000);
  return b;
}

function channelEnded(s: Site): Record<string, unknown> | undefined {
  return s.lines.map((l) => (l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : {})).find((e) => e.event === 'channel-ended');
}

/** speech heard by the phone, against the prompts the branch plays */
function checkHeard(b: Baresip, prompts: string[]): void {
  const heard = analyseWav(b.recordings().dec[0]!, 20, 0.01).activeSec;
  const expected = prompts.reduce((t, p) => t + speech(p), 0);
  assert.ok(Math.abs(heard - expected) <= 0.2 * expected + 0.3, `heard ${heard.toFixed(2)} s of speech; the prompts ${prompts.join(' ')} hold ${expected.toFixed(2)} s`);
}

test('attendance line: right student ID and PIN by RFC 4733 → the figure (80 percent), goodbye', async () => {
  await generatePrompts(defaultPromptDir());
  const site = await startExample();
  const b = await caller(site, 0);
  try {
    await b.dial(`sip:800@127.0.0.1:${site.sipPort}`);
    await b.waitEvent('CALL_ESTABLISHED', 5000);
    await sleep((speech('attendance-welcome') + speech('attendance-enter-id')) * 1000 + 600);
    await b.sendDtmf('240001#');
    await sleep(1000 + speech('attendance-enter-pin') * 1000 + 600);
    await b.sendDtmf('7294#');
    const figure = ['attendance-your-figure', ...sayNumberPrompts(80), 'percent', 'attendance-another'];
    await sleep(1000 + figure.reduce((t, p) => t + speech(p), 0) * 1000 + 600);
    await b.sendDtmf('9');
    await b.waitEvent('CALL_CLOSED', 10_000);
    await sleep(300);
    const ended = channelEnded(site);
    const path = String(ended?.path ?? '');
    assert.match(path, /attendance,s,\d+:DBLookup/, path);
    assert.match(path, /attendance,s,\d+:SayNumber.*attendance,s,\d+:Hangup$/, path);
    checkHeard(b, ['attendance-welcome', 'attendance-enter-id', 'attendance-enter-pin', ...figure, 'goodbye']);
    const db = new Database(join(site.dir, 'var', 'palisade.db'), { readonly: true });
    const cdr = db.prepare("SELECT * FROM cdr WHERE dst = '800'").all() as Array<Record<string, unknown>>;
    db.close();
    assert.equal(cdr.length, 1);
    assert.equal(cdr[0]!.disposition, 'ANSWERED');
    assert.equal(cdr[0]!.lastapp, 'Hangup');
    assert.equal(cdr[0]!.dcontext, 'internal');
    // the PIN is nowhere in the log
    assert.ok(!site.lines.some((l) => l.includes('7294')), 'the PIN reached the log');
  } finally {
    await b.stop();
    await stopExample(site);
  }
});

test('attendance line: three wrong PINs → "invalid" each time, no figure, goodbye', async () => {
  await generatePrompts(defaultPromptDir());
  const site = await startExample();
  const b = await caller(site, 1);
  try {
    await b.dial(`sip:800@127.0.0.1:${site.sipPort}`);
    await b.waitEvent('CALL_ESTABLISHED', 5000);
    await sleep((speech('attendance-welcome') + speech('attendance-enter-id')) * 1000 + 600);
    await b.sendDtmf('240002#');
    await sleep(1000 + speech('attendance-enter-pin') * 1000 + 600);
    for (const pin of ['1111#', '2222#']) {
      await b.sendDtmf(pin);
      await sleep(1000 + (speech('invalid') + speech('attendance-enter-pin')) * 1000 + 600);
    }
    await b.sendDtmf('3333#');
    await b.waitEvent('CALL_CLOSED', 10_000);
    await sleep(300);
    const path = String(channelEnded(site)?.path ?? '');
    assert.equal(path.match(/:DBLookup/g)?.length, 3, path);
    assert.doesNotMatch(path, /SayNumber/);
    const p = 'attendance-enter-pin';
    checkHeard(b, ['attendance-welcome', 'attendance-enter-id', p, 'invalid', p, 'invalid', p, 'invalid', 'goodbye']);
  } finally {
    await b.stop();
    await stopExample(site);
  }
});
