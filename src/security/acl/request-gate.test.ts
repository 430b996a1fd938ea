import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../sip-message/parser.js';
import type { SipMessage } from '../../sip-message/sip-message.js';
import { Acl } from './acl.js';
import { CidrSet } from '../../core/cidr.js';
import { RequestGate } from './request-gate.js';
import { ReputationService } from '../reputation/reputation-service.js';
import type { SecurityEvent } from '../../core/security-event.js';

function msg(method: string, from: string, to: string, toTag = ''): SipMessage {
  const text = [
    `${method} sip:${to}@pbx.example.org SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1',
    'Max-Forwards: 70',
    `From: <sip:${from}@pbx.example.org>;tag=a1`,
    `To: <sip:${to}@pbx.example.org>${toTag ? ';tag=' + toTag : ''}`,
    'Call-ID: c1',
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok);
  return r.msg;
}

function gate(o: { acl?: Acl; callFrom?: Record<string, string[]> } = {}) {
  const events: SecurityEvent[] = [];
  const reputation = new ReputationService();
  const g = new RequestGate({
    acl: o.acl ?? new Acl({ permit: [], deny: [] }),
    localNetworks: CidrSet.parse(['10.0.0.0/8']),
    reputationExempt: CidrSet.parse(['127.0.0.0/8']),
    reputation,
    isEmergency: (n) => n === '112',
    isExtension: (n) => n === '1001' || n === '1002',
    callFromPermits: (n, a) => (o.callFrom?.[n] ? CidrSet.parse(o.callFrom[n]!).has(a) : false),
    isRegisteredAddress: (a) => a === '10.7.7.7',
    sink: { emit: (e) => events.push(e) },
  });
  return { g, events, reputation };
}
const at = (address: string) => ({ address, port: 5060, transport: 'udp' as const });

test('a call claiming an internal user from outside is refused and counted; an unknown From gets the very same answer', () => {
  const { g, events, reputation } = gate();
  const known = g.check(msg('INVITE', '1001', '1002'), at('203.0.113.5'));
  const unknown = g.check(msg('INVITE', '4711', '1002'), at('203.0.113.6'));
  assert.deepEqual({ ...known, rule: '' }, { ...unknown, rule: '' });
  assert.equal(known?.status, 403);
  assert.deepEqual(
    events.map((e) => e.detail),
    ['internal-user-from-outside', 'invite-from-outside'],
  );
  assert.equal(reputation.score('ip:203.0.113.5'), 4);
  assert.equal(g.check(msg('INVITE', '1001', '1002'), at('10.1.2.3')), null, 'inside is fine');
  assert.equal(g.check(msg('REGISTER', '1001', '1001'), at('198.51.100.1')), null, "registering from outside is the registrar's (register_from) business");
});

test('call_from lets an extension call from outside; emergency calls are never refused for reputation or origin', () => {
  const { g, reputation } = gate({ callFrom: { '1001': ['198.51.100.0/24'] } });
  assert.equal(g.check(msg('INVITE', '1001', '1002'), at('198.51.100.9')), null);
  reputation.bad('ip:203.0.113.9');
  assert.equal(g.check(msg('INVITE', '1002', '112'), at('203.0.113.9')), null);
  assert.equal(g.check(msg('INVITE', '1002', '1001'), at('203.0.113.9'))?.rule, 'reputation');
});

test('an address under 5 is refused out of dialog, but in-dialog requests still reach their call; loopback and registered addresses are exempt', () => {
  const { g, reputation } = gate();
  reputation.authFailed('10.9.9.9');
  assert.equal(g.check(msg('REGISTER', '1001', '1001'), at('10.9.9.9'))?.rule, 'reputation');
  assert.equal(g.check(msg('BYE', '1001', '1002', 'x'), at('10.9.9.9')), null);
  reputation.authFailed('127.0.0.1');
  assert.equal(g.check(msg('REGISTER', '1001', '1001'), at('127.0.0.1')), null);
  // an address with registered phones (an office NAT) is left to the IDS's registered-address threshold
  reputation.authFailed('10.7.7.7');
  reputation.authFailed('10.7.7.7');
  assert.equal(g.check(msg('REGISTER', '1001', '1001'), at('10.7.7.7')), null);
});

test('the global ACL applies to every request, with a FailedACL event', () => {
  const { g, events } = gate({ acl: new Acl({ permit: ['10.0.0.0/8'], deny: ['10.6.0.0/16'] }) });
  assert.equal(g.check(msg('OPTIONS', '1001', '1002'), at('10.6.1.1'))?.rule, 'acl');
  assert.equal(g.check(msg('BYE', '1001', '1002', 't'), at('192.0.2.1'))?.rule, 'acl');
  assert.equal(g.check(msg('OPTIONS', '1001', '1002'), at('10.1.1.1')), null);
  assert.equal(events[0]?.type, 'FailedACL');
});

test('the whole request gate costs microseconds', () => {
  const { g } = gate({ acl: new Acl({ permit: ['10.0.0.0/8'], deny: [] }) });
  const m = msg('INVITE', '1001', '1002');
  g.check(m, at('10.1.1.1'));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) g.check(m, at('10.1.1.1'));
  const us = Number(process.hrtime.bigint() - t0) / 1000 / 100_000;
  assert.ok(us < 50, `${us} µs per request`); // docs/architecture.md, Security rules: under 50 µs per decision
});
