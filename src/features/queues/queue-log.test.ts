// The queue_log on disk and in the queue_log table of every storage driver
// (SQLite here; PostgreSQL and MariaDB of this machine when they answer),
// and the per-day statistics read back from the table.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { QUEUE_LOG_MIGRATIONS, QueueLog, formatQueueLogLine, localDay, parseQueueLogLine } from './queue-log.js';
import { dayStats } from './queue-stats.js';
import { storageBackends } from '../../../test/support/storage-backends.js';

const tmp = mkdtempSync(join(tmpdir(), 'queuelog-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const prefix = () => `q${process.pid}_${Math.random().toString(36).slice(2, 7)}_`;

test("lines are Asterisk's: epoch|callid|queue|agent|EVENT|data...; an event without data ends in |", () => {
  assert.equal(
    formatQueueLogLine({ epoch: 1733325412, callid: '1733325400.c12', queue: 'support', agent: 'PJSIP/1001', event: 'CONNECT', data: ['12', '1733325412.q3', '4'] }),
    '1733325412|1733325400.c12|support|PJSIP/1001|CONNECT|12|1733325412.q3|4',
  );
  assert.equal(formatQueueLogLine({ epoch: 1, callid: 'NONE', queue: 'NONE', agent: 'NONE', event: 'QUEUESTART', data: [] }), '1|NONE|NONE|NONE|QUEUESTART|');
  assert.deepEqual(parseQueueLogLine('1|NONE|NONE|NONE|QUEUESTART|')?.data, ['']);
  assert.equal(parseQueueLogLine('not a line'), null);
});

// PostgreSQL and MariaDB are required, as in storage.test.ts (PALISADE_SKIP_EXTERNAL_DB=1 skips them)
const BACKENDS = storageBackends('q');

for (const b of BACKENDS) {
  describe(`queue_log table on ${b.name}`, { skip: b.skip }, () => {
    test('every line lands in the table and in the file; per-day statistics add them up', async () => {
      const db = await b.open();
      const file = join(tmp, `${prefix()}queue_log`);
      try {
        assert.equal(await db.migrateModule('queues', QUEUE_LOG_MIGRATIONS), 1);
        // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
        const k = db.kysely as unknown as Kysely<any>;
        const now = Date.now();
        const log = new QueueLog(
          file,
          k,
          (w, e) => assert.fail(`${w}: ${e.message}`),
          () => now,
        );
        log.write('support', 'c1', 'NONE', 'ENTERQUEUE', '', '1500', 1);
        log.write('support', 'c1', 'PJSIP/1001', 'RINGNOANSWER', 15000);
        log.write('support', 'c1', 'PJSIP/1002', 'CONNECT', 20, 'x.q1', 3);
        log.write('support', 'c1', 'PJSIP/1002', 'COMPLETECALLER', 20, 95, 1);
        log.write('support', 'c2', 'NONE', 'ENTERQUEUE', '', '1501', 1);
        log.write('support', 'c2', 'PJSIP/1001', 'CONNECT', 70, 'x.q2', 2);
        log.write('support', 'c2', 'PJSIP/1001', 'COMPLETEAGENT', 70, 30, 1);
        log.write('support', 'c3', 'NONE', 'ENTERQUEUE', '', '1502', 1);
        log.write('support', 'c3', 'NONE', 'ABANDON', 1, 1, 9);
        log.write('support', 'c4', 'NONE', 'ENTERQUEUE', '', '1503', 1);
        log.write('support', 'c4', 'NONE', 'EXITWITHTIMEOUT', 1, 1, 300);
        await log.close();
        const rows = await k.selectFrom('queue_log').selectAll().orderBy('seq').execute();
        const lines = readFileSync(file, 'utf8').trim().split('\n');
        assert.equal(rows.length, 11);
        assert.equal(lines.length, 11);
        rows.forEach((r, i) => {
          const l = parseQueueLogLine(lines[i]!)!;
          assert.deepEqual(
            [Number(r.epoch), r.callid, r.queuename, r.agent, r.event, r.data1, r.data2, r.data3],
            [l.epoch, l.callid, l.queue, l.agent, l.event, l.data[0] ?? '', l.data[1] ?? '', l.data[2] ?? ''],
          );
        });
        const [s] = await dayStats(k, localDay(now), () => 60);
        assert.deepEqual(
          { ...s!, agents: undefined },
          {
            queue: 'support',
            day: localDay(now),
            offered: 4,
            answered: 2,
            abandoned: 1,
            timeouts: 1,
            exitEmpty: 0,
            exitKey: 0,
            serviceLevelSeconds: 60,
            serviceLevelPercent: 50,
            avgHoldSeconds: 45,
            longestHoldSeconds: 70,
            avgAbandonWaitSeconds: 9,
            talkSeconds: 125,
            avgTalkSeconds: 63,
            agents: undefined,
          },
        );
        assert.deepEqual(s!.agents, [
          { agent: 'PJSIP/1001', calls: 1, talkSeconds: 30, ringNoAnswer: 1 },
          { agent: 'PJSIP/1002', calls: 1, talkSeconds: 95, ringNoAnswer: 0 },
        ]);
      } finally {
        await db.dropTables();
        await db.close();
      }
    });
  });
}
