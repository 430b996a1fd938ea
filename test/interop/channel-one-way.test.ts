// One-way audio on a call the dialplan answers (issue 14): a SIPp caller
// that sends no RTP reaches an extension that answers and plays music on
// hold. Palisade sends, hears nothing, and names the caller (leg a) as the
// silent side within `quality.one_way_after` seconds of answer, while the
// call is still up; the CDR row carries the flag. A caller that does send
// RTP to the same extension is not flagged (the check reached the same
// channel code and found audio both ways).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { runSipp } from '../helpers/sipp.js';
import { makeUsers, sippCsv } from '../helpers/users.js';

describe('one-way audio on a dialplan channel', () => {
  let pal: PalisadeProcess;
  const users = makeUsers(1, { first: 4300 });

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oneway-dp-'));
    const conf = join(dir, 'extensions.conf');
    writeFileSync(conf, ['[default]', 'exten => 600,1,Answer()', ' same => n,MusicOnHold(default,8)', ' same => n,Hangup()', ''].join('\n'));
    pal = await startPalisade({ users, extraYaml: ['quality:', '  one_way_after: 2', 'dialplan:', `  file: ${conf}`, ''].join('\n') });
  });
  after(async () => {
    await pal?.stop();
  });

  const row = (): Record<string, unknown> => {
    const db = new Database(join(pal.dir, 'palisade.db'), { readonly: true });
    try {
      return db.prepare('SELECT * FROM cdr ORDER BY id DESC LIMIT 1').get() as Record<string, unknown>;
    } finally {
      db.close();
    }
  };

  /** a log event of this call: written after `t0` (the process's earlier lines are there too) */
  const since = (t0: string, name: string) => (e: Record<string, unknown>) => e.event === name && String(e.time) >= t0;

  async function call(label: string, sendRtp: boolean, t0: string): Promise<void> {
    const csv = join(pal.dir, `${label}.csv`);
    writeFileSync(csv, sippCsv(users, { peers: ['600'] }));
    const ended = pal.waitForEvent(since(t0, 'channel-ended'), 30_000);
    const c = await runSipp({
      scenario: 'call-auth-uac',
      target: pal.target,
      inf: [csv],
      ...(sendRtp ? { set: { rtp_pcap: '1' } } : {}),
      calls: 1,
      rate: 1,
      pauseMs: 4500,
      timeoutS: 30,
      dir: pal.dir,
    });
    assert.equal(c.stats?.successful, 1, c.errors + c.stdout.slice(-1000));
    await ended;
  }

  test('a caller that sends no RTP is named as the silent side while the call is up, and the CDR is flagged one-way-a', { timeout: 60_000 }, async () => {
    const t0 = new Date().toISOString();
    const seen = pal.waitForEvent(since(t0, 'one-way-audio'), 20_000);
    const answered = pal.waitForEvent(since(t0, 'channel-answered'), 20_000);
    seen.catch(() => undefined);
    answered.catch(() => undefined);
    const calling = call('silent', false, t0);
    calling.catch(() => undefined);
    const a = await answered;
    const e = await seen;
    assert.equal(e.silent, 'a');
    assert.equal(e.silentParty, 'caller');
    assert.ok(Number(e.heardPackets) > 50, `Palisade sent ${String(e.heardPackets)} packets of music`);
    assert.equal(e.channel, a.channel);
    const atMs = Date.parse(String(e.time)) - Date.parse(String(a.time));
    assert.ok(atMs >= 1900 && atMs < 4500, `flagged ${atMs} ms after answer, while the call was up`);
    await calling;
    assert.match(String(row().rtp_quality_flags), /one-way-a/);
  });

  test('a caller that sends RTP to the same extension is not flagged', { timeout: 60_000 }, async () => {
    const t0 = new Date().toISOString();
    await call('talking', true, t0);
    const r = row();
    assert.ok(Number(r.rtp_a_rx_packets) > 100, 'the caller’s RTP reached the channel');
    assert.doesNotMatch(String(r.rtp_quality_flags ?? ''), /one-way/);
    // the call lasted past the check (4.5 s > 2 s) and no one-way-audio line was written for it
    await assert.rejects(pal.waitForEvent(since(t0, 'one-way-audio'), 10), /no matching Palisade event/);
  });
});
