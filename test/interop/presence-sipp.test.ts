// Presence (RFC 3856, PIDF RFC 3863) against a running Palisade with SIPp
// (issue 12 proof): a watcher in the same context subscribes to 2002 and
// gets, in order, closed (not registered) → open "Available" (2002
// registers) → on-the-phone (a call to 2002 is answered) → open again (the
// call ends) → busy "Do not disturb" (DND through the presence-dnd
// provider, then the office's DND that refuses calls) → away from 2002's own PUBLISH (RFC 3903, entity-tags). A
// watcher from another context, and any watcher of an extension that does
// not exist, get the same 403.
import { pidfs } from '../helpers/presence-notify.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, repoRoot, runSipp, startSipp } from '../helpers/sipp.js';
import { makeUsers, palisadeCsv, sippCsv, type TestUser } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';

const users = makeUsers(3, { first: 2001 });
const [caller, watched, watcher] = users as [TestUser, TestUser, TestUser];
const [stranger] = makeUsers(1, { first: 2901 }) as [TestUser];
const dir = mkdtempSync(join(tmpdir(), 'palisade-presence-'));
let pal: PalisadeProcess;
const ctl = (cmd: string, args: Record<string, unknown> = {}) => controlRequest(join(pal.dir, 'control.sock'), cmd, args);

async function nextPidf(file: string, seen: number, pred: (x: string) => boolean, what: string): Promise<{ doc: string; n: number }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const all = pidfs(file);
    const i = all.findIndex((d, k) => k >= seen && pred(d));
    if (i >= 0) return { doc: all[i]!, n: i + 1 };
    if (Date.now() > deadline) throw new Error(`no NOTIFY with ${what} within 15 s; bodies so far:\n${all.slice(seen).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const basic = (d: string) => /<basic>(\w+)<\/basic>/.exec(d)?.[1];
const note = (d: string) => /<note>([^<]*)<\/note>/.exec(d)?.[1];

before(async () => {
  for (const u of users) writeFileSync(join(dir, `${u.number}.csv`), sippCsv([u]));
  writeFileSync(join(dir, 'stranger.csv'), sippCsv([stranger]));
  writeFileSync(join(dir, 'stranger-import.csv'), palisadeCsv([stranger]));
  pal = await startPalisade({ users, extraYaml: 'registrar:\n  qualify_interval: 0\n' });
  // a colleague of another department: the same server, context "sales"
  const r = spawnSync(
    process.execPath,
    [join(repoRoot(), 'bin', 'palisade.js'), 'users', 'import', join(dir, 'stranger-import.csv'), '--config', pal.configPath, '--context', 'sales'],
    {
      cwd: pal.dir,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  await ctl('reload-extensions');
});
after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('presence (RFC 3856) with SIPp', () => {
  test('a watcher follows registration, a call, DND and a PUBLISH in PIDF', { timeout: 120_000 }, async () => {
    const [uasPort] = await freeLocalPorts(1);
    const w = await startSipp({
      scenario: 'presence-watch',
      target: pal.target,
      inf: [join(dir, `${watcher.number}.csv`)],
      set: { watch: watched.number },
      calls: 1,
      traceMsg: true,
      timeoutS: 100,
      dir,
    });
    const msgFile = join(dir, `sipp-${w.port}.msg.log`);
    try {
      let at = await nextPidf(msgFile, 0, () => true, 'the initial state');
      assert.equal(basic(at.doc), 'closed', at.doc);
      assert.match(at.doc, new RegExp(`entity="sip:${watched.number}@`));

      const reg = await runSipp({
        scenario: 'register-auth',
        target: pal.target,
        inf: [join(dir, `${watched.number}.csv`)],
        set: { contact: `127.0.0.1:${uasPort}`, expires: '600' },
        calls: 1,
        timeoutS: 20,
        dir,
      });
      assert.equal(reg.stats?.successful, 1, reg.stdout.slice(-1000));
      at = await nextPidf(msgFile, at.n, (d) => basic(d) === 'open', 'basic open');
      assert.equal(note(at.doc), 'Available');
      assert.doesNotMatch(at.doc, /rpid:on-the-phone/);

      const uas = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, timeoutS: 60, dir });
      const call = runSipp({
        scenario: 'call-auth-uac',
        target: pal.target,
        inf: [join(dir, `${caller.number}.csv`)],
        service: watched.number,
        calls: 1,
        pauseMs: 3000,
        timeoutS: 30,
        dir,
      });
      at = await nextPidf(msgFile, at.n, (d) => /<rpid:on-the-phone\/>/.test(d) && note(d) === 'On the phone', 'on-the-phone');
      assert.equal(basic(at.doc), 'open');
      const done = await call;
      assert.equal(done.stats?.successful, 1, done.stdout.slice(-1000));
      await uas.stop();
      at = await nextPidf(msgFile, at.n, (d) => !/on-the-phone/.test(d) && note(d) === 'Available', 'the call over');

      assert.deepEqual(await ctl('presence-dnd', { extension: watched.number, on: true }), { extension: watched.number, dnd: true });
      at = await nextPidf(msgFile, at.n, (d) => /<rpid:busy\/>/.test(d), 'busy');
      assert.equal(note(at.doc), 'Do not disturb');
      await ctl('presence-dnd', { extension: watched.number, on: false });
      at = await nextPidf(msgFile, at.n, (d) => !/rpid:busy/.test(d), 'DND off');
      // the office's DND (what *78 and the `dnd` command set, and what refuses calls) shows the same
      await ctl('dnd', { extension: watched.number, on: true });
      at = await nextPidf(msgFile, at.n, (d) => /<rpid:busy\/>/.test(d), "the office's DND");
      assert.equal(note(at.doc), 'Do not disturb');
      await ctl('dnd', { extension: watched.number, on: false });
      at = await nextPidf(msgFile, at.n, (d) => !/rpid:busy/.test(d), "the office's DND off");

      // 2002 publishes "away" itself (RFC 3903): the watcher sees it merged in
      const pub = await runSipp({ scenario: 'presence-publish', target: pal.target, inf: [join(dir, `${watched.number}.csv`)], calls: 1, traceLogs: true, timeoutS: 20, dir });
      assert.equal(pub.stats?.successful, 1, `${pub.errors.slice(0, 1500)}\n${pub.stdout.slice(-1000)}`);
      at = await nextPidf(msgFile, at.n, (d) => /<rpid:away\/>/.test(d), 'away');
      assert.equal(note(at.doc), 'Gone for lunch');
      const tags = /etag-1:\s+(\S+) etag-2:\s+(\S+) refused: 412 removed: 200/.exec(pub.logs);
      assert.ok(tags, pub.logs);
      assert.notEqual(tags[1], tags[2], 'RFC 3903 §6: a refresh gets a new entity-tag');
      at = await nextPidf(msgFile, at.n, (d) => !/rpid:away/.test(d), 'the publication removed');
    } finally {
      await w.stop();
    }
  });

  test('a watcher from another context and a watcher of an unknown extension get the same 403', { timeout: 60_000 }, async () => {
    const other = await runSipp({
      scenario: 'presence-subscribe-other',
      target: pal.target,
      inf: [join(dir, 'stranger.csv')],
      set: { mailbox: watched.number },
      calls: 1,
      timeoutS: 20,
      traceMsg: true,
      dir,
    });
    const unknown = await runSipp({
      scenario: 'presence-subscribe-other',
      target: pal.target,
      inf: [join(dir, `${watcher.number}.csv`)],
      set: { mailbox: '2999' },
      calls: 1,
      timeoutS: 20,
      traceMsg: true,
      dir,
    });
    for (const r of [other, unknown]) assert.equal(r.stats?.successful, 1, `${r.errors.slice(0, 1500)}\n${r.stdout.slice(-800)}`);
    const shape = (m: string) =>
      m
        .split(/-{10,}[^\n]*\n/)
        .filter((b) => /^\s*SIP\/2\.0 403/m.test(b))
        .map((b) =>
          b
            .trim()
            .split(/\r?\n/)
            .filter((l) => l.trim() !== '' && !l.startsWith('UDP message'))
            .map((l, i) => (i === 0 ? l.trim() : l.slice(0, l.indexOf(':')).toLowerCase()))
            .join('|'),
        );
    assert.equal(shape(other.messages).length, 1);
    assert.deepEqual(shape(unknown.messages), shape(other.messages));
    // both reached the event server's policy: refused SUBSCRIBEs go to the security log (RequestNotAllowed) for the IDS
    const seclog = join(pal.dir, 'var', 'security.log');
    const deadline = Date.now() + 10_000;
    const refused = (account: string) =>
      (existsSync(seclog) ? readFileSync(seclog, 'utf8') : '').split('\n').some((l) => l.includes('RequestNotAllowed') && l.includes(`"${account}"`));
    while (!(refused(stranger.number) && refused(watcher.number))) {
      assert.ok(Date.now() < deadline, `both refusals in the security log:\n${existsSync(seclog) ? readFileSync(seclog, 'utf8').slice(-3000) : 'no log'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
