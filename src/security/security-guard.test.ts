// The guard built from a real configuration and database: per-extension
// policies from the file, defaults for the rest, a restart that keeps
// today's spend (from the CDRs) and imported fraud numbers, and learned
// profiles dropped when their principal is gone or has long stopped calling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config/load-config.js';
import { openStorage, type Database } from '../storage/database.js';
import { ReputationRepo } from '../storage/reputation-repo.js';
import { CallingProfileRepo } from '../storage/calling-profile-repo.js';
import { LogRoot } from '../observability/logger.js';
import { SecurityGuard } from './security-guard.js';
import { nullSecuritySink, type SecurityEvent } from '../core/security-event.js';

/** a guard that learns calling profiles: UK numbers, no per-minute limit, `anomaly` as fraud.anomaly is written */
function learningConfig(dir: string, anomaly: string): ReturnType<typeof parseConfig> {
  return parseConfig(
    [
      'sip: { listen: [udp:127.0.0.1:5060], domain: pbx.example.org }',
      `storage: { driver: sqlite, path: ${join(dir, 'p.db')} }`,
      'numbering: { country_code: "44" }',
      `fraud: { defaults: { calls_per_minute: 0 }, anomaly: ${anomaly} }`,
    ].join('\n'),
    join(dir, 'p.yaml'),
  );
}

const CALLER = { address: '10.0.0.1', port: 5060, transport: 'udp' as const };

/** a guard whose directory is `exts` (and, when given, the extensions' creation times), on the test's clock; its log lines go to `lines` */
async function guardOver(
  cfg: ReturnType<typeof parseConfig>,
  o: { exts: Set<string>; made?: Map<string, number>; now: () => number; lines?: Array<Record<string, unknown>> },
): Promise<{ guard: SecurityGuard; storage: Database }> {
  const storage = await openStorage(cfg.storage);
  const guard = await SecurityGuard.create({
    cfg: cfg.guard,
    extensions: cfg.extensions,
    isExtension: (n) => o.exts.has(n),
    hasExtension: (n) => o.exts.has(n),
    ...(o.made ? { extensionSince: (n: string) => o.made!.get(n) } : {}),
    clock: o.now,
    storage,
    sink: nullSecuritySink,
    log: new LogRoot('info', {}, { write: (l) => void o.lines?.push(JSON.parse(l) as Record<string, unknown>) }).get('security'),
  });
  return { guard, storage };
}

/** a call the gate must let through, answered for a minute: its verdict */
function passed(guard: SecurityGuard, caller: string, dialled: string, callId: string): string {
  const d = guard.callGate.check({ caller, dialled, remote: CALLER, callId });
  assert.equal(d.ok, true, d.verdict);
  if (d.ok) d.ticket.ended(60, false);
  return d.verdict;
}

test("a restart keeps today's spend and the imported fraud numbers; policies come from the file or the defaults", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palguard-'));
  try {
    const cfg = parseConfig(
      [
        'sip: { listen: [udp:127.0.0.1:5060], domain: pbx.example.org }',
        `storage: { driver: sqlite, path: ${join(dir, 'p.db')} }`,
        'rates: { "44": 1 }',
        'fraud: { defaults: { daily_spend_limit: 3 } }',
        'extensions:',
        '  - { number: "1001", secret: "rHP6VMGmDbv4Ru6Jf3WD", daily_spend_limit: 2, call_permissions: [international] }',
      ].join('\n'),
      join(dir, 'p.yaml'),
    );
    const storage = await openStorage(cfg.storage);
    const now = Date.now();
    const row = (src: string, billsec: number, verdict: string, uid: string) => ({
      src,
      dst: '00441234567',
      disposition: 'ANSWERED' as const,
      uniqueid: uid,
      start: now - 1000 * billsec - 5,
      answer: now - 1000 * billsec,
      end: now,
      billsec,
      securityVerdict: verdict,
    });
    await storage.cdr.insert(row('1001', 120, 'pass:international:rate=1', 'a')); // 2.00: 1001's whole limit
    await storage.cdr.insert(row('1002', 60, 'pass:international:rate=1', 'b')); // 1.00 of the default 3
    await storage.cdr.insert(row('1002', 600, 'pass:internal', 'c')); // unrated
    await new ReputationRepo(storage).addFraudNumbers(['88213'], 'test');
    const exts = new Set(['1001', '1002']);
    const guard = await SecurityGuard.create({
      cfg: cfg.guard,
      extensions: cfg.extensions,
      isExtension: (n) => exts.has(n),
      storage,
      sink: nullSecuritySink,
      log: new LogRoot('error', {}).get('security'),
    });
    try {
      const remote = { address: '10.0.0.1', port: 5060, transport: 'udp' as const };
      const d1 = guard.callGate.check({ caller: '1001', dialled: '00441234567', remote, callId: '1' });
      assert.equal(d1.verdict, 'refused:daily_spend_limit:2');
      assert.equal(guard.policyOf('1002').dailySpendLimit, 3);
      assert.equal(guard.callGate.spend.spent('ext:1002', Date.now()), 1);
      assert.equal(guard.callGate.check({ caller: '1002', dialled: '+88213000', remote, callId: '2' }).verdict, 'refused:fraud-list:88213');
    } finally {
      await guard.stop();
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("wrong PINs during calls: the caller's address and extension lose reputation; the call gate then refuses the extension", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palguard-'));
  try {
    const cfg = parseConfig(
      ['sip: { listen: [udp:127.0.0.1:5060], domain: pbx.example.org }', `storage: { driver: sqlite, path: ${join(dir, 'p.db')} }`].join('\n'),
      join(dir, 'p.yaml'),
    );
    const storage = await openStorage(cfg.storage);
    const guard = await SecurityGuard.create({
      cfg: cfg.guard,
      extensions: [],
      isExtension: (n) => n === '1001' || n === '1002',
      storage,
      sink: nullSecuritySink,
      log: new LogRoot('error', {}).get('security'),
    });
    try {
      const remote = { address: '198.51.100.8', port: 5060, transport: 'udp' as const };
      const call = { id: 'c1', name: 'SIP/1001-00000001', peer: { ...remote, account: '1001' } };
      guard.authOutcome(true, undefined, '1001', remote); // the INVITE of the call
      for (let i = 0; i < 3; i++) guard.pinOutcome({ ok: false, service: 'VoiceMail', account: '1002', call });
      guard.pinOutcome({ ok: true, service: 'VoiceMail', account: '1001', call });
      assert.ok(guard.reputation.refused('ip:198.51.100.8'), `address score ${guard.reputation.score('ip:198.51.100.8')}`);
      assert.equal(guard.reputation.score('user:1002'), 5, 'the mailbox guessed at is not marked: nobody can lock its owner out');
      assert.equal(guard.callGate.check({ caller: '1001', dialled: '1002', remote, callId: 'x1' }).ok, true, 'three typos: still calling');
      guard.pinOutcome({ ok: false, service: 'Authenticate', account: '1001', call });
      assert.equal(guard.callGate.check({ caller: '1001', dialled: '1002', remote, callId: 'x2' }).verdict, 'refused:reputation:caller');
    } finally {
      await guard.stop();
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after a restart the guard still knows what each extension normally calls: a call to a new destination is flagged at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palguard-'));
  try {
    const cfg = learningConfig(dir, '{ min_calls: 20 }');
    const exts = new Set(['1001']);
    const start = async (events: SecurityEvent[]) => {
      const storage = await openStorage(cfg.storage);
      const guard = await SecurityGuard.create({
        cfg: cfg.guard,
        extensions: cfg.extensions,
        isExtension: (n) => exts.has(n),
        storage,
        sink: { emit: (e) => events.push(e) },
        log: new LogRoot('error', {}).get('security'),
      });
      return { guard, storage };
    };
    const call = (guard: SecurityGuard, dialled: string, id: string) => passed(guard, '1001', dialled, id);

    // an office phone that calls London numbers (020…): 25 calls learned
    const first = await start([]);
    for (let i = 0; i < 25; i++) call(first.guard, `0207946${String(1000 + i)}`, `learn-${i}`);
    await first.guard.stop();
    await first.storage.close();

    // a new guard on the same database: a mobile number (07…) is a destination 1001 never called
    const events: SecurityEvent[] = [];
    const second = await start(events);
    try {
      assert.doesNotMatch(call(second.guard, '02079462000', 'known'), /new-destination/);
      assert.match(call(second.guard, '07700900123', 'new'), /^pass:mobile:flagged=.*new-destination/);
      const flagged = events.filter((e) => e.type === 'FraudRuleHit' && /^anomaly:.*new-destination/.test(e.detail ?? ''));
      assert.deepEqual(
        flagged.map((e) => [e.account, e.sessionId, e.extra?.dialled]),
        [['1001', 'new', '07700900123']],
      );
    } finally {
      await second.guard.stop();
      await second.storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a removed extension loses its learned profile (memory and table), at start and when removed while running: made again, it is judged from nothing; so are gone trunks and long-idle profiles', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palguard-'));
  try {
    const cfg = learningConfig(dir, '{ min_calls: 5, profile_max_age_days: 30 }');
    // the directory: what exists now
    const exts = new Set(['1001', '1002']);
    let now = Date.now();
    const lines: Array<Record<string, unknown>> = [];
    const start = () => guardOver(cfg, { exts, now: () => now, lines });
    const call = (guard: SecurityGuard, caller: string, dialled: string) => passed(guard, caller, dialled, `${caller}-${dialled}-${Math.random()}`);
    const stored = async (storage: Database) => (await new CallingProfileRepo(storage).loadAll()).map((r) => r.principal).sort();
    const pruned = () =>
      lines.filter((l) => l.event === 'calling-profiles-pruned').map(({ trigger, principal_gone, idle, remaining }) => ({ trigger, principal_gone, idle, remaining }));

    // 1001 and 1002 call London (020…) six times each; a trunk learns too
    const first = await start();
    for (let i = 0; i < 6; i++) {
      call(first.guard, '1001', `0207946${1000 + i}`);
      call(first.guard, '1002', `0207946${2000 + i}`);
    }
    first.guard.profiles.learn('trunk:carrier', '+4420', now);
    assert.match(call(first.guard, '1001', '07700900001'), /flagged=new-destination/, 'the profile judges');
    await first.guard.stop();
    await first.storage.close();

    // 1001 is removed while the server is down: dropped at start, from memory and from the table
    exts.delete('1001');
    const second = await start();
    try {
      assert.equal(second.guard.profiles.state('ext:1001', now), undefined);
      assert.deepEqual(await stored(second.storage), ['ext:1002', 'trunk:carrier']);
      assert.deepEqual(pruned(), [{ trigger: 'start', principal_gone: 1, idle: 0, remaining: 2 }]);
      // the number is given to someone new: nothing of the old holder's calls judges them
      exts.add('1001');
      assert.doesNotMatch(call(second.guard, '1001', '07700900002'), /flagged/);

      // 1002 is deleted while running (the directory reloaded), then made again
      exts.delete('1002');
      assert.deepEqual(await second.guard.pruneProfiles('extensions'), { gone: 1, idle: 0 });
      assert.deepEqual(await stored(second.storage), ['ext:1001', 'trunk:carrier']);
      exts.add('1002');
      assert.doesNotMatch(call(second.guard, '1002', '07700900003'), /flagged/);
      assert.equal(second.guard.profiles.state('ext:1002', now)!.calls, 1);

      // nothing is dropped while nothing is gone (and no line is logged)
      assert.deepEqual(await second.guard.pruneProfiles('extensions'), { gone: 0, idle: 0 });
      // the trunks' owner publishes its list: a trunk no longer in it is gone
      await second.guard.trunksNow(['other']);
      assert.equal(second.guard.profiles.state('trunk:carrier', now), undefined);
      assert.deepEqual(await stored(second.storage), ['ext:1001', 'ext:1002']);

      // 31 days without a call (profile_max_age_days: 30): the daily look drops 1002; 1001 called on day 20
      now += 20 * 86_400_000;
      call(second.guard, '1001', '07700900004');
      now += 11 * 86_400_000;
      assert.deepEqual(await second.guard.pruneProfiles('daily'), { gone: 0, idle: 1 });
      assert.deepEqual(await stored(second.storage), ['ext:1001']);
      assert.deepEqual(pruned().slice(1), [
        { trigger: 'extensions', principal_gone: 1, idle: 0, remaining: 2 },
        { trigger: 'trunks', principal_gone: 1, idle: 0, remaining: 2 },
        { trigger: 'daily', principal_gone: 0, idle: 1, remaining: 1 },
      ]);
    } finally {
      await second.guard.stop();
      await second.storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a profile learned before its extension's present holder was made is dropped, even when the delete was never seen; one set aside and brought back keeps its own", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palguard-'));
  try {
    const cfg = learningConfig(dir, '{ min_calls: 5 }');
    const exts = new Set(['1001', '1002', '1003']);
    const now = Date.now();
    // when each present holder was made: 1001 and 1002 a day before their calls, 1003 a minute after (clocks of nodes differ)
    const made = new Map([
      ['1001', now - 86_400_000],
      ['1002', now - 86_400_000],
      ['1003', now + 60_000],
    ]);
    const { guard, storage } = await guardOver(cfg, { exts, made, now: () => now });
    try {
      for (let i = 0; i < 6; i++) for (const e of ['1001', '1002', '1003']) passed(guard, e, `0207946${e}${i}`, `${e}-${i}`);
      assert.deepEqual(await guard.pruneProfiles('extensions'), { gone: 0, idle: 0 }, 'every profile is its holder’s');
      // 1002 was deleted and made again where this server did not see it: its row is new
      made.set('1002', now + 3_600_000);
      assert.deepEqual(await guard.pruneProfiles('extensions'), { gone: 1, idle: 0 });
      assert.equal(guard.profiles.state('ext:1002', now), undefined);
      assert.deepEqual((await new CallingProfileRepo(storage).loadAll()).map((r) => r.principal).sort(), ['ext:1001', 'ext:1003']);
      assert.doesNotMatch(passed(guard, '1002', '07700900123', 'new-holder'), /flagged/, 'the new holder is learning');
      // 1001 and 1003 keep theirs: a day-old holder, and one made a minute after its first call by another clock
      assert.match(passed(guard, '1001', '07700900124', 'old-holder'), /flagged=new-destination/);
      assert.match(passed(guard, '1003', '07700900125', 'skewed'), /flagged=new-destination/);
    } finally {
      await guard.stop();
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
