import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { Qualifier, type QualifyResult } from './qualifier.js';
import { LocationService, type Binding } from './location.js';
import { parseUri } from '../../sip-message/uri.js';

const T0 = 1_700_000_000_000;

function populate(loc: LocationService, n: number, expiresAt: number): void {
  for (let i = 0; i < n; i++) {
    const contact = `sip:${2000 + i}@192.0.2.${i % 250}:5060`; // private/documentation Contact: never a destination
    loc.upsert({
      aor: String(2000 + i),
      contactUri: contact,
      uri: parseUri(contact),
      contactHeader: `<${contact}>`,
      expiresAt,
      received: { transport: 'udp', address: '127.0.0.1', port: 20000 + i },
      callId: `c${i}`,
      cseq: 1,
      userAgent: 'test',
      q: 1,
      instanceId: null,
      regId: null,
    });
  }
}

function isLoopback(addr: string): boolean {
  return isIP(addr) === 4 ? addr.startsWith('127.') : addr === '::1';
}

/** records what would be sent; answers through `answer` */
function fakeSender(answer: (b: Binding) => Promise<QualifyResult>) {
  const sent: Binding[] = [];
  const send = (b: Binding) => {
    // the destination is where the phone registered from, never the Contact host
    assert.ok(isLoopback(b.received.address), `would send to ${b.received.address}`);
    sent.push(b);
    return answer(b);
  };
  return { sent, send };
}

test('every binding is qualified once per interval, spread over the ticks, to its received address', async () => {
  const clock = { now: T0 };
  const loc = new LocationService({ clock: () => clock.now });
  populate(loc, 600, T0 + 3_600_000);
  const { sent, send } = fakeSender(async () => ({ ok: true, rtt: 5 }));
  const q = new Qualifier({ location: loc, sendOptions: send, intervalSec: 60, tickMs: 1000, clock: () => clock.now });
  const perTick: number[] = [];
  for (let t = 0; t < 60; t++) {
    clock.now += 1000;
    perTick.push(q.tick());
  }
  assert.equal(sent.length, 600);
  assert.equal(new Set(sent.map((b) => b.aor)).size, 600);
  // 600 over 60 ticks: ~10 a tick; a burst would put hundreds in one tick
  assert.ok(Math.max(...perTick) <= 30, `max per tick ${Math.max(...perTick)}`);
  assert.ok(perTick.filter((n) => n > 0).length >= 50);
  // the next interval (once the answers are in) sends to each binding once more
  await new Promise((r) => setImmediate(r));
  for (let t = 0; t < 60; t++) {
    clock.now += 1000;
    q.tick();
  }
  assert.equal(sent.length, 1200);
});

test('answers mark bindings reachable with their RTT; failures and rejections mark them unreachable', async () => {
  const clock = { now: T0 };
  const loc = new LocationService({ clock: () => clock.now });
  populate(loc, 30, T0 + 3_600_000);
  const { send } = fakeSender(async (b) => {
    const i = Number(b.aor) - 2000;
    if (i % 3 === 0) return { ok: true, rtt: 7 };
    if (i % 3 === 1) return { ok: false, rtt: 0 };
    throw new Error('send failed');
  });
  const q = new Qualifier({ location: loc, sendOptions: send, intervalSec: 10, clock: () => clock.now });
  for (let t = 0; t < 10; t++) {
    clock.now += 1000;
    q.tick();
  }
  await new Promise((r) => setImmediate(r));
  for (const b of loc.all()) {
    const i = Number(b.aor) - 2000;
    assert.equal(b.reachable, i % 3 === 0, b.aor);
    if (i % 3 === 0) assert.equal(b.lastRtt, 7);
  }
  assert.equal(q.pending, 0);
});

test('no second OPTIONS to a contact while one is outstanding; expired bindings are skipped', async () => {
  const clock = { now: T0 };
  const loc = new LocationService({ clock: () => clock.now });
  populate(loc, 5, T0 + 3_600_000);
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const { sent, send } = fakeSender(async () => {
    await gate;
    return { ok: true, rtt: 1 };
  });
  const q = new Qualifier({ location: loc, sendOptions: send, intervalSec: 1, tickMs: 1000, clock: () => clock.now });
  clock.now += 1000;
  q.tick();
  assert.equal(sent.length, 5);
  clock.now += 1000;
  q.tick();
  assert.equal(sent.length, 5);
  release();
  await gate;
  await new Promise((r) => setImmediate(r));
  clock.now += 1000;
  q.tick();
  assert.equal(sent.length, 10);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(q.pending, 0);
  const c = 'sip:9999@127.0.0.1:5099';
  loc.upsert({
    aor: '9999',
    contactUri: c,
    uri: parseUri(c),
    contactHeader: `<${c}>`,
    expiresAt: T0 + 7_200_000,
    received: { transport: 'udp', address: '127.0.0.1', port: 5099 },
    callId: 'y',
    cseq: 1,
    userAgent: '',
    q: 1,
    instanceId: null,
    regId: null,
  });
  clock.now = T0 + 3_600_000;
  // only the binding that has not expired is probed
  assert.equal(q.tick(), 1);
  assert.equal(sent.at(-1)!.aor, '9999');
});

test('start/stop drive ticks on a real timer and leave nothing running', async () => {
  const loc = new LocationService();
  const now = Date.now();
  for (let i = 0; i < 3; i++) {
    const c = `sip:30${i}@127.0.0.1:5070`;
    loc.upsert({
      aor: `30${i}`,
      contactUri: c,
      uri: parseUri(c),
      contactHeader: `<${c}>`,
      expiresAt: now + 60_000,
      received: { transport: 'udp', address: '127.0.0.1', port: 5070 },
      callId: 'x',
      cseq: 1,
      userAgent: '',
      q: 1,
      instanceId: null,
      regId: null,
    });
  }
  const { sent, send } = fakeSender(async () => ({ ok: true, rtt: 1 }));
  const q = new Qualifier({ location: loc, sendOptions: send, intervalSec: 1, tickMs: 20 });
  q.start();
  await new Promise((r) => setTimeout(r, 1200));
  q.stop();
  assert.ok(sent.length >= 3, `sent ${sent.length}`);
});
