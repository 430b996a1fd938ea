// A number given to someone new is not judged by the previous holder's
// learned calling profile, in the real Palisade process: 2001 is made
// through the HTTP API and calls 2100 over SIP (SIPp) until its profile
// judges (three calls are the whole learning period here), so its first call
// to 2101 is flagged. 2001 is then deleted through the API: its profile
// leaves memory and the calling_profiles table at once (the SQLite file is
// read beside the server). Made again with a new secret, 2001's first call
// to a number the old holder never called (2103) is not flagged: the new
// holder's profile is learning from nothing. Before the delete, 2001 is
// disabled and enabled again: that keeps its profile (the row stays, and its
// next new destination, 2102, is flagged). A trunk made through the API
// learns from the calls it brings in (SIPp as the carrier) and keeps its
// profile the same way when it is disabled and enabled again; deleted, its
// profile goes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { adminToken, eventAfter, startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { freeLocalPorts, runSipp } from '../helpers/sipp.js';
import { sippCsv, strongSecret, type TestUser } from '../helpers/users.js';
import { controlRequest } from '../../src/admin/control-socket.js';
import { apiCall, type ApiCall } from '../helpers/http-api.js';
import { pollUntil } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-profile-prune-'));
const user = (number: string): TestUser => ({ number, secret: strongSecret(number), name: `Test ${number}` });
/** extensions that are never registered: their calls pass the gate, then end 480 */
const callees = [user('2100'), user('2101'), user('2102'), user('2103')];
let pal: PalisadeProcess;
let base: string;
/** the carrier's port: a trunk of the API is recognised by its host's address and this port */
let carrierPort: number;
let token: string;

before(async () => {
  const [httpPort, provPort] = await freeLocalPorts(2);
  carrierPort = provPort!;
  base = `http://127.0.0.1:${httpPort}`;
  pal = await startPalisade({
    users: callees,
    transports: ['udp'],
    extraYaml: [
      'registrar:',
      '  qualify_interval: 0',
      'admin:',
      '  acl: { permit: [127.0.0.0/29] }',
      'http:',
      `  listen: ["127.0.0.1:${httpPort}"]`,
      'fraud:',
      '  defaults: { calls_per_minute: 0 }',
      '  anomaly: { mode: flag, min_calls: 3, hour_share: 0 }',
      'routes:',
      '  inbound:',
      '    - { did: "_21XX", to: "${EXTEN}" }',
    ].join('\n'),
  });
  token = adminToken(pal, 'root', 'admin');
});

after(async () => {
  await pal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (c: Omit<ApiCall, 'token'>) => apiCall(base, { ...c, token });

/** `count` calls from `caller` to `dialled`; each call's final status */
async function calls(caller: TestUser, dialled: string, count: number): Promise<string[]> {
  const csv = join(dir, `calls-${dialled}.csv`);
  writeFileSync(csv, sippCsv([caller], { peers: [dialled] }));
  const r = await runSipp({ scenario: 'call-expect-uac', target: pal.target, inf: [csv], calls: count, rate: 5, pauseMs: 100, timeoutS: 30, traceLogs: true, dir });
  const results = [...r.logs.matchAll(/call-result: (\S+)/g)].map((m) => m[1]!);
  assert.equal(results.length, count, `${caller.number} → ${dialled}: exit ${r.code}\n${r.errors.slice(0, 2000)}\n${r.stdout.slice(-1200)}`);
  return results;
}

const flagged = (account = '2001') =>
  pal
    .events()
    .filter((e) => e.event === 'security-event' && e.account === account && /^anomaly:/.test(String(e.detail)))
    .map((e) => `${String(e.detail)} → ${String(e.dialled)}`);

/** the calling_profiles rows of the server's SQLite database, read beside it */
function storedProfiles(): Array<{ principal: string; calls: number }> {
  const db = new BetterSqlite3(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT principal, calls FROM calling_profiles ORDER BY principal').all() as Array<{ principal: string; calls: number }>;
  } finally {
    db.close();
  }
}

async function create(number: string): Promise<TestUser> {
  const r = await api({ method: 'POST', path: '/api/v1/extensions', body: { number } });
  assert.equal(r.status, 201, r.text);
  return { number, secret: r.json.secret as string, name: number };
}
const create2001 = () => create('2001');

test("an extension deleted through the API and made again starts with an empty profile: the old holder's destinations do not judge the new one", { timeout: 120_000 }, async () => {
  const first = await create2001();
  assert.deepEqual(await calls(first, '2100', 3), ['480', '480', '480']);
  assert.deepEqual(flagged(), [], 'nothing is judged while learning');
  assert.deepEqual(await calls(first, '2101', 1), ['480']); // flagged, not blocked
  assert.equal(flagged().length, 1, 'the learned profile judges: 2101 is a new destination');
  assert.match(flagged()[0]!, /^anomaly:new-destination/);
  // written behind within about 2 s
  const row = await pollUntil(() => storedProfiles().find((r) => r.principal === 'ext:2001' && r.calls === 4), 10_000);
  assert.ok(row, `the profile is stored: ${JSON.stringify(storedProfiles())}`);

  // disabled and enabled again: the same holder, the same profile (the directory knows the number set aside)
  const fromDisable = pal.lines.length;
  const off = await api({ method: 'PATCH', path: '/api/v1/extensions/2001', body: { disabled: true } });
  assert.equal(off.status, 200, off.text);
  assert.equal(off.json.disabled, true);
  // the answer comes once the directory reloaded and the profiles were looked at
  assert.deepEqual(
    storedProfiles().filter((r) => r.principal === 'ext:2001'),
    [{ principal: 'ext:2001', calls: 4 }],
    'a disabled extension keeps its stored profile',
  );
  const on = await api({ method: 'PATCH', path: '/api/v1/extensions/2001', body: { disabled: false } });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.disabled, false);
  assert.ok(!pal.lines.slice(fromDisable).some((l) => l.includes('"calling-profiles-pruned"')), 'nothing was pruned');
  assert.deepEqual(await calls(first, '2102', 1), ['480']);
  assert.equal(flagged().length, 2, `enabled again, 2001 is judged by the profile it had: ${flagged().join('; ')}`);
  assert.match(flagged()[1]!, /^anomaly:new-destination → 2102/);

  const from = pal.lines.length;
  const del = await api({ method: 'DELETE', path: '/api/v1/extensions/2001' });
  assert.equal(del.status, 200, del.text);
  // the answer comes once the directory reloaded: the row is gone already
  assert.deepEqual(
    storedProfiles().filter((r) => r.principal === 'ext:2001'),
    [],
    'deleted from calling_profiles',
  );
  const pruned = await eventAfter(pal, from, (e) => e.event === 'calling-profiles-pruned');
  assert.equal(pruned.trigger, 'extensions');
  assert.equal(pruned.principal_gone, 1);
  assert.equal(pruned.idle, 0);

  const second = await create2001();
  assert.notEqual(second.secret, first.secret);
  assert.deepEqual(await calls(second, '2103', 1), ['480']);
  assert.equal(flagged().length, 2, `the new holder's first call is not judged by the old holder's profile: ${flagged().join('; ')}`);
  const again = await pollUntil(() => storedProfiles().find((r) => r.principal === 'ext:2001'), 10_000);
  assert.equal(again?.calls, 1, "the stored profile is the new holder's: one call");
});

test("an extension deleted and made again behind the server's back (another node, the database itself) is seen by its new created_at at the next reload", {
  timeout: 120_000,
}, async () => {
  const holder = await create('2002');
  assert.deepEqual(await calls(holder, '2100', 3), ['480', '480', '480']);
  assert.deepEqual(await calls(holder, '2101', 1), ['480']);
  assert.equal(flagged('2002').length, 1, 'the learned profile judges');
  await pollUntil(() => storedProfiles().find((r) => r.principal === 'ext:2002' && r.calls === 4), 10_000);

  // the row deleted and written again, as a new holder's, in the database beside the running server; its
  // created_at is 10 minutes on, as if made that long after the old holder's calls (the guard allows 5 min
  // between nodes' clocks, and these calls were learned seconds ago)
  const db = new BetterSqlite3(join(pal.dir, 'palisade.db'), { fileMustExist: true });
  try {
    const row = db.prepare('SELECT * FROM extensions WHERE number = ?').get('2002') as Record<string, unknown>;
    assert.ok(row, 'the API stored 2002');
    db.prepare('DELETE FROM extensions WHERE number = ?').run('2002');
    const cols = Object.keys(row);
    db.prepare(`INSERT INTO extensions (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run({ ...row, created_at: Date.now() + 600_000 });
  } finally {
    db.close();
  }
  // still there (the server saw no delete) until the reload reads the new created_at
  assert.equal(storedProfiles().find((r) => r.principal === 'ext:2002')?.calls, 4);
  const from = pal.lines.length;
  const reloaded = (await controlRequest(join(pal.dir, 'control.sock'), 'reload-extensions', {})) as Record<string, unknown>;
  assert.ok(Number(reloaded.extensions) >= 5, JSON.stringify(reloaded));
  const pruned = await eventAfter(pal, from, (e) => e.event === 'calling-profiles-pruned');
  assert.deepEqual([pruned.trigger, pruned.principal_gone], ['extensions', 1]);
  assert.equal(
    storedProfiles().find((r) => r.principal === 'ext:2002'),
    undefined,
    'the old holder’s row is gone',
  );
  assert.deepEqual(await calls(holder, '2102', 1), ['480']);
  assert.equal(flagged('2002').length, 1, `the new holder is learning, not judged: ${flagged('2002').join('; ')}`);
});

test('a trunk disabled and enabled again keeps the profile it learned from its calls in; deleted, the profile goes', { timeout: 120_000 }, async () => {
  const made = await api({ method: 'POST', path: '/api/v1/trunks', body: { name: 'carrier', host: '127.0.0.1', port: carrierPort } });
  assert.equal(made.status, 201, made.text);
  /** calls in from the carrier's address and port to a DID (an extension never registered: 480); each final status */
  const callsIn = async (did: string, count: number): Promise<string[]> => {
    const r = await runSipp({
      scenario: 'provider-call-in-uac',
      target: pal.target,
      port: carrierPort,
      service: did,
      set: { cid: '015112345' },
      calls: count,
      rate: 5,
      timeoutS: 30,
      traceLogs: true,
      dir,
    });
    const results = [...r.logs.matchAll(/call-in-result: (\S+)/g)].map((m) => m[1]!);
    assert.equal(results.length, count, `carrier → ${did}: exit ${r.code}\n${r.errors.slice(0, 2000)}\n${pal.lines.slice(-8).join('\n')}`);
    return results;
  };
  // the trunk's inbound calls are judged by the trunk's own profile (no calling extension: account "")
  const from = pal.lines.length;
  const trunkFlags = () =>
    pal.lines
      .slice(from)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .filter((e) => e.event === 'security-event' && !e.account && /^anomaly:/.test(String(e.detail)))
      .map((e) => `${String(e.detail)} → ${String(e.dialled)}`);
  const stored = () => storedProfiles().filter((r) => r.principal === 'trunk:carrier');

  assert.deepEqual(await callsIn('2100', 3), ['480', '480', '480']);
  assert.deepEqual(trunkFlags(), [], 'nothing is judged while learning');
  assert.deepEqual(await callsIn('2101', 1), ['480']);
  assert.equal(trunkFlags().length, 1, "the trunk's learned profile judges: 2101 is a new destination");
  assert.match(trunkFlags()[0]!, /^anomaly:new-destination → 2101/);
  await pollUntil(() => stored().find((r) => r.calls === 4), 10_000);

  // disabled: not running (its calls in are challenged as a stranger's), but not gone
  const fromDisable = pal.lines.length;
  const off = await api({ method: 'PATCH', path: '/api/v1/trunks/carrier', body: { disabled: true } });
  assert.equal(off.status, 200, off.text);
  assert.equal(off.json.disabled, true);
  await eventAfter(pal, fromDisable, (e) => e.event === 'trunks-changed');
  assert.deepEqual(await callsIn('2100', 1), ['407'], 'a disabled trunk is no trunk: its INVITE is challenged');
  assert.deepEqual(stored(), [{ principal: 'trunk:carrier', calls: 4 }], 'a disabled trunk keeps its stored profile');
  const on = await api({ method: 'PATCH', path: '/api/v1/trunks/carrier', body: { disabled: false } });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.disabled, false);
  assert.ok(!pal.lines.slice(fromDisable).some((l) => l.includes('"calling-profiles-pruned"')), 'nothing was pruned');
  assert.deepEqual(await callsIn('2102', 1), ['480']);
  assert.equal(trunkFlags().length, 2, `enabled again, the trunk is judged by the profile it had: ${trunkFlags().join('; ')}`);
  assert.match(trunkFlags()[1]!, /^anomaly:new-destination → 2102/);

  // deleted: the profile goes, from memory and the table
  const fromDelete = pal.lines.length;
  const del = await api({ method: 'DELETE', path: '/api/v1/trunks/carrier' });
  assert.equal(del.status, 200, del.text);
  const pruned = await eventAfter(pal, fromDelete, (e) => e.event === 'calling-profiles-pruned');
  assert.deepEqual([pruned.trigger, pruned.principal_gone], ['trunks', 1]);
  await pollUntil(() => stored().length === 0 || undefined, 10_000);
  assert.deepEqual(stored(), [], 'deleted from calling_profiles');
});
