import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byKey, isLockConflict, LOCK_TRIES, withLockRetry } from './lock-retry.js';

const pgDeadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
const mysqlDeadlock = Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });

test('deadlocks and serialization failures of PostgreSQL and MySQL/MariaDB are lock conflicts; other errors are not', () => {
  assert.equal(isLockConflict(pgDeadlock), true);
  assert.equal(isLockConflict({ code: '40001' }), true);
  assert.equal(isLockConflict(mysqlDeadlock), true);
  assert.equal(isLockConflict({ errno: 1205 }), true);
  assert.equal(isLockConflict(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
  assert.equal(isLockConflict(new Error('connection refused')), false);
  assert.equal(isLockConflict(null), false);
});

test('a write that loses a lock conflict is tried again until it commits', async () => {
  let n = 0;
  const r = await withLockRetry(async () => {
    n++;
    if (n < 3) throw n === 1 ? pgDeadlock : mysqlDeadlock;
    return 'committed';
  });
  assert.equal(r, 'committed');
  assert.equal(n, 3);
});

test('any other error is not retried, and a conflict that persists gives up after LOCK_TRIES', async () => {
  let n = 0;
  await assert.rejects(
    withLockRetry(async () => {
      n++;
      throw new Error('syntax error');
    }),
    /syntax error/,
  );
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(
    withLockRetry(async () => {
      n++;
      throw pgDeadlock;
    }),
    /deadlock/,
  );
  assert.equal(n, LOCK_TRIES);
});

test('byKey orders rows by their key, as every writer takes its locks', () => {
  const rows = [{ k: 'b' }, { k: 'a' }, { k: 'c' }, { k: 'a' }];
  assert.deepEqual(
    rows.sort(byKey((r) => r.k)).map((r) => r.k),
    ['a', 'a', 'b', 'c'],
  );
});
