// Dynamic members and their pauses survive a restart when persistentmembers
// is on (the queue_members table), and the operator's commands answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase } from '../../storage/database.js';
import { LogRoot } from '../../observability/logger.js';
import { parseQueuesConf } from './queues-conf.js';
import { QueueLog, QUEUE_LOG_MIGRATIONS } from './queue-log.js';
import { QueueService, type MemberOp } from './queue-service.js';

test('persistentmembers: members added (paused, with a reason) come back after a restart; a removed one does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-persist-'));
  const db = await openDatabase({ driver: 'sqlite', path: join(dir, 'p.db'), tablePrefix: '' });
  try {
    await db.migrateModule('queues', QUEUE_LOG_MIGRATIONS);
    // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
    const k = db.kysely as unknown as Kysely<any>;
    const conf = parseQueuesConf('[general]\npersistentmembers = yes\n[support]\nmember => PJSIP/1001\n[sales]\n', 'queues.conf');
    const make = () =>
      new QueueService({
        conf,
        log: new QueueLog(null, k, (w, e) => assert.fail(`${w}: ${e.message}`)),
        devices: { state: () => 'idle', onChange: () => () => undefined },
        logger: new LogRoot('error').get('q'),
        db: k,
      });
    const a = make();
    await a.start();
    assert.equal(a.addMember('support', 'PJSIP/1002', { penalty: 3, name: 'Bob' }), 'ok');
    assert.equal(a.addMember('sales', 'PJSIP/1003', {}), 'ok');
    assert.equal(a.addMember('nosuch', 'PJSIP/1003', {}), 'nosuchqueue');
    assert.equal(a.addMember('sales', 'not-an-interface', {}), 'badinterface');
    assert.equal(a.setPaused('support', 'PJSIP/1002', true, 'training'), true);
    assert.equal(a.removeMember('sales', 'PJSIP/1003'), 'ok');
    await a.flushMembers();
    a.stop();
    const b = make();
    await b.start();
    const support = b.status('support')[0]! as { members: Array<{ interface: string; name: string; penalty: number; paused: boolean; reason: string; dynamic: boolean }> };
    assert.deepEqual(
      support.members.map((m) => [m.interface, m.name, m.penalty, m.paused, m.reason, m.dynamic]),
      [
        ['PJSIP/1001', 'PJSIP/1001', 0, false, '', false],
        ['PJSIP/1002', 'Bob', 3, true, 'training', true],
      ],
    );
    assert.deepEqual((b.status('sales')[0] as { members: unknown[] }).members, []);
    b.stop();
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two services on one database (two nodes): reloadMembers takes the other’s added, paused and removed members; static members stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-reload-'));
  const db = await openDatabase({ driver: 'sqlite', path: join(dir, 'p.db'), tablePrefix: '' });
  try {
    await db.migrateModule('queues', QUEUE_LOG_MIGRATIONS);
    // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
    const k = db.kysely as unknown as Kysely<any>;
    const conf = parseQueuesConf('[general]\npersistentmembers = yes\n[support]\nmember => PJSIP/1001\n', 'queues.conf');
    const make = () =>
      new QueueService({
        conf,
        log: new QueueLog(null, k, (w, e) => assert.fail(`${w}: ${e.message}`)),
        devices: { state: () => 'idle', onChange: () => () => undefined },
        logger: new LogRoot('error').get('q'),
        db: k,
      });
    const members = (s: QueueService) =>
      (s.status('support')[0] as { members: Array<{ interface: string; penalty: number; paused: boolean; reason: string }> }).members.map((m) => [
        m.interface,
        m.penalty,
        m.paused,
        m.reason,
      ]);
    const [a, b] = [make(), make()];
    await a.start();
    await b.start();
    assert.equal(a.addMember('support', 'PJSIP/1002', { penalty: 2 }), 'ok');
    assert.equal(a.addMember('support', 'PJSIP/1003', {}), 'ok');
    await a.flushMembers();
    assert.equal(await b.reloadMembers(), true);
    assert.deepEqual(members(b), members(a));
    assert.equal(a.setPaused('support', 'PJSIP/1002', true, 'lunch'), true);
    assert.equal(a.removeMember('support', 'PJSIP/1003'), 'ok');
    await a.flushMembers();
    await b.reloadMembers();
    assert.deepEqual(members(b), [
      ['PJSIP/1001', 0, false, ''],
      ['PJSIP/1002', 2, true, 'lunch'],
    ]);
    a.stop();
    b.stop();
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two workers: a member change made in one is shared as an op and held by the other, which writes no queue_log line and no row of its own', async () => {
  const conf = parseQueuesConf('[general]\npersistentmembers = no\n[support]\nmember => PJSIP/1001\n[sales]\n', 'queues.conf');
  const lines: string[][] = [];
  const make = (who: string) =>
    new QueueService({
      conf,
      log: { write: (...a: Array<string | number>) => void lines.push([who, ...a.map(String)]) } as unknown as QueueLog,
      devices: { state: () => 'idle', onChange: () => () => undefined },
      logger: new LogRoot('error').get('q'),
      db: null,
    });
  const w0 = make('w0');
  const w1 = make('w1');
  const sent: MemberOp[] = [];
  w1.onMemberOp = (op) => {
    sent.push(op);
    w0.applyShared(op);
  };
  w0.onMemberOp = () => assert.fail('a change applied from another worker is not shared again');
  assert.equal(w1.addMember('sales', 'PJSIP/1002', { penalty: 2, name: 'Bob', paused: true, reason: 'lunch' }), 'ok');
  assert.equal(w1.setPaused('', 'PJSIP/1002', false), true);
  assert.equal(w1.setPenalty('sales', 'PJSIP/1002', 5), true);
  assert.equal(w1.addMember('support', 'PJSIP/1003', {}), 'ok');
  assert.equal(w1.removeMember('support', 'PJSIP/1003'), 'ok');
  assert.deepEqual(
    sent.map((o) => o.op),
    ['add', 'pause', 'penalty', 'add', 'remove'],
  );
  const view = (s: QueueService, q: string) =>
    (s.status(q)[0] as { members: Array<{ interface: string; name: string; penalty: number; paused: boolean }> }).members.map((m) => [m.interface, m.name, m.penalty, m.paused]);
  assert.deepEqual(view(w0, 'sales'), [['PJSIP/1002', 'Bob', 5, false]]);
  assert.deepEqual(view(w0, 'support'), view(w1, 'support'));
  assert.deepEqual(view(w0, 'support'), [['PJSIP/1001', 'PJSIP/1001', 0, false]]);
  assert.ok(lines.length >= 5, 'worker 1 logged its changes');
  assert.deepEqual(
    lines.filter((l) => l[0] === 'w0' && l[4] !== 'QUEUESTART'),
    [],
    'the queue_log line is written once, by the worker that made the change',
  );
  w0.stop();
  w1.stop();
});
