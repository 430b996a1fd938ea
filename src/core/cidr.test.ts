import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, parseCidr, parseIpv4, parseIpv6 } from './cidr.js';

test('IPv4 text to integer without splitting', () => {
  assert.equal(parseIpv4('10.0.0.1'), 0x0a000001);
  assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.0.0', '10.0.0.256', '1.2.3.4.5', 'a.b.c.d', '1..2.3', '']) assert.equal(parseIpv4(bad), -1, bad);
});

test('IPv6 text to four words, with :: and an embedded IPv4', () => {
  const w = new Uint32Array(4);
  assert.ok(parseIpv6('2001:db8::1', w));
  assert.deepEqual([...w], [0x20010db8, 0, 0, 1]);
  assert.ok(parseIpv6('::ffff:192.0.2.1', w));
  assert.deepEqual([...w], [0, 0, 0xffff, 0xc0000201]);
  assert.ok(parseIpv6('::', w));
  assert.deepEqual([...w], [0, 0, 0, 0]);
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', ':1:2']) assert.equal(parseIpv6(bad, w), false, bad);
});

test('CIDR parsing rejects bad prefixes', () => {
  assert.equal(typeof parseCidr('10.0.0.0/33'), 'string');
  assert.equal(typeof parseCidr('::/129'), 'string');
  assert.equal(typeof parseCidr('10.0.0.0/x'), 'string');
  assert.equal(typeof parseCidr('example.org'), 'string');
  const c = parseCidr('192.168.1.77/24');
  assert.ok(typeof c !== 'string' && c.family === 4 && c.net[0] === 0xc0a80100);
});

test('CidrSet matches IPv4, IPv6 and IPv4-mapped addresses', () => {
  const s = CidrSet.parse(['192.168.10.0/24', '10.0.0.0/8', '2001:db8:1::/48', '203.0.113.7']);
  assert.ok(s.has('192.168.10.200'));
  assert.ok(!s.has('192.168.11.1'));
  assert.ok(s.has('10.255.0.1'));
  assert.ok(s.has('::ffff:10.1.2.3'), 'dual-stack sockets report IPv4 peers this way');
  assert.ok(s.has('2001:db8:1:ffff::5'));
  assert.ok(!s.has('2001:db8:2::5'));
  assert.ok(s.has('203.0.113.7'));
  assert.ok(!s.has('203.0.113.8'));
  assert.ok(!s.has('not an address'));
  assert.ok(CidrSet.parse(['0.0.0.0/0']).has('8.8.8.8'));
  assert.ok(CidrSet.parse(['::/0']).has('2a00::1'));
  assert.ok(CidrSet.parse(['::ffff:10.0.0.0/104']).has('10.9.9.9'), 'a mapped prefix is matched as IPv4');
});

test('CidrSet: single hosts and prefixes side by side (the IDS trusted list); an invalid entry is refused', () => {
  const l = CidrSet.parse(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']);
  assert.ok(l.has('192.0.2.200'));
  assert.ok(l.has('::ffff:192.0.2.1'));
  assert.ok(l.has('198.51.100.7'));
  assert.ok(!l.has('198.51.100.8'));
  assert.ok(l.has('2001:db8:1::5'));
  assert.ok(!l.has('2001:db9::1'));
  assert.throws(() => CidrSet.parse(['300.1.1.1/8']), /"300\.1\.1\.1\/8" is not an IPv4 or IPv6 address/);
  assert.ok(CidrSet.parse(['127.0.0.1', '::1']).has('::1'), 'the default trusted list');
  assert.ok(CidrSet.parse(['fe80::1']).has('fe80::1%eth0'), 'a zone id is not part of the address');
});

test('matching is fast (no string parsing beyond one scan per check)', () => {
  const cidrs = Array.from({ length: 50 }, (_, i) => `10.${i}.0.0/16`);
  const s = CidrSet.parse(cidrs);
  const t0 = process.hrtime.bigint();
  let hits = 0;
  for (let i = 0; i < 200_000; i++) if (s.has(i & 1 ? '10.49.3.4' : '192.0.2.1')) hits++;
  const us = Number(process.hrtime.bigint() - t0) / 1000 / 200_000;
  assert.equal(hits, 100_000);
  assert.ok(us < 50, `${us} µs per match`); // ~0.1 µs idle; the bound leaves room for a loaded machine
});
