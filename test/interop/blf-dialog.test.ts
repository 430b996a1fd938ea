// Busy-lamp field: a SIPp subscriber (a desk phone's BLF key) watches a
// colleague through the `dialog` event package (RFC 4235), driven by the
// dialplan's `hint` line. Two real phones (baresip) make a call through
// Palisade's Dial(): the watcher gets dialog-info NOTIFYs as the
// colleague's phone rings (early, the caller as remote identity), answers
// (confirmed) and hangs up (no dialog: idle), with rising versions. The
// `blf` control command shows the same lamps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baresip } from '../helpers/baresip.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, startSipp } from '../helpers/sipp.js';
import { makeUsers, sippCsv, type TestUser } from '../helpers/users.js';
import { ask } from '../helpers/office-phones.js';
import { baresipPhone } from '../helpers/office-phones.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const phone = (pal: PalisadeProcess, name: string, user: TestUser, rtp: number, answerMode: 'auto' | 'manual'): Promise<Baresip> =>
  baresipPhone(pal, name, user, { rtp, answerMode, seconds: 30 });

interface Lamp {
  version: number;
  states: string[];
  remotes: string[];
  directions: string[];
}

/** the dialog-info documents of the NOTIFYs in a SIPp message trace, in order */
function lamps(messages: string): Lamp[] {
  const out: Lamp[] = [];
  for (const block of messages.split(/^-{10,}.*$/m)) {
    if (!/^NOTIFY /m.test(block) || !/^Event:\s*dialog/im.test(block)) continue;
    const xml = block.slice(block.indexOf('<?xml'));
    const version = Number(/<dialog-info[^>]*\sversion="(\d+)"/.exec(xml)?.[1] ?? NaN);
    assert.match(xml, /<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info"[^>]*state="full"/, 'RFC 4235 full state');
    out.push({
      version,
      states: [...xml.matchAll(/<state>([a-z]+)<\/state>/g)].map((m) => m[1]!),
      remotes: [...xml.matchAll(/<remote><identity>([^<]+)<\/identity>/g)].map((m) => m[1]!),
      directions: [...xml.matchAll(/direction="([a-z]+)"/g)].map((m) => m[1]!),
    });
  }
  return out;
}

test('BLF: a SIPp subscriber sees a colleague ring (early), answer (confirmed) and hang up (idle) in dialog-info NOTIFYs', { timeout: 120_000 }, async (t) => {
  const [alice, bob, watcher] = makeUsers(3, { first: 1001 });
  const dir = mkdtempSync(join(tmpdir(), 'pal-blf-'));
  const conf = join(dir, 'extensions.conf');
  writeFileSync(conf, `[default]\nexten => ${bob!.number},hint,SIP/${bob!.number}\nexten => _1XXX,1,Dial(SIP/\${EXTEN},20)\n`);
  const pal = await startPalisade({ users: [alice!, bob!, watcher!], extraYaml: `registrar:\n  qualify_interval: 0\ndialplan:\n  file: ${conf}` });
  const phones: Baresip[] = [];
  try {
    const [rtp] = await freeLocalPorts(1, 200);
    const a = await phone(pal, 'alice', alice!, rtp!, 'auto');
    const b = await phone(pal, 'bob', bob!, rtp! + 100, 'manual');
    phones.push(a, b);
    const csv = join(pal.dir, 'watcher.csv');
    writeFileSync(csv, sippCsv([watcher!]));
    const sipp = await startSipp({
      scenario: 'blf-subscribe',
      target: pal.target,
      inf: [csv],
      set: { watch: bob!.number },
      calls: 1,
      rate: 1,
      traceMsg: true,
      timeoutS: 60,
      dir: pal.dir,
    });
    await pal.waitForEvent((e) => e.event === 'dialog-subscribed' && e.resource === bob!.number, 10_000);
    await sleep(500);
    await a.dial(`sip:${bob!.number}@${pal.target}`);
    await b.waitEvent('CALL_INCOMING', 8000);
    await sleep(1500);
    const ringing = (await ask(pal, 'blf')) as Array<{ resource: string; dialogs: string[] }>;
    await b.accept();
    await b.waitEvent('CALL_ESTABLISHED', 8000);
    await sleep(1500);
    const talking = (await ask(pal, 'blf')) as Array<{ resource: string; dialogs: string[] }>;
    await a.hangup();
    await b.waitEvent('CALL_CLOSED', 8000);
    // the subscriber ends after 6 s without a NOTIFY
    const r = await sipp.done;
    assert.equal(r.stats?.successful, 1, `the subscriber: ${r.errors}`);

    const seen = lamps(r.messages);
    t.diagnostic(seen.map((l) => `v${l.version}: ${l.states.join(',') || 'idle'} ${l.remotes.join(',')}`).join(' | '));
    // the lamp's course, repeated NOTIFYs of one state folded
    const course = seen.map((l) => l.states.join(',') || 'idle').filter((s, i, all) => i === 0 || s !== all[i - 1]);
    assert.deepEqual(course, ['idle', 'early', 'confirmed', 'idle']);
    const early = seen.find((l) => l.states[0] === 'early')!;
    assert.deepEqual(early.directions, ['recipient'], 'Bob is called');
    assert.match(early.remotes[0] ?? '', new RegExp(`^sip:${alice!.number}@`), 'the remote identity is the caller');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.version > seen[i - 1]!.version, 'RFC 4235 §4.1.2: versions rise');
    // the control command shows the same lamp
    assert.deepEqual(ringing.find((x) => x.resource === bob!.number)?.dialogs, [`recipient early ${alice!.number}`]);
    assert.deepEqual(talking.find((x) => x.resource === bob!.number)?.dialogs, [`recipient confirmed ${alice!.number}`]);
  } finally {
    for (const p of phones) await p.stop();
    await pal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
