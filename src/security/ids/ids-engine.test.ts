import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdsEngine, type IdsOptions } from './ids-engine.js';
import { SecurityEventBus } from './event-bus.js';
import { securityEvent } from './event-levels.js';
import type { SecurityEvent } from '../../core/security-event.js';
import { nftArgs } from './nftables.js';

function opts(over: Partial<IdsOptions> = {}): IdsOptions {
  return {
    trusted: ['10.9.0.0/16'],
    authFailures: { threshold: 5, windowSec: 60 },
    registeredThreshold: 50,
    badRequests: { threshold: 20, windowSec: 60 },
    floodPacketsPerSecond: 100,
    scanners: { action: 'ban', userAgents: ['friendly-scanner'] },
    ban: { timeSec: 600, factor: 4, maxSec: 7 * 86400, forgetAfterSec: 86400 },
    ...over,
  };
}

function setup(over: Partial<IdsOptions> = {}, registered = new Set<string>()) {
  let now = 1_000_000;
  const bus = new SecurityEventBus();
  const seen: SecurityEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  const ids = new IdsEngine(opts(over), { sink: bus, clock: () => now, isRegisteredAddress: (a) => registered.has(a) });
  bus.subscribe((e) => ids.handle(e));
  return { ids, bus, seen, tick: (ms: number) => (now += ms), now: () => now };
}

function fail(address: string, callId: string, cseq: number, t: number, type: SecurityEvent['type'] = 'InvalidPassword', attempt = `${callId}/${cseq}`): SecurityEvent {
  return securityEvent(type, { time: t, remote: { transport: 'udp', address, port: 5060 }, account: '1001', sessionId: callId, attempt, extra: { cseq } });
}

test('5 auth failures from one address within 60 s ban it; the packet gate then drops it', () => {
  const s = setup();
  for (let i = 1; i <= 4; i++) s.bus.emit(fail('192.0.2.7', `c${i}`, 1, s.now()));
  assert.equal(s.ids.admit('192.0.2.7'), true, 'four failures are tolerated');
  s.bus.emit(fail('192.0.2.7', 'c5', 1, s.now(), 'InvalidAccountID'));
  assert.equal(s.ids.admit('192.0.2.7'), false, 'the fifth bans at once: the very next packet is dropped');
  assert.equal(s.ids.admit('192.0.2.8'), true);
  const ban = s.seen.find((e) => e.type === 'Ban');
  assert.ok(ban && ban.level >= 10, 'a Ban event at level >= 10');
  assert.equal(ban.extra?.seconds, 600);
});

test('requests refused for the address reputation count like failed logins: a guesser refused before digest is still banned', () => {
  const s = setup();
  s.bus.emit(fail('192.0.2.30', 'g1', 1, s.now(), 'InvalidPassword', 'guess-1'));
  for (let i = 2; i <= 4; i++) s.bus.emit(fail('192.0.2.30', `g${i}`, 1, s.now(), 'ReputationReject'));
  assert.equal(s.ids.admit('192.0.2.30'), true);
  s.bus.emit(fail('192.0.2.30', 'g5', 1, s.now(), 'ReputationReject'));
  assert.equal(s.ids.admit('192.0.2.30'), false, 'banned at the fifth refusal');
});

test('failures spread beyond the window do not ban', () => {
  const s = setup();
  for (let i = 1; i <= 10; i++) {
    s.bus.emit(fail('192.0.2.9', `c${i}`, 1, s.now()));
    s.tick(16_000);
  }
  assert.equal(s.ids.admit('192.0.2.9'), true);
});

test('retransmissions of one failed request (same Call-ID, CSeq and credentials) count once', () => {
  const s = setup();
  for (let i = 0; i < 20; i++) s.bus.emit(fail('192.0.2.10', 'same-call', 7, s.now(), 'InvalidPassword', 'same-guess'));
  assert.equal(s.ids.admit('192.0.2.10'), true);
  // svcrack's pattern: every guess with the same Call-ID and CSeq, but new credentials
  for (let i = 0; i < 5; i++) s.bus.emit(fail('192.0.2.11', 'same-call', 2, s.now(), 'InvalidPassword', `guess-${i}`));
  assert.equal(s.ids.admit('192.0.2.11'), false);
  // stale rechallenges are ChallengeSent, not failures
  for (let i = 0; i < 20; i++) s.bus.emit(securityEvent('ChallengeSent', { remote: { transport: 'udp', address: '192.0.2.10', port: 1 }, sessionId: `x${i}` }));
  assert.equal(s.ids.admit('192.0.2.10'), true);
});

test('an address with a live registration needs registered_threshold failures', () => {
  const s = setup({}, new Set(['192.0.2.20']));
  for (let i = 1; i <= 49; i++) s.bus.emit(fail('192.0.2.20', `c${i}`, 1, s.now()));
  assert.equal(s.ids.admit('192.0.2.20'), true);
  s.bus.emit(fail('192.0.2.20', 'c50', 1, s.now()));
  assert.equal(s.ids.admit('192.0.2.20'), false);
});

test('trusted addresses are never banned, by rule or by hand', () => {
  const s = setup();
  for (let i = 1; i <= 30; i++) s.bus.emit(fail('10.9.3.4', `c${i}`, 1, s.now()));
  assert.equal(s.ids.admit('10.9.3.4'), true);
  assert.equal(s.ids.ban('10.9.3.4', 'manual', { manual: true }), undefined);
});

test('ban time grows ×4 with each repeat offence and is capped; bans expire', () => {
  const s = setup({ ban: { timeSec: 600, factor: 4, maxSec: 20000, forgetAfterSec: 86400 } });
  const lengths: number[] = [];
  for (let round = 0; round < 4; round++) {
    const b = s.ids.ban('192.0.2.30', 'test')!;
    lengths.push(Math.round((b.until - s.now()) / 1000));
    s.tick(b.until - s.now() + 1);
    s.ids.sweep();
    assert.equal(s.ids.admit('192.0.2.30'), true, 'expired');
  }
  assert.deepEqual(lengths, [600, 2400, 9600, 20000]);
  assert.ok(s.seen.some((e) => e.type === 'Unban' && e.detail === 'expired'));
});

test('a flood over the packet rate bans the flooder, not its neighbour', () => {
  const s = setup({ floodPacketsPerSecond: 100 });
  let dropped = 0;
  for (let i = 0; i < 1000; i++) {
    if (!s.ids.admit('192.0.2.40')) dropped++;
    if (i % 20 === 0) assert.equal(s.ids.admit('192.0.2.41'), true);
  }
  assert.equal(dropped, 900);
  assert.ok(s.seen.some((e) => e.type === 'Flood' && e.remote?.address === '192.0.2.40'));
  assert.equal(s.ids.isBanned('192.0.2.41'), false);
});

test('a scanner user agent is banned at once (action ban) or only logged (action log)', () => {
  const s = setup();
  const remote = { transport: 'udp' as const, address: '192.0.2.50', port: 5060 };
  assert.equal(s.ids.checkUserAgent('friendly-scanner', { remote }), true);
  assert.equal(s.ids.admit('192.0.2.50'), false);
  const l = setup({ scanners: { action: 'log', userAgents: ['friendly-scanner'] } });
  assert.equal(l.ids.checkUserAgent('Friendly-Scanner 1.0', { remote }), false);
  assert.equal(l.ids.admit('192.0.2.50'), true);
  assert.ok(l.seen.some((e) => e.type === 'ScannerDetected'));
  assert.equal(l.ids.checkUserAgent('baresip v1.0', { remote }), false);
});

test('bans and offence history survive a restart through the state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ids-state-'));
  try {
    const file = join(dir, 'bans.json');
    const a = setup({ stateFile: file });
    a.ids.ban('192.0.2.60', 'test');
    a.ids.stop();
    assert.ok(existsSync(file));
    const b = setup({ stateFile: file });
    assert.equal(b.ids.start(), 1);
    assert.equal(b.ids.admit('192.0.2.60'), false);
    b.ids.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker other than worker 0 reads the state file and never writes it; worker 0 writes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ids-state-'));
  try {
    const file = join(dir, 'bans.json');
    const w0 = setup({ stateFile: file });
    w0.ids.ban('192.0.2.61', 'test');
    w0.ids.stop();
    const written = readFileSync(file, 'utf8');
    assert.match(written, /192\.0\.2\.61/);
    // worker 1 restores worker 0's bans, bans another address, stops: the file is worker 0's as it was
    const w1 = setup({ stateFile: file, stateReadOnly: true });
    assert.equal(w1.ids.start(), 1);
    assert.equal(w1.ids.admit('192.0.2.61'), false);
    w1.ids.ban('192.0.2.62', 'test');
    assert.equal(w1.ids.admit('192.0.2.62'), false, 'the ban holds in memory');
    w1.ids.stop();
    assert.equal(readFileSync(file, 'utf8'), written);
    assert.deepEqual(readdirSync(dir), ['bans.json'], 'no temporary file left either');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nftables commands name the family, table and set, with a timeout', () => {
  const o = { family: 'inet', table: 'palisade', set: 'banned', set6: 'banned6' };
  assert.deepEqual(nftArgs(o, 'add', '192.0.2.1', 600), ['add', 'element', 'inet', 'palisade', 'banned', '{ 192.0.2.1 timeout 600s }']);
  assert.deepEqual(nftArgs(o, 'delete', '2001:db8::1'), ['delete', 'element', 'inet', 'palisade', 'banned6', '{ 2001:db8::1 }']);
});

test('malformed requests past bad_requests.threshold ban the sender', () => {
  const s = setup();
  const bad = () => securityEvent('RequestBadFormat', { time: s.now(), remote: { transport: 'udp', address: '192.0.2.70', port: 1 }, detail: 'bad Via' });
  for (let i = 0; i < 19; i++) s.bus.emit(bad());
  assert.equal(s.ids.admit('192.0.2.70'), true);
  s.bus.emit(bad());
  assert.equal(s.ids.admit('192.0.2.70'), false);
});

test('the registered-address lookup is a cached Set, rebuilt at most once per ttl', async () => {
  const { registeredAddresses } = await import('./security-service.js');
  let calls = 0;
  let now = 0;
  const has = registeredAddresses(
    () => (calls++, ['192.0.2.80']),
    1000,
    () => now,
  );
  for (let i = 0; i < 1000; i++) assert.equal(has(i % 2 ? '192.0.2.80' : '192.0.2.81'), i % 2 === 1);
  assert.equal(calls, 1);
  now = 1000;
  has('x');
  assert.equal(calls, 2);
});

test('addresses given by hand are put in the spelling the gate sees', async () => {
  const { canonicalAddress } = await import('./security-service.js');
  assert.equal(canonicalAddress('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(canonicalAddress('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(canonicalAddress('192.0.2.1'), '192.0.2.1');
});

test('digest outcomes map to Asterisk event types: stale and missing are challenges, not failures', async () => {
  const { authOutcomeType } = await import('./auth-events.js');
  assert.equal(authOutcomeType({ ok: true }), 'SuccessfulAuth');
  assert.equal(authOutcomeType({ ok: false, reason: 'missing' }), 'ChallengeSent');
  assert.equal(authOutcomeType({ ok: false, reason: 'stale' }), 'ChallengeSent');
  assert.equal(authOutcomeType({ ok: false, reason: 'unknown-user' }), 'InvalidAccountID');
  assert.equal(authOutcomeType({ ok: false, reason: 'bad-password' }), 'InvalidPassword');
  assert.equal(authOutcomeType({ ok: false, reason: 'replay' }), 'ReplayAttempt');
  assert.equal(authOutcomeType({ ok: false, reason: 'forbidden' }), 'RequestNotAllowed');
});
