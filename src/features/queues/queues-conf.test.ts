// queues.conf as Asterisk administrators write it: templates, members with
// penalties and names, join/leave-when-empty lists; every problem with
// file:line:col and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueuesConf, parseEmpty } from './queues-conf.js';

const SAMPLE = `; a call centre
[general]
persistentmembers = yes

[standard](!)
strategy = rrmemory
timeout = 20
retry = 3
wrapuptime = 10
musicclass = default
announce-frequency = 30
announce-holdtime = once
joinempty = paused,unavailable
leavewhenempty = strict

[support](standard)
member => PJSIP/1001
member => SIP/1002,2,Bob Smith
member => PJSIP/1003,0,,,no,5

[sales]
strategy = wrandom
member => PJSIP/2001,1
`;

test('templates, members and settings are read as Asterisk reads them', () => {
  const r = parseQueuesConf(SAMPLE, 'queues.conf');
  assert.deepEqual(r.issues, []);
  assert.equal(r.general.persistentmembers, true);
  assert.deepEqual(
    r.queues.map((q) => q.name),
    ['support', 'sales'],
    'a template (!) is not a queue',
  );
  const s = r.queues[0]!;
  assert.equal(s.strategy, 'rrmemory');
  assert.equal(s.timeoutSec, 20);
  assert.equal(s.retrySec, 3);
  assert.equal(s.wrapupSec, 10);
  assert.equal(s.announceFrequency, 30);
  assert.equal(s.announceHoldtime, 'once');
  assert.deepEqual([...s.joinempty].sort(), ['paused', 'unavailable']);
  assert.deepEqual([...s.leavewhenempty].sort(), ['invalid', 'paused', 'penalty', 'unavailable']);
  assert.deepEqual(
    s.members.map((m) => [m.iface, m.penalty, m.name, m.ringinuse, m.wrapupSec]),
    [
      ['PJSIP/1001', 0, 'PJSIP/1001', null, null],
      ['SIP/1002', 2, 'Bob Smith', null, null],
      ['PJSIP/1003', 0, 'PJSIP/1003', false, 5],
    ],
  );
  const sales = r.queues[1]!;
  assert.equal(sales.strategy, 'wrandom');
  assert.equal(sales.timeoutSec, 15, "Asterisk's default ring timeout");
  assert.equal(sales.ringinuse, false, 'Palisade does not ring members on a call unless told to');
});

test('every mistake is reported with file:line:col and what is expected', () => {
  const r = parseQueuesConf(
    [
      '[support]',
      'strategy = roundrobin',
      'timeout = soon',
      'member => 1001',
      'membr => PJSIP/1002',
      'wrapuptme = 5',
      '[sales](nosuch)',
      'joinempty = maybe',
      'member => PJSIP/2001,x',
      'orphan line',
      '[support]',
    ].join('\n'),
    'queues.conf',
  );
  const at = r.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
  assert.match(at[0]!, /^2:12: strategy = roundrobin: strategy "roundrobin" is unknown; expected one of ringall, leastrecent/);
  assert.match(at[1]!, /^3:11: timeout = soon: expected a whole number/);
  assert.match(at[2]!, /^4:11: member "1001" is not an interface; expected Tech\/resource such as PJSIP\/1001/);
  assert.match(at[3]!, /^5:1: membr is not a queues.conf setting Palisade supports/);
  assert.match(at[4]!, /^6:1: wrapuptme is not a queues.conf setting .*\(did you mean wrapuptime\?\)/);
  assert.match(at[5]!, /^7:1: template "nosuch" is not defined above/);
  assert.match(at[6]!, /^8:13: joinempty = maybe: "maybe" is not a condition/);
  assert.match(at[7]!, /^9:11: penalty "x" must be a whole number/);
  assert.match(at[8]!, /^10:1: "orphan line" is not a setting/);
  assert.match(at[9]!, /^11:1: queue support is already defined on line 1/);
  assert.equal(r.issues.length, 10);
  assert.ok(r.issues.every((i) => i.file === 'queues.conf'));
});

test('joinempty / leavewhenempty keep app_queue.c parse_empty_options meanings', () => {
  assert.deepEqual([...(parseEmpty('yes', true) as Set<string>)], []);
  assert.deepEqual([...(parseEmpty('no', true) as Set<string>)].sort(), ['invalid', 'paused', 'penalty']);
  assert.deepEqual([...(parseEmpty('yes', false) as Set<string>)].sort(), ['invalid', 'paused', 'penalty']);
  assert.deepEqual([...(parseEmpty('loose', true) as Set<string>)].sort(), ['invalid', 'penalty']);
  assert.equal(typeof parseEmpty('sometimes', true), 'string');
});
