// The presence compositor over several workers: another worker's newest
// publication counts as this worker's own, until it expires, is withdrawn
// or its worker goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogRoot } from '../../observability/logger.js';
import { DEFAULT_PRESENCE } from './read-presence.js';
import { PresenceService } from './presence-service.js';

test('several workers: a publication made in another worker is composed here, its watchers told; the newest wins; it goes with its worker or its expiry', () => {
  let now = 1_000_000;
  const notified: string[] = [];
  const shared: Array<[string, string | null]> = [];
  const svc = new PresenceService(
    {
      cfg: DEFAULT_PRESENCE,
      domain: 'pbx.example.org',
      userAgent: 'test',
      events: { register: () => undefined, notify: async (_p: string, ext: string) => void notified.push(ext) } as never,
      authenticate: () => ({ user: '' }) as never,
      extensions: { get: () => ({ context: 'default' }) },
      deviceState: () => 'idle',
      isDnd: () => false,
      log: new LogRoot('error').get('presence'),
    },
    () => now,
  );
  svc.onPublished = (ext, entry) => shared.push([ext, entry?.doc.note ?? null]);
  assert.equal(svc.compose('1002').note, 'Available');
  svc.adoptPublished('1002', 1, { doc: { basic: 'open', activities: ['away'], note: 'Gone for lunch' }, expiresAt: now + 60_000 });
  assert.deepEqual(notified, ['1002'], 'its watchers here hear of it');
  assert.equal(svc.compose('1002').note, 'Gone for lunch');
  assert.deepEqual(shared, [], 'what came from another worker is not shared again');
  // a newer local publication wins, and is shared
  const etag = svc.publishFrom('sip', '1002', { basic: 'open', activities: [], note: 'Back at my desk' }, 120);
  assert.equal(svc.compose('1002').note, 'Back at my desk');
  assert.deepEqual(shared, [['1002', 'Back at my desk']]);
  svc.publishFrom('sip', '1002', null, 0, etag ?? undefined);
  assert.deepEqual(shared.at(-1), ['1002', null], 'withdrawn: the others hear none is left here');
  assert.equal(svc.compose('1002').note, 'Gone for lunch');
  // expired in the other worker's time: not composed any more
  now += 61_000;
  assert.equal(svc.compose('1002').note, 'Available');
  now -= 61_000;
  svc.dropWorker(1);
  assert.equal(svc.compose('1002').note, 'Available', 'gone with its worker');
  svc.adoptPublished('1003', 2, { doc: { basic: 'closed', activities: [], note: 'Off' }, expiresAt: now + 60_000 });
  svc.adoptPublished('1003', 2, null);
  assert.equal(svc.compose('1003').note, 'Available');
  svc.publications.clear();
});
