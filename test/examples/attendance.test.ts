// The shipped attendance IVR (examples/attendance) run end to end through the
// dialplan engine: the real extensions.conf and palisade.yaml, a real SQLite
// database built from attendance.sql, and an in-memory caller typing digits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/security/config/load-config.js';
import { DialplanRegistry } from '../../src/dialplan/dialplan-registry.js';
import { loadDialplan, type LoadedDialplan } from '../../src/dialplan/load-dialplan.js';
import type { DialResult } from '../../src/channel/channel.js';
import { MemoryChannel } from '../support/memory-channel.js';
import type { PinOutcome } from '../../src/core/pin-outcome.js';
import { repoRoot } from '../helpers/paths.js';

const example = join(repoRoot(), 'examples', 'attendance');
const dir = mkdtempSync(join(tmpdir(), 'pal-attendance-'));
let loaded: LoadedDialplan;
const voicemails: string[][] = [];
const pinOutcomes: PinOutcome[] = [];

// the built-in applications and the stand-ins below; parser and engine share it
const registry = DialplanRegistry.builtin();

before(() => {
  // VoiceMail and VoiceMailMain belong to the voicemail feature (tested there); stand-ins record how the dialplan calls them
  registry.registerApp('VoiceMail', {
    synopsis: 'test stand-in',
    async run(call, args) {
      voicemails.push(args);
      call.vars.set('VMSTATUS', 'SUCCESS');
    },
  });
  registry.registerApp('VoiceMailMain', { synopsis: 'test stand-in', async run() {} });
  // a fresh install: the database does not exist yet and is built from attendance.sql (create_from)
  // every file the example ships (palisade.yaml names its neighbours: the dialplan and the SQL script)
  for (const f of readdirSync(example)) if (statSync(join(example, f)).isFile()) copyFileSync(join(example, f), join(dir, f));
  const yamlPath = join(dir, 'palisade.yaml');
  const cfg = parseConfig(readFileSync(yamlPath, 'utf8'), yamlPath);
  assert.equal(existsSync(join(dir, 'var', 'attendance.db')), false);
  loaded = loadDialplan(cfg, undefined, { pinOutcome: (o) => void pinOutcomes.push(o), registry })!;
  assert.equal(existsSync(join(dir, 'var', 'attendance.db')), true);
});
after(async () => {
  await loaded?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(script: string, dial?: () => DialResult): Promise<MemoryChannel> {
  const ch = new MemoryChannel({ context: 'internal', dialed: '800', callerIdNum: '1001', script, onDial: dial });
  await loaded.engine.run(ch, ch.media);
  return ch;
}

test('right ID and PIN: greeting, prompts, the figure and "percent", then goodbye', async () => {
  const ch = await call('240001#7294#9');
  assert.deepEqual(ch.played, ['attendance-welcome', 'attendance-enter-id', 'attendance-enter-pin', 'attendance-your-figure', 'percent', 'attendance-another', 'goodbye']);
  assert.ok(ch.events.includes('sayNumber:80'));
  assert.equal(ch.vars.get('FIGURE'), '80');
  assert.equal(ch.cause, 'normal');
  assert.match(ch.vars.get('DIALPLAN_PATH')!, /attendance,s,9:DBLookup/);
});

test('the PIN never stays in a variable, LASTDATA or the path trace', async () => {
  const ch = await call('240003#3916#~');
  assert.ok(ch.events.includes('sayNumber:100'));
  for (const [k, v] of ch.vars) assert.ok(!v.includes('3916'), `${k} holds the PIN`);
});

test('a wrong PIN plays "invalid" and asks for the PIN again', async () => {
  const ch = await call('240002#1111#5820#~');
  assert.deepEqual(ch.played.slice(0, 6), ['attendance-welcome', 'attendance-enter-id', 'attendance-enter-pin', 'invalid', 'attendance-enter-pin', 'attendance-your-figure']);
  assert.ok(ch.events.includes('sayNumber:75'));
});

test('three wrong PINs end the call with goodbye and no figure', async () => {
  const ch = await call('240002#1111#2222#3333#');
  assert.equal(ch.played.filter((p) => p === 'invalid').length, 3);
  assert.equal(ch.played.at(-1), 'goodbye');
  assert.ok(!ch.events.some((e) => e.startsWith('sayNumber')));
});

test('each wrong PIN is reported to the defences against the caller (ReportAuthFailure), with the student ID and never the PIN', async () => {
  pinOutcomes.length = 0;
  const ch = new MemoryChannel({
    context: 'internal',
    dialed: '800',
    callerIdNum: '1001',
    script: '240002#1111#2222#3333#',
    peer: { transport: 'tls', address: '198.51.100.40', port: 5061, account: '1001' },
  });
  await loaded.engine.run(ch, ch.media);
  assert.deepEqual(
    pinOutcomes.map((o) => [o.ok, o.service, o.account, o.call.peer.address, o.call.peer.account]),
    Array(3).fill([false, 'attendance', '240002', '198.51.100.40', '1001']),
  );
  assert.doesNotMatch(JSON.stringify(pinOutcomes.map((o) => ({ ...o, call: o.call.id }))), /1111|2222|3333|5820/);
  pinOutcomes.length = 0;
  await call('240002#5820#~');
  assert.deepEqual(pinOutcomes, [], 'the right PIN reports nothing');
});

test('another student from the same call', async () => {
  const ch = await call('240001#7294#1240004#8042#~');
  assert.deepEqual(
    ch.events.filter((e) => e.startsWith('sayNumber')),
    ['sayNumber:80', 'sayNumber:50'],
  );
});

test('* and an extension puts the caller through; no answer or busy goes to voicemail', async () => {
  voicemails.length = 0;
  const na = await call('*1002#', () => ({ status: 'NOANSWER' }));
  assert.ok(na.events.includes('dial:SIP/1002:20000:'), na.events.join(' '));
  const busy = await call('*1002#', () => ({ status: 'BUSY' }));
  assert.ok(busy.events.includes('dial:SIP/1002:20000:'));
  assert.deepEqual(voicemails, [
    ['1002@default', 'u'],
    ['1002@default', 'b'],
  ]);
  const answered = await call('*1002#', () => ({ status: 'ANSWER', answeredMs: 30_000 }));
  assert.equal(answered.vars.get('DIALSTATUS'), 'ANSWER');
  assert.equal(voicemails.length, 2);
});

test('an extension that does not exist is "invalid" and back to the menu', async () => {
  const ch = await call('*55#~');
  assert.deepEqual(ch.played.slice(0, 4), ['attendance-welcome', 'attendance-enter-id', 'invalid', 'attendance-enter-id']);
  assert.ok(!ch.events.some((e) => e.startsWith('dial:')));
});

test('silence at the ID prompt (two attempts) says goodbye', async () => {
  const ch = await call('~~');
  assert.deepEqual(ch.played, ['attendance-welcome', 'attendance-enter-id', 'attendance-enter-id', 'goodbye']);
});

test('the database is opened read-only: the running IVR cannot change it', async () => {
  // the look-up connection refuses writes even through its own handle
  const yamlPath = join(dir, 'palisade.yaml');
  const cfg = parseConfig(readFileSync(yamlPath, 'utf8'), yamlPath);
  cfg.dialplan.queries.sneaky = { datasource: 'attendance', sql: "UPDATE students SET name = 'x' WHERE student_id = ?", params: 1, at: cfg.dialplan.queries.attendance_figure!.at };
  assert.throws(() => loadDialplan(cfg, undefined, { registry }), /dialplan\.queries\.sneaky: the query must be a read-only SELECT/);
});

test('the database being unavailable plays attendance-unavailable, never a crash', async () => {
  const yamlPath = join(dir, 'palisade.yaml');
  const cfg = parseConfig(readFileSync(yamlPath, 'utf8'), yamlPath);
  const broken = loadDialplan(cfg, undefined, { registry })!;
  await broken.datasources!.close();
  const ch = new MemoryChannel({ context: 'internal', dialed: '800', script: '240001#7294#' });
  await broken.engine.run(ch, ch.media);
  assert.ok(ch.played.includes('attendance-unavailable'));
  assert.equal(ch.vars.get('DBLOOKUPSTATUS'), 'ERROR');
  assert.equal(ch.played.at(-1), 'goodbye');
});
