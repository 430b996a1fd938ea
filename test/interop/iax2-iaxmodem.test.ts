// IAX2 against an independent implementation: iaxmodem (libiax2 + spandsp,
// Debian's package) registers to a real `palisade start` with its IAX2
// account, places a call that Palisade's dialplan answers with a 440 Hz
// prompt (heard in iaxmodem's own recording of what it received), and a
// second modem receives a call through Dial(IAX2/1002) and answers it with
// ATA: the two modems' answer and calling tones cross Palisade's bridge.
// tshark captures every frame on the IAX2 port and its dissector must find
// nothing malformed in what Palisade sent. CDR rows are read back from the
// database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts } from '../helpers/sipp.js';
import { makeUsers } from '../helpers/users.js';
import { startIaxModem, type IaxModem } from '../helpers/iaxmodem.js';
import { startCapture, stopCapture } from '../helpers/tshark.js';
import { askServer } from '../../src/admin/control-client.js';
import { goertzelPower, makeToneWav } from '../helpers/audio.js';
import { pollUntil } from '../helpers/wait.js';

const IAX_A = 'Ix-Vb7Qm3Tz9Kp2Wd5R';
const IAX_B = 'Ix-Lc4Hs8Nf6Yg1Jx3E';

/** the half second of a recording where `hz` stands out most against two neighbours (300 Hz below, 700 Hz above) */
function toneRatio(samples: Int16Array, hz: number): { ratio: number; rms: number; at: number } {
  const f = Float64Array.from(samples, (s) => s / 32768);
  let best = { ratio: 0, rms: 0, at: -1 };
  for (let from = 0; from + 4000 <= f.length; from += 2000) {
    let e = 0;
    for (let i = from; i < from + 4000; i++) e += f[i]! * f[i]!;
    const rms = Math.sqrt(e / 4000);
    if (rms < 0.01) continue;
    const p = goertzelPower(f, from, from + 4000, hz, 8000);
    const q = goertzelPower(f, from, from + 4000, hz + 700, 8000) + goertzelPower(f, from, from + 4000, hz - 300, 8000);
    const ratio = p / Math.max(q, 1e-12);
    if (ratio > best.ratio) best = { ratio, rms, at: from / 8000 };
  }
  return best;
}

test('iaxmodem registers over IAX2, places a call the dialplan answers and receives one through Dial(IAX2/...); tshark decodes every frame', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iax2-modem-'));
  const users = makeUsers(2, { first: 1001 });
  const [iaxPort, portA, portB] = await freeLocalPorts(3);
  mkdirSounds(dir);
  writeFileSync(
    join(dir, 'extensions.conf'),
    ['[default]', 'exten => 600,1,Answer()', ' same => n,Playback(tone-440)', ' same => n,Hangup()', 'exten => _10XX,1,Dial(IAX2/${EXTEN},20)', ' same => n,Hangup()', ''].join(
      '\n',
    ),
  );
  const pcap = join(dir, 'iax2.pcap');
  const cap = await startCapture(pcap, `udp port ${iaxPort}`);
  let pal: PalisadeProcess | null = null;
  const modems: IaxModem[] = [];
  try {
    pal = await startPalisade({
      users,
      transports: ['udp'],
      extraYaml: [
        'dialplan:',
        `  file: ${join(dir, 'extensions.conf')}`,
        'prompts:',
        `  custom_dir: ${join(dir, 'sounds')}`,
        'iax2:',
        `  listen: ["udp:127.0.0.1:${iaxPort}"]`,
        // libiax2 (2007) predates call tokens: Asterisk's calltokenoptional for its address
        '  calltoken_optional: ["127.0.0.1"]',
        '  accounts:',
        `    - { extension: "1001", secret: "${IAX_A}" }`,
        `    - { extension: "1002", secret: "${IAX_B}" }`,
      ].join('\n'),
    });
    const base = { server: '127.0.0.1', serverPort: iaxPort };
    const a = await startIaxModem({ ...base, name: `palisade-${process.pid}-a`, device: join(dir, 'ttyIAXa'), port: portA!, peername: '1001', secret: IAX_A, cidnumber: '1001' });
    modems.push(a);
    const b = await startIaxModem({ ...base, name: `palisade-${process.pid}-b`, device: join(dir, 'ttyIAXb'), port: portB!, peername: '1002', secret: IAX_B, cidnumber: '1002' });
    modems.push(b);
    await pal.waitForEvent((e) => e.event === 'iax2-registered' && e.username === '1001', 15_000);
    await pal.waitForEvent((e) => e.event === 'iax2-registered' && e.username === '1002', 15_000);

    // 1. the modem places a call; Palisade answers and plays 440 Hz for 2 s, then hangs up
    // S7: seconds to wait for a carrier before hanging up (the modems cannot train over this path quickly);
    // modem B is left untouched until it rings (after an ATZ iaxmodem answers calls with Busy for a while)
    a.at('ATZS7=6');
    await a.waitFor('OK', 5000);
    let mark = a.output.length;
    a.at('ATD600');
    await pal.waitForEvent((e) => e.event === 'iax2-channel-answered', 10_000);
    await a.waitFor('NO CARRIER', 20_000, mark);
    const ended = await pal.waitForEvent((e) => e.event === 'iax2-channel-ended' && String(e.channel).startsWith('IAX2/1001-'), 10_000);
    assert.match(String(ended.path), /default,600,2:Playback/);
    // iaxmodem's own recording of what it received over IAX2
    await new Promise((r) => setTimeout(r, 300));
    const heard = toneRatio(a.recording(), 440);
    assert.ok(heard.rms > 0.05 && heard.ratio > 20, `modem A received the 440 Hz prompt: ${JSON.stringify(heard)}`);

    // 2. modem A calls 1002: Dial(IAX2/1002) rings modem B, which answers with ATA
    mark = a.output.length;
    const markB = b.output.length;
    a.at('ATD1002');
    await b.waitFor('RING', 10_000, markB);
    b.at('ATS7=6A');
    const bridged = await pal.waitForEvent((e) => e.event === 'iax2-channel-bridged', 10_000);
    assert.match(String(bridged.to), /^IAX2\/1002-/);
    // 4 s of the modems' tones crossing the bridge (they never train over this path), then the administrator ends the call
    await new Promise((r) => setTimeout(r, 4000));
    const sock = join(pal.dir, 'control.sock');
    await askServer({ socket: sock }, () => ({ control: { socket: sock } }), 'iax2-hangup', { channel: bridged.channel });
    await pal.waitForEvent((e) => e.event === 'iax2-channel-ended' && String(e.channel).startsWith('IAX2/1001-') && e.channel !== ended.channel, 60_000);
    // both directions crossed the bridge: what B's leg received went out to A, and the reverse
    const legEnded = await pal.waitForEvent((e) => e.event === 'iax2-dial-ended', 10_000);
    const chEnded = pal
      .events()
      .filter((e) => e.event === 'iax2-channel-ended')
      .at(-1)!;
    const leg = legEnded.frames as { received: number; sent: number };
    const ch = chEnded.frames as { received: number; sent: number };
    assert.ok(leg.received > 50 && ch.sent > 50, `B → A: leg received ${leg.received}, A's channel sent ${ch.sent}`);
    assert.ok(ch.received > 50 && leg.sent > 50, `A → B: A's channel received ${ch.received}, leg sent ${leg.sent}`);

    // CDR: both calls, the second one answered through Dial (its row is written as it ends: wait for both, up to 10 s)
    const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true });
    const iaxRows = () => db.prepare("SELECT src, dst, disposition, userfield, channel FROM cdr WHERE channel LIKE 'IAX2/%' ORDER BY start").all() as Array<Record<string, string>>;
    await pollUntil(() => iaxRows().length >= 2);
    const rows = iaxRows();
    db.close();
    assert.deepEqual(
      rows.map((r) => [r.src, r.dst, r.disposition]),
      [
        ['1001', '600', 'ANSWERED'],
        ['1001', '1002', 'ANSWERED'],
      ],
    );
    assert.equal(rows[1]!.userfield, 'DIALSTATUS=ANSWER');
  } finally {
    for (const m of modems) {
      await m.stop();
      m.removeRecordings();
    }
    await pal?.stop();
    await stopCapture(cap);
  }
  // tshark's IAX2 dissector on everything Palisade sent
  const dissect = (filter: string) =>
    spawnSync('tshark', ['-r', pcap, '-d', `udp.port==${iaxPort},iax2`, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', timeout: 60_000 })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
  const ours = dissect(`udp.srcport==${iaxPort} && iax2`);
  const bad = dissect(`udp.srcport==${iaxPort} && (_ws.malformed || _ws.expert.severity >= "Warning" || !iax2)`);
  const kinds = spawnSync('tshark', ['-r', pcap, '-d', `udp.port==${iaxPort},iax2`, '-Y', `udp.srcport==${iaxPort} && iax2.type==6`, '-T', 'fields', '-e', 'iax2.iax.subclass'], {
    encoding: 'utf8',
  }).stdout;
  rmSync(dir, { recursive: true, force: true });
  assert.ok(ours.length > 200, `${ours.length} frames from Palisade decoded as IAX2`);
  assert.deepEqual(bad, [], 'tshark found nothing malformed in Palisade frames');
  // REGAUTH 14, REGACK 15, AUTHREQ 8, ACCEPT 7, NEW 1 (to modem B), ACK 4, HANGUP 5
  for (const sub of ['14', '15', '8', '7', '1', '4']) assert.ok(kinds.split('\n').includes(sub), `Palisade sent IAX subclass ${sub}`);
});

function mkdirSounds(dir: string): void {
  spawnSync('mkdir', ['-p', join(dir, 'sounds')]);
  makeToneWav(join(dir, 'sounds', 'tone-440.wav'), 440, 2, 0.5);
}
