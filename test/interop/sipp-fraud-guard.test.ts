// The toll-fraud guard, call limits, reputation and ACLs proven with real
// SIP calls: SIPp callers (from several loopback addresses, so one test's
// bad marks do not spill into another's address) against the real Palisade
// process, a SIPp callee that answers, and the CDR rows and security events
// Palisade leaves. local_networks is 127.0.0.0/28: 127.0.0.20 and
// 127.0.0.21 play callers from outside.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freeLocalPorts, repoRoot, runSipp, startSipp, type SippOptions, type SippResult } from '../helpers/sipp.js';
import { startPalisade, type PalisadeProcess } from '../helpers/palisade-process.js';
import { sippCsv, strongSecret, type TestUser } from '../helpers/users.js';
import { pollUntil } from '../helpers/wait.js';

const u = (number: string): TestUser => ({ number, secret: strongSecret(number), name: `Test ${number}` });
const USERS: Record<string, TestUser> = Object.fromEntries(
  ['2001', '2002', '2003', '2004', '2005', '2006', '2007', '2008', '2009', '2010', '2011', '2012', '2013', '2014', '2100', '2101'].map((n) => [n, u(n)]),
);

/** extension settings under test, by number */
const POLICY: Record<string, string[]> = {
  '2002': ['call_permissions: [local, national, mobile, international]'],
  '2013': ['call_permissions: [international]'],
  '2003': ['daily_spend_limit: 0.05'],
  '2004': ['max_calls: 2', 'max_outbound_calls: 5'],
  '2006': ['calls_per_minute: 2'],
  '2011': ['register_from: [127.0.0.9/32]'],
  '2012': ['call_from: [127.0.0.9/32, 127.0.0.21/32]'],
  '2100': ['max_calls: 0'],
};

function extensionsYaml(): string {
  const out = ['extensions:'];
  for (const x of Object.values(USERS)) {
    out.push(`  - number: "${x.number}"`, `    secret: "${x.secret}"`);
    for (const line of POLICY[x.number] ?? []) out.push(`    ${line}`);
  }
  return out.join('\n');
}

const EXTRA = [
  'registrar:',
  '  qualify_interval: 0',
  'security:',
  '  local_networks: [127.0.0.0/28]',
  '  acl: { deny: [127.0.0.30/32] }',
  '  reputation:',
  '    exempt: []', // loopback is exempt by default; here it plays the network
  'rates:',
  // Only internal calls can be answered until trunks exist, so the spend
  // test prices the internal number 2100: 6 per minute = 0.1 per second.
  '  "2100": 6',
  'fraud:',
  '  numbers: ["+88213"]',
  '  anomaly:',
  '    mode: flag',
  '    min_calls: 3',
  '    hour_share: 0',
  extensionsYaml(),
].join('\n');

interface CdrRow {
  src: string;
  dst: string;
  disposition: string;
  userfield: string;
  security_verdict: string;
  source_ip: string;
}

describe('toll-fraud guard, limits, reputation and ACLs over real SIP', () => {
  let pal: PalisadeProcess;
  let db: Database.Database;
  let callee: Awaited<ReturnType<typeof startSipp>>;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-fraud-'));
  let uasPort = 0;
  let n = 0;
  /** the CDR rows the last calls() run may have left: those after this id, and how many calls it made */
  let lastRun = { sinceId: 0, calls: 1 };

  before(async () => {
    pal = await startPalisade({ extraYaml: EXTRA, transports: ['udp', 'tcp'] });
    [uasPort] = await freeLocalPorts(1);
    callee = await startSipp({ scenario: 'uas-answer', target: '127.0.0.1', port: uasPort, timeoutS: 170, dir });
    const csv = join(dir, 'reg.csv');
    writeFileSync(csv, sippCsv([USERS['2100']!]));
    const r = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], set: { contact: `127.0.0.1:${uasPort}`, expires: '600' }, calls: 1, timeoutS: 15, dir });
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
    db = new Database(join(pal.dir, 'palisade.db'), { readonly: true, fileMustExist: true });
  });
  after(async () => {
    db?.close();
    await callee?.stop();
    await pal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** runs call-expect-uac from `from` (a loopback address) and returns every call's logged result */
  async function calls(caller: string, dialled: string, from: string, o: Partial<SippOptions> = {}): Promise<string[]> {
    const csv = join(dir, `c${++n}.csv`);
    writeFileSync(csv, sippCsv([USERS[caller]!], { peers: [dialled] }));
    lastRun = { sinceId: (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM cdr').get() as { id: number }).id, calls: o.calls ?? 1 };
    const r: SippResult = await runSipp({
      scenario: 'call-expect-uac',
      target: pal.target,
      inf: [csv],
      calls: 1,
      rate: 10,
      pauseMs: 300,
      timeoutS: 20,
      traceLogs: true,
      dir,
      extraArgs: ['-i', from],
      ...o,
    });
    const results = [...r.logs.matchAll(/call-result: (\S+)/g)].map((m) => m[1]!);
    assert.equal(results.length, o.calls ?? 1, `${caller} → ${dialled} from ${from}: exit ${r.code}\n${r.errors.slice(0, 2000)}\n${r.stdout.slice(-1200)}`);
    return results;
  }
  const one = async (caller: string, dialled: string, from: string) => (await calls(caller, dialled, from))[0];

  /** the newest CDR row src → dst, once each call of the last calls() run has written its row (up to 10 s: rows are written as calls end) */
  const lastCdr = async (src: string, dst: string): Promise<CdrRow> => {
    await pollUntil(() => (db.prepare('SELECT COUNT(*) AS n FROM cdr WHERE src = ? AND dst = ? AND id > ?').get(src, dst, lastRun.sinceId) as { n: number }).n >= lastRun.calls);
    const row = db.prepare('SELECT * FROM cdr WHERE src = ? AND dst = ? ORDER BY id DESC LIMIT 1').get(src, dst) as CdrRow | undefined;
    assert.ok(row, `no CDR ${src} → ${dst}`);
    return row;
  };
  const events = (detail: RegExp) => pal.events().filter((e) => e.event === 'security-event' && detail.test(String(e.detail)));
  const reputation = (subject: string, sub = 'show'): Record<string, string> => {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'reputation', sub, subject, '--config', pal.configPath], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
  };

  test('reputation: first positive → 6 (a successful REGISTER)', () => {
    assert.equal(reputation('2100').score, '6');
  });

  test('international refused when not allowed (403, FraudRuleHit, CDR verdict); premium refused; emergency passes the gate even then', { timeout: 60_000 }, async () => {
    assert.equal(await one('2001', '0044207946000', '127.0.0.2'), '403');
    const row = await lastCdr('2001', '0044207946000');
    assert.equal(row.security_verdict, 'refused:class-not-permitted:international');
    assert.equal(row.userfield, '403 Forbidden', 'the caller only learns a generic reason');
    assert.ok(events(/^class-not-permitted:international$/).length >= 1);
    // and into the IDS's security log, in Asterisk's line format (written asynchronously: wait for the line, up to 10 s)
    const hitLine = /SecurityEvent="FraudRuleHit".*AccountID="2001".*RemoteAddress="IPV4\/UDP\/127\.0\.0\.2\/\d+"/;
    const seclogFile = join(pal.dir, 'var', 'security.log');
    const seclog =
      (await pollUntil(() => existsSync(seclogFile) && hitLine.test(readFileSync(seclogFile, 'utf8')) && readFileSync(seclogFile, 'utf8'))) ?? readFileSync(seclogFile, 'utf8');
    assert.match(seclog, hitLine);
    assert.equal(await one('2001', '0900123456', '127.0.0.2'), '403');
    assert.equal((await lastCdr('2001', '0900123456')).security_verdict, 'refused:class-not-permitted:premium');
    // 2001 and 127.0.0.2 are now both under 5, and still 112 passes the gate (no trunk: 404 after it)
    assert.ok(Number(reputation('2001').score) < 5);
    assert.ok(Number(reputation('127.0.0.2').score) < 5);
    assert.equal(await one('2001', '112', '127.0.0.2'), '404');
    assert.equal((await lastCdr('2001', '112')).security_verdict, 'pass:emergency');
  });

  test('international allowed when permitted (passes the gate, 404 with no trunk); a known fraud number refused', { timeout: 60_000 }, async () => {
    assert.equal(await one('2002', '0044207946000', '127.0.0.3'), '404');
    assert.equal((await lastCdr('2002', '0044207946000')).security_verdict, 'pass:international');
    assert.equal(await one('2002', '+88213000111', '127.0.0.3'), '403');
    assert.equal((await lastCdr('2002', '+88213000111')).security_verdict, 'refused:fraud-list:88213');
  });

  test('the gate does not depend on the transport: over TCP, premium refused and an internal call answered', { timeout: 60_000 }, async () => {
    assert.equal((await calls('2014', '2100', '127.0.0.12', { transport: 't1' }))[0], '200');
    assert.equal((await lastCdr('2014', '2100')).security_verdict, 'pass:internal:rate=6');
    assert.equal((await calls('2014', '0900123456', '127.0.0.12', { transport: 't1' }))[0], '403');
    assert.equal((await lastCdr('2014', '0900123456')).security_verdict, 'refused:class-not-permitted:premium');
  });

  test('palisade fraud import: numbers imported while running are refused at once, however dialled', { timeout: 60_000 }, async () => {
    const file = join(dir, 'fraud.txt');
    writeFileSync(file, '# IRSF ranges seen this week\n+371 67\n0088216\n');
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'palisade.js'), 'fraud', 'import', file, '--config', pal.configPath], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /imported 2 new fraud prefixes.*running server now blocks 3 prefixes/);
    // the other number first: after a refusal, 2013 (no history) would sit at 5 — still allowed, but keep it clean
    assert.equal(await one('2013', '+33140000000', '127.0.0.10'), '404', 'other international numbers still pass');
    assert.equal(await one('2013', '0037167123456', '127.0.0.10'), '403');
    assert.equal((await lastCdr('2013', '0037167123456')).security_verdict, 'refused:fraud-list:37167');
    assert.equal(await one('2013', '01188216000', '127.0.0.11'), '403');
    assert.equal((await lastCdr('2013', '01188216000')).security_verdict, 'refused:fraud-list:88216');
  });

  test('spend limit: a running call is cut when its projected spend crosses the limit, then paid calls are refused', { timeout: 60_000 }, async () => {
    const csv = join(dir, 'spend.csv');
    writeFileSync(csv, sippCsv([USERS['2003']!], { peers: ['2100'] }));
    // call-callee-bye-uac waits for a BYE: only the cut sends one (0.05 at 0.1/s = 0.5 s)
    const t0 = Date.now();
    const r = await runSipp({ scenario: 'call-callee-bye-uac', target: pal.target, inf: [csv], calls: 1, timeoutS: 15, dir, extraArgs: ['-i', '127.0.0.1'] });
    assert.equal(r.code, 0, r.errors + r.stdout.slice(-800));
    assert.ok(Date.now() - t0 < 8000);
    await pal.waitForEvent((e) => e.event === 'call-cut' && e.cause === 'spend-limit', 5000);
    assert.ok(events(/^daily_spend_limit:0\.05:80%$/).length === 1, '80% alert');
    assert.ok(events(/^daily_spend_limit:0\.05:100%$/).length === 1, '100% alert');
    assert.equal(await one('2003', '2100', '127.0.0.1'), '403');
    assert.equal((await lastCdr('2003', '2100')).security_verdict, 'refused:daily_spend_limit:0.05');
  });

  test('one outbound call per user: a second simultaneous call is refused', { timeout: 60_000 }, async () => {
    const results = await calls('2005', '2100', '127.0.0.1', { calls: 2, rate: 20, pauseMs: 2000 });
    assert.deepEqual(results.sort(), ['200', '403']);
    // the refused call's row (written as it ends: wait for it, up to 10 s)
    const row = (await pollUntil(() => db.prepare("SELECT security_verdict FROM cdr WHERE src = '2005' AND security_verdict LIKE 'refused:%'").get())) as {
      security_verdict: string;
    };
    assert.equal(row.security_verdict, 'refused:max_outbound_calls:1');
  });

  test('concurrent-call limit: max_calls 2 with max_outbound_calls 5 lets two through, refuses the third', { timeout: 60_000 }, async () => {
    const results = await calls('2004', '2100', '127.0.0.1', { calls: 3, rate: 30, pauseMs: 2000 });
    assert.deepEqual(results.sort(), ['200', '200', '403']);
    // the refused call's row (written as it ends: wait for it, up to 10 s)
    const v = (await pollUntil(() => db.prepare("SELECT security_verdict FROM cdr WHERE src = '2004' AND security_verdict LIKE 'refused:%'").get())) as {
      security_verdict: string;
    };
    assert.equal(v.security_verdict, 'refused:max_calls:2');
  });

  test('calls per minute: the third call within a minute is refused', { timeout: 60_000 }, async () => {
    const results = await calls('2006', '2100', '127.0.0.1', { calls: 3, rate: 3, pauseMs: 100 });
    assert.deepEqual(results, ['200', '200', '403']);
    assert.equal((await lastCdr('2006', '2100')).security_verdict, 'refused:calls_per_minute:2');
  });

  test('anomaly: after the learned calls, a new destination is flagged', { timeout: 60_000 }, async () => {
    assert.deepEqual(await calls('2007', '2100', '127.0.0.1', { calls: 3, rate: 2, pauseMs: 100 }), ['200', '200', '200']);
    assert.equal(events(/^anomaly:/).filter((e) => e.account === '2007').length, 0, 'nothing flagged while learning');
    assert.equal(await one('2007', '2101', '127.0.0.1'), '480'); // flagged, not blocked; 2101 is not registered
    assert.equal(events(/^anomaly:new-destination$/).filter((e) => e.account === '2007').length, 1);
    assert.equal((await lastCdr('2007', '2101')).security_verdict, 'pass:internal:flagged=new-destination');
  });

  test('reputation: a user under 5 can neither call nor be called', { timeout: 60_000 }, async () => {
    assert.equal(await one('2008', '0900123456', '127.0.0.4'), '403'); // auth +1, fraud hit -1: 5
    assert.equal(await one('2008', '0900123456', '127.0.0.4'), '403'); // 4.3
    assert.equal(reputation('2008').score, '4.3');
    // from a clean address, so it is the user's score that refuses
    assert.equal(await one('2008', '2100', '127.0.0.5'), '403');
    assert.equal((await lastCdr('2008', '2100')).security_verdict, 'refused:reputation:caller');
    assert.equal(await one('2009', '2008', '127.0.0.5'), '403');
    assert.equal((await lastCdr('2009', '2008')).security_verdict, 'refused:reputation:callee');
  });

  test('reputation: first negative → 4 (a wrong password), and an address under 5 is refused before authentication', { timeout: 60_000 }, async () => {
    const csv = join(dir, 'wrong.csv');
    writeFileSync(csv, sippCsv([USERS['2010']!], { wrongPassword: true }));
    const r = await runSipp({ scenario: 'register-wrong-password', target: pal.target, inf: [csv], calls: 1, timeoutS: 15, dir, extraArgs: ['-i', '127.0.0.6'] });
    assert.equal(r.code, 0, r.errors);
    assert.equal(reputation('127.0.0.6').score, '4');
    assert.equal(await one('2010', '2100', '127.0.0.6'), 'early-403');
    assert.ok(pal.events().some((e) => e.event === 'security-event' && e.type === 'ReputationReject' && e.remote === '127.0.0.6'));
    // the administrator's way out for a phone fixed after a typo
    assert.equal(reputation('127.0.0.6', 'reset').score, '5');
    assert.equal(await one('2010', '2100', '127.0.0.6'), '200');
  });

  test('register_from: REGISTER with the right password from elsewhere → 403 and FailedACL; from the permitted address → 200', { timeout: 60_000 }, async () => {
    const csv = join(dir, 'reg2011.csv');
    writeFileSync(csv, sippCsv([USERS['2011']!]));
    const denied = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, timeoutS: 15, dir, traceMsg: true, extraArgs: ['-i', '127.0.0.7'] });
    assert.notEqual(denied.code, 0, 'the REGISTER must not succeed');
    assert.match(denied.messages, /SIP\/2\.0 403 Forbidden/);
    assert.ok(pal.events().some((e) => e.event === 'security-event' && e.type === 'FailedACL' && e.detail === 'register_from' && e.remote === '127.0.0.7'));
    const ok = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, timeoutS: 15, dir, extraArgs: ['-i', '127.0.0.9'] });
    assert.equal(ok.code, 0, ok.errors);
  });

  test('the global ACL: a denied address gets 403 to REGISTER and INVITE, for a real and an unknown user alike, and a FailedACL event', { timeout: 60_000 }, async () => {
    const answers: string[] = [];
    for (const x of [USERS['2001']!, { number: '2998', secret: 'Pt-NoSuchUserHere1', name: 'nobody' }]) {
      const csv = join(dir, `acl-${x.number}.csv`);
      writeFileSync(csv, sippCsv([x]));
      const r = await runSipp({ scenario: 'register-auth', target: pal.target, inf: [csv], calls: 1, timeoutS: 10, dir, traceMsg: true, extraArgs: ['-i', '127.0.0.30'] });
      assert.notEqual(r.code, 0);
      answers.push(r.messages.match(/^SIP\/2\.0 \d{3} .*$/m)?.[0] ?? '');
    }
    assert.deepEqual(answers, ['SIP/2.0 403 Forbidden', 'SIP/2.0 403 Forbidden']);
    assert.equal(await one('2001', '2100', '127.0.0.30'), 'early-403');
    assert.ok(pal.events().some((e) => e.event === 'security-event' && e.type === 'FailedACL' && e.detail === 'security.acl' && e.remote === '127.0.0.30'));
  });

  test('call_from: a call from elsewhere → 403 FailedACL; from the permitted address it is answered', { timeout: 60_000 }, async () => {
    assert.equal(await one('2012', '2100', '127.0.0.8'), '403');
    assert.equal((await lastCdr('2012', '2100')).security_verdict, 'refused:call_from');
    assert.equal(await one('2012', '2100', '127.0.0.9'), '200');
    assert.equal((await lastCdr('2012', '2100')).disposition, 'ANSWERED');
  });

  test('a call claiming an internal user from outside local_networks is refused and counted against the address', { timeout: 60_000 }, async () => {
    assert.equal(await one('2001', '2100', '127.0.0.20'), 'early-403');
    // a From that is no extension of ours gets the very same answer: nothing to enumerate
    USERS['2999'] = u('2999');
    assert.equal(await one('2999', '2100', '127.0.0.22'), 'early-403');
    assert.equal(reputation('127.0.0.20').score, '4');
    assert.ok(events(/^internal-user-from-outside$/).some((e) => e.remote === '127.0.0.20'));
    // an extension whose call_from names an outside address may call from there
    assert.equal(await one('2012', '2100', '127.0.0.21'), '200');
  });
});
