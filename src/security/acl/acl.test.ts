import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl } from './acl.js';

test('ACL: deny wins over permit; a permit list denies everything else; deny-only permits the rest', () => {
  const acl = new Acl({ permit: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] });
  assert.ok(acl.allows('10.1.1.1'));
  assert.ok(!acl.allows('10.6.6.6'), 'deny wins');
  assert.ok(!acl.allows('192.0.2.1'), 'not permitted');
  const denyOnly = new Acl({ permit: [], deny: ['198.51.100.0/24'] });
  assert.ok(denyOnly.allows('192.0.2.1'));
  assert.ok(!denyOnly.allows('198.51.100.9'));
  assert.ok(new Acl({ permit: [], deny: [] }).open);
});
