// The spool on disk: folders, moves, deletes, and what a kill -9 in the
// middle of any of them leaves behind once recover() has run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MailboxStore } from './mailbox-store.js';
import { parseWavHeader, pcmToWav, tone } from './wav-info.js';

const BOX = { context: 'default', number: '756' };
const meta = (t: number) => ({ callerIdNum: '1001', callerIdName: 'Bob', origTime: t, durationMs: 1000, urgent: false, channel: 'test' });

test('commit, list in order, move to Old, remove; counts follow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-store-'));
  try {
    const s = new MailboxStore(dir);
    const ids: string[] = [];
    for (const t of [3000, 1000, 2000]) {
      const tmp = await s.tempPath(BOX);
      writeFileSync(tmp, pcmToWav(tone(440, 500)));
      ids.push((await s.commit(BOX, tmp, meta(t))).id);
    }
    const inbox = await s.list(BOX, 'INBOX');
    assert.deepEqual(
      inbox.map((m) => m.origTime),
      [1000, 2000, 3000],
    );
    assert.ok(existsSync(join(dir, 'default/756/INBOX', `${ids[0]}.wav`)));
    const moved = await s.move(inbox[0]!, 'Old');
    assert.equal(moved.folder, 'Old');
    assert.ok(existsSync(moved.wavPath));
    await s.remove(inbox[1]!);
    assert.deepEqual(await s.counts(BOX), { newCount: 1, oldCount: 1, urgentNew: 0, urgentOld: 0 });
    assert.equal((await s.find(BOX, moved.id))?.folder, 'Old');
    assert.equal(await s.find(BOX, '../../etc'), null);
    assert.deepEqual(readdirSync(join(dir, 'default/756/tmp')), []);
    assert.throws(() => s.boxDir({ context: '..', number: '756' }), /PAL_ERR_VM_PATH/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recover(): finishes a half move, drops uncommitted recordings and orphan WAVs', async () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'palisade-store-'));
  try {
    const s = new MailboxStore(dir2);
    const root = join(dir2, 'default/756');
    const write = (p: string, body: string | Buffer) => writeFileSync(join(root, p), body);
    for (const d of ['INBOX', 'Old', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    const wav = pcmToWav(tone(440, 200));
    const m = (id: string) => JSON.stringify({ id, mailbox: '756', context: 'default', ...meta(1) });
    write('INBOX/a.json', m('a')); // half move: its WAV is already in Old
    write('Old/a.wav', wav);
    write('INBOX/b.wav', wav); // WAV renamed in, index entry never written
    write('INBOX/c.json', m('c')); // whole message
    write('INBOX/c.wav', wav);
    write('Old/d.json', m('d')); // deleted WAV, index entry left (cannot happen by our order, but tolerate)
    write('tmp/123-abc.wav', wav.subarray(0, 100)); // recording in progress
    const r = await s.recover([BOX]);
    assert.deepEqual(r, { discarded: 3, repaired: 1 });
    assert.deepEqual(readdirSync(join(root, 'INBOX')).sort(), ['c.json', 'c.wav']);
    assert.deepEqual(readdirSync(join(root, 'Old')).sort(), ['a.json', 'a.wav']);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
});

// A child process deposits, moves and deletes 400 kB messages as fast as it
// can and is killed with SIGKILL at an arbitrary moment; after recover()
// every message in the index must have its whole WAV and nothing else remains.
const CHILD = `
import { writeFileSync } from 'node:fs';
const { MailboxStore } = await import(process.argv[1]);
const { pcmToWav, tone } = await import(process.argv[2]);
const s = new MailboxStore(process.argv[3]);
const box = { context: 'default', number: '756' };
const wav = pcmToWav(tone(440, 25000));
for (let i = 0; ; i++) {
  const tmp = await s.tempPath(box);
  writeFileSync(tmp, wav);
  let m = await s.commit(box, tmp, { callerIdNum: '1', callerIdName: '', origTime: Date.now(), durationMs: 25000, urgent: false, channel: 'c' });
  // the kill's delays count from the first whole message, so a loaded machine still tests a store with messages
  if (i === 0) process.stdout.write('go\\n');
  if (i % 3 === 1) m = await s.move(m, 'Old');
  if (i % 5 === 2) await s.remove(m);
}
`;

test('kill -9 at any moment never leaves a half message in the index', { timeout: 60_000 }, async () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const delay of [60, 130, 210, 290, 370]) {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-store-kill-'));
    try {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, join(here, 'mailbox-store.js'), join(here, 'wav-info.js'), dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<string | null>((r) => child.once('exit', (_code, signal) => r(signal)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        void exited.then(() => reject(new Error(`child exited early: ${err}`)));
      });
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL', `the child was killed, not crashed: ${err}`);

      const s = new MailboxStore(dir);
      await s.recover([BOX]);
      const root = join(dir, 'default/756');
      let messages = 0;
      for (const f of ['INBOX', 'Old'] as const) {
        const listed = await s.list(BOX, f);
        messages += listed.length;
        for (const m of listed) {
          const info = parseWavHeader(readFileSync(m.wavPath));
          assert.ok(info, `${m.wavPath} is a WAV`);
          assert.equal(statSync(m.wavPath).size, 44 + info.dataBytes, `${m.wavPath} is whole`);
          assert.equal(info.durationMs, 25000);
        }
        const files = existsSync(join(root, f)) ? readdirSync(join(root, f)) : [];
        assert.equal(files.length, listed.length * 2, `${f}: only whole message pairs remain (${files.join(' ')})`);
      }
      assert.deepEqual(existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [], []);
      assert.ok(messages > 0, `the first message (kept: neither moved nor removed) survives a kill ${delay} ms later`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
