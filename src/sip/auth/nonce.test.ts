import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { NonceManager, NonceCountTracker } from './nonce.js';

const KEY = Buffer.alloc(32, 7);

test('a nonce is 32 base64url characters and checks fresh within its lifetime', () => {
  let now = 1_700_000_000_000;
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY, clock: () => now });
  const n = m.issue();
  assert.match(n, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(m.check(n).state, 'fresh');
  assert.equal(m.check(n).issuedAt, 1_700_000_000);
  now += 300_000;
  assert.equal(m.check(n).state, 'fresh');
  now += 1_000;
  assert.equal(m.check(n).state, 'expired');
});

test('the nonce MAC is HMAC-SHA256(key, ts || counter || realm) cut to 16 bytes, for short, block-size and long keys', () => {
  for (const key of [Buffer.alloc(16, 1), Buffer.alloc(32, 7), Buffer.alloc(64, 9), Buffer.from('k'.repeat(100))]) {
    const m = new NonceManager({ realm: 'pbx.example', lifetimeSec: 300, key });
    for (let i = 0; i < 3; i++) {
      const raw = Buffer.from(m.issue(), 'base64url');
      const want = createHmac('sha256', key).update(raw.subarray(0, 8)).update('pbx.example').digest().subarray(0, 16);
      assert.deepEqual(raw.subarray(8), want, `key of ${key.length} bytes`);
    }
  }
});

test('successive nonces differ', () => {
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 300 });
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(m.issue());
  assert.equal(seen.size, 1000);
});

test('a tampered, foreign-key, foreign-realm or non-canonical nonce is invalid', () => {
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY });
  const n = m.issue();
  const flipped = n.slice(0, 5) + (n[5] === 'A' ? 'B' : 'A') + n.slice(6);
  assert.equal(m.check(flipped).state, 'invalid');
  assert.equal(m.check(n.slice(1)).state, 'invalid');
  assert.equal(m.check('').state, 'invalid');
  assert.equal(new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: Buffer.alloc(32, 8) }).check(n).state, 'invalid');
  assert.equal(new NonceManager({ realm: 'other', lifetimeSec: 300, key: KEY }).check(n).state, 'invalid');
  // '-'/'_' spelled as '+'/'/' decodes to the same bytes in Node; only the canonical form is accepted
  const alt = n.replace(/-/g, '+').replace(/_/g, '/');
  if (alt !== n) assert.equal(m.check(alt).state, 'invalid');
  assert.equal(m.check('A'.repeat(31) + '+').state, 'invalid');
});

test("workers sharing a key accept each other's nonces; a random key does not", () => {
  const a = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY });
  const b = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY });
  assert.equal(b.check(a.issue()).state, 'fresh');
  const c = new NonceManager({ realm: 'pbx', lifetimeSec: 300 });
  assert.equal(c.check(a.issue()).state, 'invalid');
  assert.throws(() => new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: Buffer.alloc(8) }), /PAL_ERR_NONCE_KEY/);
});

test('a nonce stamped in the future is invalid', () => {
  let now = 1_700_000_000_000;
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY, clock: () => now });
  const n = m.issue();
  now -= 60_000;
  assert.equal(m.check(n).state, 'invalid');
});

test('nonce-count: strictly increasing nc per nonce is accepted, repeats and decreases are replays', () => {
  const t = new NonceCountTracker(300);
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY, clock: () => 1_700_000_000_000 });
  const n1 = m.issue();
  const n2 = m.issue();
  const now = 1_700_000_000;
  assert.equal(t.accept(n1, now, 1, now), 'ok');
  assert.equal(t.accept(n1, now, 1, now), 'replay');
  assert.equal(t.accept(n1, now, 2, now), 'ok');
  assert.equal(t.accept(n1, now, 1, now), 'replay');
  assert.equal(t.accept(n2, now, 1, now), 'ok');
  assert.equal(t.accept(n1, now, 5, now), 'ok');
});

test('nonce-count: memory stays bounded; evicted nonces come back as forgotten (stale), never accepted again', () => {
  let ms = 1_700_000_000_000;
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 300, key: KEY, clock: () => ms });
  const t = new NonceCountTracker(300, 100);
  const first: string[] = [];
  for (let i = 0; i < 100; i++) {
    const n = m.issue();
    first.push(n);
    assert.equal(t.accept(n, Math.floor(ms / 1000), 1, Math.floor(ms / 1000)), 'ok');
  }
  ms += 1000;
  const later = m.issue();
  assert.equal(t.accept(later, Math.floor(ms / 1000), 1, Math.floor(ms / 1000)), 'ok');
  assert.equal(t.size, 100);
  // the evicted nonce (issued in the first second) may not be replayed with nc=1
  assert.equal(t.accept(first[0]!, Math.floor(ms / 1000) - 1, 1, Math.floor(ms / 1000)), 'forgotten');
});

test('nonce-count: expired entries are dropped as new nonces arrive', () => {
  let ms = 1_700_000_000_000;
  const m = new NonceManager({ realm: 'pbx', lifetimeSec: 10, key: KEY, clock: () => ms });
  const t = new NonceCountTracker(10);
  for (let i = 0; i < 50; i++) t.accept(m.issue(), Math.floor(ms / 1000), 1, Math.floor(ms / 1000));
  assert.equal(t.size, 50);
  ms += 11_000;
  t.accept(m.issue(), Math.floor(ms / 1000), 1, Math.floor(ms / 1000));
  assert.equal(t.size, 1);
});
