import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocationService, formatRemote, parseRemote, requestTarget, type BindingInput, type LocationEvent } from './location.js';
import { parseUri } from '../../sip-message/uri.js';
import type { LocationPersistence, StoredBinding } from '../../storage/location-types.js';

/** in-memory LocationPersistence that records calls and can be made slow or failing */
class FakePersistence implements LocationPersistence {
  rows = new Map<string, StoredBinding>();
  calls: string[] = [];
  delayMs = 0;
  failNext = false;
  private wait(): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('db down'));
    }
    return this.delayMs > 0 ? new Promise((r) => setTimeout(r, this.delayMs)) : Promise.resolve();
  }
  async save(b: StoredBinding): Promise<void> {
    this.calls.push(`save ${b.aor} ${b.contactUri}`);
    await this.wait();
    this.rows.set(b.aor + ' ' + b.contactUri, { ...b });
  }
  async remove(aor: string, contactUri: string): Promise<void> {
    this.calls.push(`remove ${aor} ${contactUri}`);
    await this.wait();
    this.rows.delete(aor + ' ' + contactUri);
  }
  async removeExpired(now: number): Promise<number> {
    this.calls.push('removeExpired');
    let n = 0;
    for (const [k, r] of this.rows) if (r.expiresAt <= now) this.rows.delete(k), n++;
    return n;
  }
  async loadAll(): Promise<StoredBinding[]> {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }
}

function input(aor: string, contact: string, expiresAt: number, extra: Partial<BindingInput> = {}): BindingInput {
  return {
    aor,
    contactUri: contact,
    uri: parseUri(contact),
    contactHeader: `<${contact}>`,
    expiresAt,
    received: { transport: 'udp', address: '127.0.0.1', port: 5062 },
    callId: 'c1',
    cseq: 1,
    userAgent: 'test',
    q: 1,
    instanceId: null,
    regId: null,
    ...extra,
  };
}

test('lookup returns live bindings ordered by q, then most recent', () => {
  let now = 1_000_000;
  const loc = new LocationService({ clock: () => now });
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', now + 60_000, { q: 0.5 }));
  now += 10;
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:5063', now + 60_000, { q: 1 }));
  now += 10;
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:5064', now + 60_000, { q: 0.5 }));
  assert.deepEqual(
    loc.lookup('1001').map((b) => b.contactUri),
    ['sip:1001@127.0.0.1:5063', 'sip:1001@127.0.0.1:5064', 'sip:1001@127.0.0.1:5062'],
  );
  assert.deepEqual(loc.lookup('1002'), []);
  assert.equal(loc.count(), 3);
  assert.equal(loc.aorCount(), 1);
});

test('expired bindings vanish from lookup at once and from the table at the sweep, with an event', () => {
  let now = 1_000_000;
  const loc = new LocationService({ clock: () => now });
  const events: LocationEvent[] = [];
  loc.on((e) => events.push(e));
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', now + 30_000));
  loc.upsert(input('1002', 'sip:1002@127.0.0.1:5064', now + 90_000));
  now += 30_000;
  assert.equal(loc.lookup('1001').length, 0);
  assert.equal(loc.count(), 2);
  assert.equal(loc.sweep(), 1);
  assert.equal(loc.count(), 1);
  assert.equal(loc.aorCount(), 1);
  const removed = events.filter((e) => e.type === 'removed');
  assert.equal(removed.length, 1);
  assert.equal(removed[0]!.type === 'removed' && removed[0]!.cause, 'expired');
  assert.equal(loc.lookup('1002').length, 1);
});

test('refreshing a binding keeps its qualify state and registration time', () => {
  let now = 1_000_000;
  const loc = new LocationService({ clock: () => now });
  const b = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', now + 60_000));
  loc.markQualify(b, true, 12);
  now += 1000;
  const r = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', now + 60_000, { cseq: 2 }), b);
  assert.equal(loc.count(), 1);
  assert.equal(r.registeredAt, 1_000_000);
  assert.equal(r.updatedAt, 1_001_000);
  assert.equal(r.reachable, true);
  assert.equal(r.lastRtt, 12);
  assert.equal(r.cseq, 2);
});

test('an update says refreshOnly when only the expiry moved, not when the address, Path, q or Contact text changed', () => {
  let now = 1_000_000;
  const loc = new LocationService({ clock: () => now });
  const events: LocationEvent[] = [];
  loc.on((e) => events.push(e));
  const c = 'sip:1001@127.0.0.1:5062';
  let b = loc.upsert(input('1001', c, now + 60_000));
  const again = (extra: Partial<BindingInput>) => {
    now += 1000;
    b = loc.upsert(input('1001', c, now + 60_000, { cseq: now, ...extra }), b);
    const e = events.at(-1)!;
    return e.type === 'updated' ? e.refreshOnly : 'not an update';
  };
  assert.equal(again({}), true);
  assert.equal(again({ received: { transport: 'udp', address: '127.0.0.1', port: 5999 } }), false);
  assert.equal(again({ received: { transport: 'udp', address: '127.0.0.1', port: 5999 } }), true);
  assert.equal(again({ received: { transport: 'udp', address: '127.0.0.1', port: 5999 }, path: ['<sip:edge;lr>'] }), false);
  assert.equal(again({ received: { transport: 'udp', address: '127.0.0.1', port: 5999 }, path: ['<sip:edge;lr>'], q: 0.5 }), false);
  assert.equal(
    again({ received: { transport: 'udp', address: '127.0.0.1', port: 5999 }, path: ['<sip:edge;lr>'], q: 0.5, contactHeader: `<${c}>;+sip.instance="<urn:x>"` }),
    false,
  );
  // a new contact for the same instance is a replacement, never a refresh
  now += 1000;
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:6000', now + 60_000), b);
  const e = events.at(-1)!;
  assert.ok(e.type === 'updated' && e.previousContact === c && !e.refreshOnly);
});

test('markQualify emits a reachability event only when reachability changes', () => {
  const loc = new LocationService({ clock: () => 5 });
  const b = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', 100_000));
  const ev: string[] = [];
  loc.on((e) => ev.push(e.type));
  loc.markQualify(b, true, 3);
  loc.markQualify(b, true, 4);
  loc.markQualify(b, false, 0);
  assert.deepEqual(ev, ['reachability', 'reachability']);
  assert.equal(b.reachable, false);
  assert.equal(b.lastRtt, 4);
});

test('a refresh that moves only the expiry reaches storage within a second, the latest one per binding; anything else at once', async () => {
  let now = 1_000_000;
  const db = new FakePersistence();
  const loc = new LocationService({ clock: () => now, persistence: db });
  const c = 'sip:1001@127.0.0.1:5062';
  let b = loc.upsert(input('1001', c, now + 60_000));
  await loc.flush();
  assert.deepEqual(db.calls, [`save 1001 ${c}`]);
  for (let i = 1; i <= 3; i++) {
    now += 100;
    b = loc.upsert(input('1001', c, now + 60_000, { cseq: 1 + i }), b);
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(db.calls.length, 1, 'three refreshes, nothing written yet');
  // the timer writes the latest of them once
  await new Promise((r) => setTimeout(r, 1200));
  await loc.flush();
  assert.deepEqual(db.calls, [`save 1001 ${c}`, `save 1001 ${c}`]);
  assert.equal(db.rows.get(`1001 ${c}`)?.expiresAt, now + 60_000);
  assert.equal(db.rows.get(`1001 ${c}`)?.cseq, 4);
  // a refresh, then a change of address: the change is written at once and the refresh is not written after it
  now += 100;
  b = loc.upsert(input('1001', c, now + 60_000, { cseq: 5 }), b);
  now += 100;
  b = loc.upsert(input('1001', c, now + 60_000, { cseq: 6, received: { transport: 'udp', address: '127.0.0.9', port: 5062 } }), b);
  await new Promise((r) => setImmediate(r));
  assert.equal(db.calls.length, 3);
  assert.equal(db.rows.get(`1001 ${c}`)?.received, 'udp:127.0.0.9:5062');
  // a refresh, then an unregister: the row goes and stays gone
  now += 100;
  b = loc.upsert(input('1001', c, now + 60_000, { cseq: 7, received: { transport: 'udp', address: '127.0.0.9', port: 5062 } }), b);
  loc.remove(b, 'unregistered');
  await loc.flush();
  await new Promise((r) => setTimeout(r, 1200));
  await loc.flush();
  assert.deepEqual(db.calls.slice(3), [`remove 1001 ${c}`]);
  assert.equal(db.rows.size, 0);
  // flush (the server stopping) writes a refresh still waiting
  b = loc.upsert(input('1002', 'sip:1002@h', now + 60_000));
  now += 100;
  loc.upsert(input('1002', 'sip:1002@h', now + 90_000, { cseq: 2 }), b);
  await loc.flush();
  assert.equal(db.rows.get('1002 sip:1002@h')?.expiresAt, now + 90_000);
});

test('changes are persisted in the background, in order per binding, and restored after a restart', async () => {
  let now = 1_000_000;
  const db = new FakePersistence();
  db.delayMs = 5;
  const loc = new LocationService({ clock: () => now, persistence: db });
  const b = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', now + 60_000));
  loc.upsert(input('1002', 'sip:1002@[::1]:5064', now + 60_000, { received: { transport: 'tcp', address: '::1', port: 40000, flow: 7 } }));
  const gone = loc.upsert(input('1003', 'sip:1003@127.0.0.1:5066', now + 60_000));
  // upsert returned before the slow storage finished: the answer never waits for it
  assert.equal(db.rows.size, 0);
  loc.remove(gone, 'unregistered');
  await loc.flush();
  assert.equal(db.rows.size, 2);
  assert.deepEqual(
    db.calls.filter((c) => c.includes('1003')),
    ['save 1003 sip:1003@127.0.0.1:5066', 'remove 1003 sip:1003@127.0.0.1:5066'],
  );
  assert.equal(db.rows.get('1002 sip:1002@[::1]:5064')!.received, 'tcp:[::1]:40000');
  loc.markQualify(b, true, 3);

  // restart: a new service over the same storage, later in time
  now += 10_000;
  const loc2 = new LocationService({ clock: () => now, persistence: db });
  assert.equal(await loc2.restore(), 2);
  const r = loc2.lookup('1002')[0]!;
  assert.deepEqual(r.received, { transport: 'tcp', address: '::1', port: 40000 });
  assert.equal(r.expiresAt, 1_060_000);
  assert.equal(loc2.lookup('1001')[0]!.reachable, null);

  // a restart after the bindings expired restores nothing and purges the rows
  now += 60_000;
  const loc3 = new LocationService({ clock: () => now, persistence: db });
  assert.equal(await loc3.restore(), 0);
  await loc3.flush();
  assert.equal(db.rows.size, 0);
});

test('a failing store is counted and reported, and memory stays authoritative', async () => {
  const db = new FakePersistence();
  const errors: string[] = [];
  const loc = new LocationService({ clock: () => 0, persistence: db, onPersistError: (_e, op) => errors.push(op) });
  db.failNext = true;
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', 60_000));
  await loc.flush();
  assert.deepEqual(errors, ['save']);
  assert.equal(loc.persistErrors, 1);
  assert.equal(loc.lookup('1001').length, 1);
});

test('the sweep timer runs on its interval and is stopped cleanly', async () => {
  let now = 0;
  const loc = new LocationService({ clock: () => now, sweepIntervalMs: 5 });
  loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', 10));
  now = 20;
  loc.start();
  await new Promise((r) => setTimeout(r, 30));
  loc.stop();
  assert.equal(loc.count(), 0);
});

test('remote text form round-trips, including IPv6, and rejects junk', () => {
  for (const r of [
    { transport: 'udp' as const, address: '127.0.0.1', port: 5060 },
    { transport: 'wss' as const, address: '::1', port: 8089 },
  ]) {
    assert.deepEqual(parseRemote(formatRemote(r)), r);
  }
  assert.equal(formatRemote({ transport: 'tcp', address: '::1', port: 5060, flow: 3 }), 'tcp:[::1]:5060');
  for (const bad of ['', 'udp', 'foo:1.2.3.4:5060', 'udp:127.0.0.1:0', 'udp::5060', 'udp:127.0.0.1:x']) {
    assert.equal(parseRemote(bad), undefined, bad);
  }
});

test('10,000 AORs x 3 bindings: sweep stays cheap', () => {
  let now = 0;
  const loc = new LocationService({ clock: () => now });
  for (let i = 0; i < 10_000; i++) {
    for (let j = 0; j < 3; j++) loc.upsert(input(String(10000 + i), `sip:${10000 + i}@127.0.0.1:${5000 + j}`, 3_600_000));
  }
  assert.equal(loc.count(), 30_000);
  const t0 = process.hrtime.bigint();
  assert.equal(loc.sweep(), 0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ms < 200, `sweep took ${ms} ms`);
  now = 3_600_000;
  assert.equal(loc.sweep(), 30_000);
  assert.equal(loc.aorCount(), 0);
});

test('requests go to the Contact port of a phone on the host it registered from, else back to the source (NAT)', () => {
  const loc = new LocationService({ clock: () => 0 });
  const direct = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5070', 60_000));
  assert.deepEqual(requestTarget(direct), { transport: 'udp', address: '127.0.0.1', port: 5070 });
  // a private address in the Contact: answer to where the REGISTER came from
  const natted = loc.upsert(input('1002', 'sip:1002@192.168.1.20:5060', 60_000, { received: { transport: 'udp', address: '127.0.0.1', port: 40001 } }));
  assert.deepEqual(requestTarget(natted), { transport: 'udp', address: '127.0.0.1', port: 40001 });
  // TCP: the phone's own connection, with where to reconnect if it closed
  const tcp = loc.upsert(input('1003', 'sip:1003@127.0.0.1:5080;transport=tcp', 60_000, { received: { transport: 'tcp', address: '127.0.0.1', port: 51000, flow: 9 } }));
  assert.deepEqual(requestTarget(tcp), { transport: 'tcp', address: '127.0.0.1', port: 5080, flow: 9 });
});

test('a call rings the contacts that answer qualify; when none answers, all of them', () => {
  const loc = new LocationService({ clock: () => 0 });
  const a = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5062', 60_000));
  const b = loc.upsert(input('1001', 'sip:1001@127.0.0.1:5063', 60_000));
  loc.markQualify(a, false, 0);
  assert.deepEqual(
    loc.lookupForCall('1001').map((x) => x.contactUri),
    [b.contactUri],
  );
  loc.markQualify(b, false, 0);
  assert.equal(loc.lookupForCall('1001').length, 2);
});

test('liveCount counts the live bindings of an AOR as lookup() would, without building the list', () => {
  let now = 1_000_000;
  const loc = new LocationService({ clock: () => now });
  const input = (contact: string, expiresAt: number) =>
    ({
      aor: '1001',
      contactUri: contact,
      uri: parseUri(contact) as never,
      contactHeader: `<${contact}>`,
      expiresAt,
      received: { transport: 'udp', address: '127.0.0.1', port: 5070 },
      callId: contact,
      cseq: 1,
      userAgent: '',
      q: 1,
      instanceId: null,
      regId: null,
    }) as never;
  assert.equal(loc.liveCount('1001'), 0);
  loc.upsert(input('sip:1001@127.0.0.1:5070', now + 60_000));
  loc.upsert(input('sip:1001@127.0.0.1:5071', now + 10_000));
  assert.equal(loc.liveCount('1001'), 2);
  now += 20_000;
  assert.equal(loc.liveCount('1001'), loc.lookup('1001').length);
  assert.equal(loc.liveCount('1001'), 1);
});

test('resync drops what storage no longer holds, but keeps a binding announced by another node before its row landed', async () => {
  let now = 5_000_000;
  const db = new FakePersistence();
  const loc = new LocationService({ clock: () => now, persistence: db });
  const row = (aor: string, contact: string): StoredBinding => ({
    aor,
    contactUri: contact,
    contactHeader: `<${contact}>`,
    expiresAt: now + 600_000,
    received: 'udp:127.0.0.1:5062',
    callId: `c-${aor}`,
    cseq: 1,
    userAgent: 'test',
    q: 1,
    instanceId: null,
    regId: null,
  });
  // an old remote binding whose row another node has since removed, and one in storage
  loc.adopt(row('1500', 'sip:1500@127.0.0.1:5062'));
  const kept = row('1502', 'sip:1502@127.0.0.1:5062');
  loc.adopt(kept);
  db.rows.set('1502 sip:1502@127.0.0.1:5062', kept);
  now += 60_000;
  // announced over the broker just now; the other node has not written its row yet
  loc.adopt(row('1501', 'sip:1501@127.0.0.1:5062'));
  const r = await loc.resync();
  assert.deepEqual(r, { adopted: 0, dropped: 1 });
  assert.equal(loc.lookup('1500').length, 0, 'the binding storage no longer holds is dropped');
  assert.equal(loc.lookup('1501').length, 1, 'the fresh remote binding survives the resync');
  assert.equal(loc.lookup('1502').length, 1);
  // once the grace has passed and storage still lacks it, it goes too
  now += 10_000;
  assert.deepEqual(await loc.resync(), { adopted: 0, dropped: 1 });
  assert.equal(loc.lookup('1501').length, 0);
});
