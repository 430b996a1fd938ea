import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable } from './table.js';

test('formatTable pads each column to its widest cell, two spaces apart, without trailing blanks', () => {
  const rows = [
    { address: '192.0.2.7', expires_in: 3600, reason: 'scan' },
    { address: '2001:db8::1', expires_in: 12, reason: null },
  ];
  assert.equal(formatTable(rows, 'no bans'), ['address      expires_in  reason', '192.0.2.7    3600        scan', '2001:db8::1  12'].join('\n') + '\n');
  assert.equal(formatTable(rows, 'no bans', ['reason', 'address']), ['reason  address', 'scan    192.0.2.7', '        2001:db8::1'].join('\n') + '\n');
  assert.equal(formatTable([], 'no bans'), 'no bans\n');
});
