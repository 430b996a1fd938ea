// The cluster's call journal: a call of a worker that died (sip.workers > 1)
// is closed into a CDR at once by worker 0's journal, whether its note was
// already written or still waited for the next batch.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../storage/database.js';
import { LogRoot } from '../../observability/logger.js';
import type { CdrInput } from '../../core/cdr.js';
import type { CallEvent } from '../../core/call-events.js';
import { CallJournal, CLUSTER_MIGRATIONS } from './call-journal.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const ev = (phase: CallEvent['phase'], callId: string, at: number, cause?: string): CallEvent => ({
  phase,
  callId,
  from: '1001',
  to: '1002',
  via: 'b2bua',
  uniqueid: `n1-${callId}`,
  channel: 'SIP/1001',
  at,
  ...(cause ? { cause } : {}),
});

test("a dead worker's calls get their CDR at once: one already noted in the table, one still in the batch; a call that ends normally gets none from the journal", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const db = await openStorage({ driver: 'sqlite', path: join(dir, 'j.db'), tablePrefix: '' });
  try {
    await db.migrateModule('cluster', CLUSTER_MIGRATIONS);
    const cdrs: CdrInput[] = [];
    const journal = new CallJournal({
      db: db.kysely as never,
      node: 'n1',
      started: Date.now(),
      writeCdr: async (r) => void cdrs.push(r),
      log: new LogRoot('error').get('cluster'),
      flushEveryMs: 60_000,
      aliveEveryMs: 60_000,
    });
    await journal.start();
    const t = Date.now();
    journal.onCall(ev('start', 'noted', t - 5000));
    journal.onCall(ev('answered', 'noted', t - 4000));
    journal.onCall(ev('start', 'normal', t - 3000));
    await journal.flush();
    journal.onCall(ev('start', 'pending', t - 1000));
    // worker 1 died: its calls end with cause worker-gone in worker 0's view
    journal.onCall(ev('end', 'noted', t, 'worker-gone'));
    journal.onCall(ev('end', 'pending', t, 'worker-gone'));
    journal.onCall(ev('end', 'normal', t));
    await journal.stop();
    assert.deepEqual(
      cdrs.map((c) => [c.uniqueid, c.disposition, c.userfield, c.answer !== null, c.end]),
      [
        ['n1-noted', 'ANSWERED', 'worker-crashed', true, t],
        ['n1-pending', 'NO ANSWER', 'worker-crashed', false, t],
      ],
    );
    const left = await (db.kysely as never as { selectFrom(t: string): { selectAll(): { execute(): Promise<unknown[]> } } }).selectFrom('cluster_calls').selectAll().execute();
    assert.deepEqual(left, [], 'no note left');
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const backend of storageBackends('cj')) {
  describe(`the journal's tables on ${backend.name}`, { skip: backend.skip }, () => {
    test('two installations sharing one database (each its table_prefix) each create their journal', async () => {
      const first = await backend.open();
      const second = await backend.open();
      try {
        await first.migrateModule('cluster', CLUSTER_MIGRATIONS);
        // before the key was prefixed, PostgreSQL refused this: relation "cluster_calls_pk" already exists
        await second.migrateModule('cluster', CLUSTER_MIGRATIONS);
        for (const [db, node] of [
          [first, 'a'],
          [second, 'b'],
        ] as const) {
          await db.kysely
            .insertInto('cluster_calls' as never)
            .values({ node, call_id: 'c1', start: 1 } as never)
            .execute();
          const rows = await db.kysely
            .selectFrom('cluster_calls' as never)
            .select(['node' as never])
            .execute();
          assert.deepEqual(rows, [{ node }], 'each installation sees its own journal only');
        }
      } finally {
        await first.dropTables().catch(() => undefined);
        await second.dropTables().catch(() => undefined);
        await first.close();
        await second.close();
      }
    });
  });
}
