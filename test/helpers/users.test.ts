import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchSecret, makeUsers, palisadeCsv, sippCsv, strongSecret } from './users.js';

test('strongSecret is long, CSV/SIPp-safe and never contains the number', () => {
  for (let i = 0; i < 2000; i++) {
    const n = String(1000 + (i % 50));
    const s = strongSecret(n);
    assert.ok(s.length >= 12, s);
    assert.ok(!s.includes(n), s);
    assert.match(s, /^[A-Za-z0-9_-]+$/);
  }
});

test('benchSecret matches the scheme Kamailio derives in bench/kamailio/kamailio.cfg', () => {
  // md5("1000") = a9b7ba70783b617e9998dc4dd82eb3c5, digits mapped to g..p;
  // the value Kamailio accepted in a REGISTER.
  assert.equal(benchSecret('1000'), 'Bk-apbnbangnojbmhnepppodckddoiebjcl');
  for (let n = 1000; n < 2000; n++) assert.doesNotMatch(benchSecret(String(n)), /\d/);
});

test('the Palisade CSV and the SIPp injection file carry the same secrets', () => {
  const users = makeUsers(3, { first: 2000 });
  const pal = palisadeCsv(users).trim().split('\n');
  assert.deepEqual(
    pal.map((l) => l.split(',')[0]),
    ['2000', '2001', '2002'],
  );
  const sipp = sippCsv(users, { peers: ['3000'] })
    .trim()
    .split('\n');
  assert.equal(sipp[0], 'SEQUENTIAL');
  users.forEach((u, i) => {
    assert.equal(pal[i], `${u.number},${u.secret},Test ${u.number}`);
    assert.equal(sipp[i + 1], `${u.number};[authentication username=${u.number} password=${u.secret}];3000`);
  });
  const wrong = sippCsv(users, { wrongPassword: true }).trim().split('\n').slice(1);
  wrong.forEach((l, i) => {
    assert.ok(!l.includes(`password=${users[i].secret}]`));
    assert.equal(l.split(';').length, 2);
  });
});
