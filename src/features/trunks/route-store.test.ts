// The routes and time conditions the API keeps in the database: stored and
// read back on every storage driver (SQLite here; PostgreSQL and MariaDB of
// this machine, as storage.test.ts reaches them), and merged after the
// file's routes into the table calls are routed by.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { parseTimeSpec, type TimeSpec } from '../../dialplan/time-spec.js';
import { RouteTable } from './route-table.js';
import type { RoutesConfig } from './route-config.js';
import type { TrunkConfig } from './trunk-config.js';
import { storageBackends } from '../../../test/support/storage-backends.js';
import { mergeRoutes, outboundFromBody, ROUTE_STORE_MIGRATIONS, RouteStore, timeConditionFromBody } from './route-store.js';

const BACKENDS = storageBackends('rs');

for (const b of BACKENDS) {
  describe(`route_objects on ${b.name}`, { skip: b.skip }, () => {
    test('routes and time conditions are stored, replaced, read back by name and removed', async () => {
      const db = await b.open();
      try {
        await db.migrateModule('trunks', ROUTE_STORE_MIGRATIONS);
        await db.migrateModule('trunks', ROUTE_STORE_MIGRATIONS); // idempotent
        // biome-ignore lint/suspicious/noExplicitAny: the module's own table
        const store = new RouteStore(db.kysely as unknown as Kysely<any>);
        await store.put('outbound', 'zeta', { name: 'zeta', match: ['_9.'], trunks: ['t'] });
        await store.put('outbound', 'alpha', { name: 'alpha', match: ['_0X.'], trunks: ['t'], prepend: '49', strip: 1 });
        await store.put('outbound', 'alpha', { name: 'alpha', match: ['_0X.'], trunks: ['t'], prepend: '', strip: 0 });
        await store.put('time_condition', 'office', { name: 'office', times: ['09:00-17:00,mon-fri,*,*'] });
        await store.put('trunk', 'office', { name: 'office', host: '127.0.0.1', port: 5099 });
        const s = await store.load();
        assert.deepEqual(s.trunks, [{ name: 'office', host: '127.0.0.1', port: 5099 }], 'a trunk of the same name is another kind');
        assert.deepEqual(
          s.outbound.map((r) => [r.name, r.prepend ?? '']),
          [
            ['alpha', ''],
            ['zeta', ''],
          ],
        );
        assert.deepEqual(s.timeConditions, [{ name: 'office', times: ['09:00-17:00,mon-fri,*,*'] }]);
        assert.equal(await store.remove('outbound', 'zeta'), true);
        assert.equal(await store.remove('outbound', 'zeta'), false);
        assert.deepEqual(
          (await store.load()).outbound.map((r) => r.name),
          ['alpha'],
        );
      } finally {
        await db.dropTables();
        await db.close();
      }
    });
  });
}

test("the database's routes come after the file's, and the route table routes by them", () => {
  const file: RoutesConfig = {
    outbound: [outboundFromBody({ name: 'file-route', match: ['_00X.'], trunks: ['t'] })],
    inbound: [],
    timeConditions: [{ name: 'always', times: [parseTimeSpec('*,*,*,*') as TimeSpec], holidays: [] }],
  };
  const merged = mergeRoutes(file, {
    outbound: [{ name: 'db-route', match: ['_0X.'], trunks: ['t'], strip: 1, prepend: '49' }],
    inbound: [{ name: 'did', did: '4930', to: '600', time_condition: 'office', else: '601' }],
    // a stored time spec that no longer parses is left out rather than stopping the server
    timeConditions: [
      { name: 'office', times: ['*,*,*,*'] },
      { name: 'broken', times: ['25:00-26:00,*,*,*'] },
    ],
    trunks: [],
  });
  assert.deepEqual(
    merged.timeConditions.map((t) => t.name),
    ['always', 'office'],
  );
  const table = new RouteTable(merged, [{ name: 't', context: 'from-trunk' } as TrunkConfig]);
  assert.equal(table.outbound('default', '0012345')?.route.name, 'file-route', "the file's route is tried first");
  assert.deepEqual(table.outbound('default', '030555'), { route: merged.outbound[1], number: '4930555' });
  assert.deepEqual(table.destination(table.inbound('t', '4930', '')!, '4930'), { kind: 'extension', number: '600' });
  assert.ok('error' in timeConditionFromBody({ name: 'x', times: ['nonsense'] }));
});
